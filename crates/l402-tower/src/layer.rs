//! The tower `Layer` and `Service`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http::{Request, Response};
use http_body_util::{Either, Full};
use l402_core::token_status::TOKEN_STATUS_HEADER;
use l402_mpp::session::SessionError;
use tower::{Layer, Service};

use crate::forwarded::{strip_credential, strip_spoofed_headers};
use crate::mpp::MppVerdict;
use crate::offer::Pricer;
use crate::outcome::{Outcome, PaywallDecision};
use crate::paywall::{Paywall, Verdict};
use crate::response::{
    ChallengeError, Refusal, is_grpc, payment_required, rate_limited, too_many_unpaid, unavailable,
};
use crate::session_flow;

/// `L402-Token`, on paid responses.
const TOKEN_STATUS: HeaderName = HeaderName::from_static(TOKEN_STATUS_HEADER);
/// `Payment-Receipt`, on responses paid with the `Payment` scheme.
const PAYMENT_RECEIPT: HeaderName = HeaderName::from_static(l402_mpp::RECEIPT_HEADER);

/// The response body: the paywall's own small bodies, or the inner service's.
pub type ResponseBody<B> = Either<Full<Bytes>, B>;

/// Guards the inner service with the L402 paywall.
#[derive(Clone)]
pub struct L402Layer {
    paywall: Arc<Paywall>,
    pricer: Arc<dyn Pricer>,
}

impl std::fmt::Debug for L402Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L402Layer")
            .field("paywall", &self.paywall)
            .finish_non_exhaustive()
    }
}

impl L402Layer {
    /// A layer pricing requests with `pricer`.
    pub fn new(paywall: Arc<Paywall>, pricer: impl Pricer) -> Self {
        Self {
            paywall,
            pricer: Arc::new(pricer),
        }
    }
}

impl<S> Layer<S> for L402Layer {
    type Service = L402Service<S>;
    fn layer(&self, inner: S) -> Self::Service {
        L402Service {
            inner,
            paywall: self.paywall.clone(),
            pricer: self.pricer.clone(),
        }
    }
}

/// The guarded service. A verified token reaches the inner service as a
/// [`l402_core::verify::VerifiedToken`] request extension and as `X-L402-*` headers, with its
/// [`TokenLease`](crate::TokenLease) as another extension; the paid response gets an
/// `L402-Token` header telling the holder what the token has left
/// ([`l402_core::token_status`]).
#[derive(Clone)]
pub struct L402Service<S> {
    inner: S,
    paywall: Arc<Paywall>,
    pricer: Arc<dyn Pricer>,
}

impl<S> std::fmt::Debug for L402Service<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L402Service")
            .field("paywall", &self.paywall)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for L402Service<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (mut parts, body) = request.into_parts();
        strip_spoofed_headers(&mut parts.headers);
        let Some(offer) = self.pricer.offer(&parts) else {
            let future = inner.call(Request::from_parts(parts, body));
            return Box::pin(async move { future.await.map(|r| r.map(Either::Right)) });
        };
        let started = std::time::Instant::now();
        let mpp = self.paywall.authorize_mpp(&parts, &offer);
        let verdict = match mpp {
            // Counted against the client, as an unpaid request would be.
            Some(_) => Verdict::Free,
            None => self.paywall.authorize(&parts, &offer),
        };
        let admitted = self.paywall.admit_request(&offer, &verdict);
        let decided = |outcome| PaywallDecision {
            outcome,
            took: started.elapsed(),
        };
        if let Err(retry_after) = admitted {
            tracing::info!(service = %offer.service, client = ?offer.client_ip, retry_after, "rate limited");
            let mut response = rate_limited(is_grpc(&parts), retry_after);
            response
                .extensions_mut()
                .insert(decided(Outcome::RateLimited));
            return Box::pin(async move { Ok(response.map(Either::Left)) });
        }
        let paywall = self.paywall.clone();
        let grpc = is_grpc(&parts);
        // A client whose `Accept-Payment` refuses `lightning/charge` (q=0) is not offered it
        // when L402 is offered too: no invoice minted in vain.
        let mut offer = offer;
        if offer.protocols.l402 && offer.protocols.mpp && refuses_charge(&parts) {
            offer.protocols.mpp = false;
        }
        let reason = match (mpp, verdict) {
            (Some(MppVerdict::Verified(charge)), _) => {
                let took = started.elapsed();
                return Box::pin(async move {
                    let refusal = match paywall.consume(&offer, &charge).await {
                        Ok(true) => {
                            return serve_charge(
                                inner, parts, body, &paywall, &offer, &charge, took,
                            )
                            .await;
                        }
                        Ok(false) => Refusal::Mpp {
                            error: SessionError::Challenge(l402_mpp::ChargeError::Replayed),
                            challenge_id: Some(charge.challenge_id.clone()),
                        },
                        Err(error) => {
                            tracing::warn!(service = %offer.service, %error, "cannot record a Payment credential");
                            return Ok(unavailable_tagged(&paywall, grpc, took));
                        }
                    };
                    Ok(challenge(&paywall, &offer, grpc, refusal, took).await)
                });
            }
            (Some(MppVerdict::Session(verified)), _) => {
                let took = started.elapsed();
                let (Some(metering), Some(ledger)) =
                    (offer.metering.clone(), paywall.sessions().cloned())
                else {
                    // `authorize_mpp` verifies sessions only for metered offers, and `challenges`
                    // sells those only with a ledger.
                    return Box::pin(async move { Ok(unavailable_tagged(&paywall, grpc, took)) });
                };
                if !offer.forward_credential {
                    strip_credential(&mut parts.headers);
                }
                return Box::pin(async move {
                    let challenge_id = verified.challenge_id.clone();
                    let step =
                        session_flow::session_step(&paywall, &ledger, &offer, &metering, verified)
                            .await;
                    let receipt = l402_mpp::Receipt::lightning_session(
                        l402_mpp::time::format(paywall.now_unix()),
                        String::new(),
                        Some(challenge_id),
                    );
                    finish(
                        inner,
                        parts,
                        body,
                        &paywall,
                        &offer,
                        grpc,
                        step,
                        Paid::Session(receipt),
                        took,
                    )
                    .await
                });
            }
            (
                Some(MppVerdict::Refused {
                    error,
                    challenge_id,
                }),
                _,
            ) => Refusal::Mpp {
                error,
                challenge_id,
            },
            (None, Verdict::Free) => {
                let decision = decided(Outcome::Free);
                let future = inner.call(Request::from_parts(parts, body));
                return Box::pin(async move { future.await.map(|r| tagged(r, decision)) });
            }
            (None, Verdict::Paid(verified)) => {
                if !offer.forward_credential {
                    strip_credential(&mut parts.headers);
                }
                for (name, value) in &verified.headers {
                    parts.headers.append(name.clone(), value.clone());
                }
                parts.extensions.insert(verified.token.clone());
                parts.extensions.insert(self.paywall.lease(&verified.token));
                if let (Some(metering), Some(ledger)) =
                    (offer.metering.clone(), self.paywall.sessions().cloned())
                {
                    let took = started.elapsed();
                    return Box::pin(async move {
                        let token = &verified.token;
                        let deposit = session_flow::token_deposit(token, &offer);
                        let step = session_flow::reserve(
                            &ledger,
                            &offer,
                            &metering,
                            token.identifier.payment_hash,
                            Some(deposit),
                        )
                        .await;
                        let status = paywall.token_status(&verified);
                        finish(
                            inner,
                            parts,
                            body,
                            &paywall,
                            &offer,
                            grpc,
                            step,
                            Paid::Token(status),
                            took,
                        )
                        .await
                    });
                }
                let status = self.paywall.token_status(&verified);
                let decision = decided(Outcome::Paid);
                let future = inner.call(Request::from_parts(parts, body));
                return Box::pin(async move {
                    future.await.map(|mut r| {
                        // Ours, replacing any the upstream set.
                        r.headers_mut().insert(TOKEN_STATUS, status);
                        tagged(r, decision)
                    })
                });
            }
            (None, Verdict::Challenge(reason)) => Refusal::L402(reason),
        };
        let took = started.elapsed();
        Box::pin(async move { Ok(challenge(&paywall, &offer, grpc, reason, took).await) })
    }
}

/// Serves a request paid with a consumed `Payment` credential: the upstream sees
/// `X-L402-Service` and `X-L402-Payment-Hash` (not the credential, unless forwarded), the
/// answer carries `Payment-Receipt` and `Cache-Control: private`.
async fn serve_charge<S, ReqBody, ResBody>(
    mut inner: S,
    mut parts: http::request::Parts,
    body: ReqBody,
    paywall: &Paywall,
    offer: &crate::Offer,
    charge: &l402_mpp::VerifiedCharge,
    took: std::time::Duration,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    if !offer.forward_credential {
        strip_credential(&mut parts.headers);
    }
    let hash = charge.payment_hash.to_hex();
    for (name, value) in [
        (crate::HEADER_SERVICE, &*offer.service),
        (crate::HEADER_PAYMENT_HASH, hash.as_str()),
    ] {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            parts.headers.insert(name, v);
        }
    }
    parts.extensions.insert(charge.clone());
    let receipt = l402_mpp::Receipt::lightning_charge(
        l402_mpp::time::format(paywall.now_unix()),
        hash,
        charge.challenge_id.clone(),
    );
    let decision = PaywallDecision {
        outcome: Outcome::Paid,
        took,
    };
    let mut response = inner.call(Request::from_parts(parts, body)).await?;
    let headers = response.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(&receipt.to_header()) {
        headers.insert(PAYMENT_RECEIPT, v);
    }
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("private"),
    );
    Ok(tagged(response, decision))
}

/// What paid for a metered request, for its answer's headers.
enum Paid {
    /// A `Payment` session: its receipt (the reference is filled in with the session id).
    Session(l402_mpp::Receipt),
    /// An L402 token: its `L402-Token` status (the balance is appended).
    Token(HeaderValue),
}

/// Answers a metered request after its session step: forwards it with its reservation, or
/// answers with the paywall's own response, fresh challenges or 503.
#[allow(clippy::too_many_arguments)]
async fn finish<S, ReqBody, ResBody>(
    inner: S,
    parts: http::request::Parts,
    body: ReqBody,
    paywall: &Paywall,
    offer: &crate::Offer,
    grpc: bool,
    step: session_flow::Step,
    paid: Paid,
    took: std::time::Duration,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    match step {
        session_flow::Step::Serve(reservation, balance) => {
            let extra = match paid {
                Paid::Session(mut receipt) => {
                    receipt.reference = reservation.session_id.to_hex();
                    HeaderValue::from_str(&receipt.to_header())
                        .map(|v| (PAYMENT_RECEIPT, v))
                        .ok()
                }
                Paid::Token(status) => {
                    let mut value = status.as_bytes().to_vec();
                    value.extend_from_slice(format!(", balance_msat={}", balance.0).as_bytes());
                    HeaderValue::from_bytes(&value)
                        .ok()
                        .map(|v| (TOKEN_STATUS, v))
                }
            };
            let decision = PaywallDecision {
                outcome: Outcome::Paid,
                took,
            };
            session_flow::serve_reserved(
                inner,
                Request::from_parts(parts, body),
                reservation,
                balance,
                extra.into_iter().collect(),
                decision,
            )
            .await
        }
        session_flow::Step::Answer(response) => Ok(session_flow::answered(response, took)),
        session_flow::Step::Refuse(reason) => {
            Ok(challenge(paywall, offer, grpc, reason, took).await)
        }
        session_flow::Step::Unavailable => Ok(unavailable_tagged(paywall, grpc, took)),
    }
}

/// 503 with `Retry-After`, tagged `Unavailable`.
fn unavailable_tagged<B>(
    paywall: &Paywall,
    grpc: bool,
    took: std::time::Duration,
) -> Response<ResponseBody<B>> {
    let mut response = unavailable(grpc, paywall.settings().retry_after_secs);
    response.extensions_mut().insert(PaywallDecision {
        outcome: Outcome::Unavailable,
        took,
    });
    response.map(Either::Left)
}

/// Mints every challenge the offer sells and answers with them (or 429 / 503).
async fn challenge<B>(
    paywall: &Paywall,
    offer: &crate::Offer,
    grpc: bool,
    reason: Refusal,
    took: std::time::Duration,
) -> Response<ResponseBody<B>> {
    let (mut response, outcome) = match paywall.challenges(offer).await {
        Ok(challenges) => {
            tracing::debug!(service = %offer.service, reason = reason.reason_code(), "payment required");
            let mut response = payment_required(grpc, offer, &challenges, &reason);
            if let Some(link) = &paywall.settings().manifest_link {
                response
                    .headers_mut()
                    .insert(http::header::LINK, link.clone());
            }
            (response, Outcome::Challenged)
        }
        Err(ChallengeError::TooManyUnpaid(retry_after)) => {
            tracing::info!(service = %offer.service, client = ?offer.client_ip, retry_after, "too many unpaid challenges");
            (too_many_unpaid(grpc, retry_after), Outcome::TooManyUnpaid)
        }
        Err(error) => {
            tracing::warn!(service = %offer.service, %error, "cannot mint a challenge");
            (
                unavailable(grpc, paywall.settings().retry_after_secs),
                Outcome::Unavailable,
            )
        }
    };
    response
        .extensions_mut()
        .insert(PaywallDecision { outcome, took });
    response.map(Either::Left)
}

/// Whether the request's `Accept-Payment` gives `lightning/charge` weight 0.
fn refuses_charge(parts: &http::request::Parts) -> bool {
    let ranges: Vec<_> = parts
        .headers
        .get_all(l402_mpp::ACCEPT_PAYMENT_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(l402_mpp::accept::parse)
        .collect();
    !ranges.is_empty()
        && l402_mpp::accept::weight(&ranges, l402_mpp::METHOD_LIGHTNING, l402_mpp::INTENT_CHARGE)
            == 0.0
}

/// The inner service's response, tagged with the paywall's decision.
fn tagged<B>(mut response: Response<B>, decision: PaywallDecision) -> Response<ResponseBody<B>> {
    response.extensions_mut().insert(decision);
    response.map(Either::Right)
}
