//! The tower service selling an MCP service's priced tool calls.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER,
    TRANSFER_ENCODING,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Limited};
use l402_core::Msat;
use l402_mpp::mcp;
use l402_server::{Body, BoxError, ClientIp, RouteDecision};
use l402_tower::{CallCharge, ChallengeError, Offer, Outcome, Paywall, PaywallDecision, Verdict};
use serde_json::{Value, json};

use super::answer::{Edit, EventEditor};
use super::body::EditedEvents;
use super::rpc::{self, Inspected, PricedCall};
use super::{MAX_ANSWER_BYTES, MAX_REQUEST_BYTES, tool_scope};
use crate::config::ServiceTerms;
use crate::pricing::{PriceTable, RoutePrice};

/// How long the proxy waits for a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The answer: the upstream's body untouched, or one the layer made or edited.
pub(crate) type McpBody<B> = Either<B, Body>;

type Answer<B, E> = Result<Response<McpBody<B>>, E>;

/// See [`McpToolsLayer`](super::McpToolsLayer).
#[derive(Clone)]
pub(crate) struct McpToolsService<S> {
    inner: S,
    paywall: Arc<Paywall>,
    table: Arc<PriceTable>,
}

impl<S> McpToolsService<S> {
    pub(super) fn new(inner: S, paywall: Arc<Paywall>, table: Arc<PriceTable>) -> Self {
        Self {
            inner,
            paywall,
            table,
        }
    }

    /// Whether the request is for an MCP service.
    fn for_mcp(&self, request: &Request<Body>) -> bool {
        request
            .extensions()
            .get::<RouteDecision>()
            .and_then(|d| self.table.terms(d.service_index))
            .is_some_and(|t| t.mcp)
    }
}

pin_project_lite::pin_project! {
    /// The service's future: the inner one as it is (not an MCP `POST`), or the layer's.
    #[project = McpFutureProj]
    pub(crate) enum McpFuture<F, B, E> {
        Pass { #[pin] inner: F },
        Own { inner: Pin<Box<dyn Future<Output = Answer<B, E>> + Send>> },
    }
}

impl<F, B, E> Future for McpFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Answer<B, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            McpFutureProj::Pass { inner } => inner.poll(cx).map_ok(|r| r.map(Either::Left)),
            McpFutureProj::Own { inner } => inner.as_mut().poll(cx),
        }
    }
}

impl<S, B> tower::Service<Request<Body>> for McpToolsService<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<McpBody<B>>;
    type Error = S::Error;
    type Future = McpFuture<S::Future, B, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // Streamable HTTP uses POST (messages), GET (the server's stream) and DELETE (the end of
        // a session), and browsers send OPTIONS; any other method could carry a body the layer
        // does not read.
        let passes = [Method::GET, Method::DELETE, Method::OPTIONS].contains(request.method());
        if passes || !self.for_mcp(&request) {
            return McpFuture::Pass {
                inner: self.inner.call(request),
            };
        }
        if request.method() != Method::POST {
            let mut refused = Response::new(Either::Right(Body::full(
                "an MCP endpoint takes POST, GET, DELETE and OPTIONS only\n",
            )));
            *refused.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            refused.headers_mut().insert(
                ALLOW,
                HeaderValue::from_static("POST, GET, DELETE, OPTIONS"),
            );
            return McpFuture::Own {
                inner: Box::pin(std::future::ready(Ok(refused))),
            };
        }
        let clone = self.inner.clone();
        let call = Call {
            inner: std::mem::replace(&mut self.inner, clone),
            own: Own {
                paywall: self.paywall.clone(),
                started: Instant::now(),
            },
        };
        let table = self.table.clone();
        McpFuture::Own {
            inner: Box::pin(async move { call.handle(&table, request).await }),
        }
    }
}

/// One MCP `POST` being handled.
struct Call<S> {
    inner: S,
    own: Own,
}

/// The layer's own answers to one `POST` (the paywall, and when handling started).
struct Own {
    paywall: Arc<Paywall>,
    started: Instant,
}

impl<S, B> Call<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    async fn handle(mut self, table: &PriceTable, request: Request<Body>) -> Answer<B, S::Error> {
        let (parts, body) = request.into_parts();
        let Some((decision, terms)) = parts
            .extensions
            .get::<RouteDecision>()
            .and_then(|d| Some((d.clone(), table.terms(d.service_index)?)))
        else {
            unreachable!("`for_mcp` checked the route decision")
        };
        if parts
            .headers
            .get(CONTENT_ENCODING)
            .is_some_and(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"))
        {
            return Ok(self.own.answer(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                rpc::error(
                    &Value::Null,
                    rpc::INVALID_REQUEST,
                    "send MCP messages without Content-Encoding",
                    None,
                ),
                None,
            ));
        }
        let bytes = match read_body(body).await {
            Ok(b) => b,
            Err((status, why)) => {
                let answer = rpc::error(&Value::Null, rpc::INVALID_REQUEST, why, None);
                return Ok(self.own.answer(status, answer, None));
            }
        };
        match rpc::inspect(&bytes, |tool| terms.tool_price(tool).0) {
            Inspected::Forward(body) => self.forward(parts, body, None).await,
            Inspected::Initialize(body, id) => {
                self.forward(parts, body, Some((Edit::AdvertisePayment, id)))
                    .await
            }
            Inspected::Refused(answer) => {
                Ok(self.own.answer(StatusCode::BAD_REQUEST, answer, None))
            }
            Inspected::Priced(call) => {
                let service = decision.service.name.clone();
                let client = parts.extensions.get::<ClientIp>().map(|c| c.0);
                let offer = tool_offer(&service, terms, &call, client, table, &decision);
                self.priced(parts, terms, call, offer).await
            }
        }
    }

    /// A priced call: challenged, refused or served.
    async fn priced(
        mut self,
        mut parts: http::request::Parts,
        terms: &ServiceTerms,
        call: PricedCall,
        offer: Offer,
    ) -> Answer<B, S::Error> {
        if let Err(retry_after) = self.own.paywall.admit_request(&offer, &Verdict::Free) {
            return Ok(self.own.busy(&call.id, retry_after, Outcome::RateLimited));
        }
        let scope = tool_scope(&offer.service, &call.tool);
        let description = terms
            .tool_price(&call.tool)
            .1
            .and_then(|t| t.description.clone());
        let charge = CallCharge {
            scope: &scope,
            description: description.as_deref(),
        };
        let Some(credential) = &call.credential else {
            return Ok(self.own.challenge(&offer, &charge, &call.id, None).await);
        };
        let credential = match mcp::credential_from_json(credential) {
            Ok(c) => c,
            Err(e) => {
                let why = format!("unreadable payment credential: {e}");
                let answer = rpc::error(&call.id, rpc::INVALID_PARAMS, &why, None);
                return Ok(self
                    .own
                    .answer(StatusCode::OK, answer, Some(Outcome::Challenged)));
            }
        };
        let verified = match self.own.paywall.verify_call(&credential, &offer, &scope) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(service = %offer.service, tool = %call.tool, error = %e, "tool credential refused");
                let failure = (e, credential.challenge.id);
                return Ok(self
                    .own
                    .challenge(&offer, &charge, &call.id, Some(failure))
                    .await);
            }
        };
        match self.own.paywall.consume(&offer, &verified).await {
            Ok(true) => {}
            Ok(false) => {
                let failure = (l402_mpp::ChargeError::Replayed, verified.challenge_id);
                return Ok(self
                    .own
                    .challenge(&offer, &charge, &call.id, Some(failure))
                    .await);
            }
            Err(error) => {
                tracing::warn!(service = %offer.service, %error, "cannot record a tool credential");
                return Ok(self.own.unavailable(&call.id));
            }
        }
        let hash = verified.payment_hash.to_hex();
        for (name, value) in [
            (l402_tower::HEADER_SERVICE, &*offer.service),
            (l402_tower::HEADER_PAYMENT_HASH, hash.as_str()),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                parts.headers.insert(name, v);
            }
        }
        let receipt = l402_mpp::Receipt::lightning_charge(
            l402_mpp::time::format(self.own.paywall.now_unix()),
            hash,
            verified.challenge_id.clone(),
        );
        parts.extensions.insert(verified);
        let edit = Edit::Receipt(serde_json::to_value(&receipt).expect("a receipt serialises"));
        let mut answer = self
            .forward(parts, call.forwarded(), Some((edit, call.id)))
            .await?;
        let headers = answer.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&receipt.to_header()) {
            headers.insert(l402_mpp::RECEIPT_HEADER, v);
        }
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("private"),
        );
        answer
            .extensions_mut()
            .insert(self.own.decision(Outcome::Paid));
        Ok(answer)
    }

    /// Forwards `body`, editing the answer to the request `edit` names.
    async fn forward(
        &mut self,
        mut parts: http::request::Parts,
        body: Bytes,
        edit: Option<(Edit, Value)>,
    ) -> Answer<B, S::Error> {
        // The body is the one parsed and written again: its own length, no other framing. The
        // answer may have to be edited: ask for it uncompressed.
        parts.headers.remove(TRANSFER_ENCODING);
        parts.headers.remove(ACCEPT_ENCODING);
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        let response = self
            .inner
            .call(Request::from_parts(parts, Body::full(body)))
            .await?;
        let Some((edit, id)) = edit else {
            return Ok(response.map(Either::Left));
        };
        // Compressed anyway: passed on as it is, without the edit.
        let encoded = response
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"));
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|_| !encoded)
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let (mut parts, body) = response.into_parts();
        if matches!(
            content_type.as_deref(),
            Some("text/event-stream" | "application/json")
        ) {
            // The edit changes the length (some servers send one even for a stream).
            parts.headers.remove(CONTENT_LENGTH);
            parts.headers.remove(TRANSFER_ENCODING);
        }
        match content_type.as_deref() {
            Some("text/event-stream") => {
                let events = EditedEvents::new(body, EventEditor::new(edit, id));
                Ok(Response::from_parts(
                    parts,
                    Either::Right(Body::new(events)),
                ))
            }
            Some("application/json") => {
                let bytes = match Limited::new(body, MAX_ANSWER_BYTES).collect().await {
                    Ok(b) => b.to_bytes(),
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the MCP upstream's answer");
                        let why = "the upstream's answer could not be read (or is over 16 MiB)";
                        let answer = rpc::error(&id, rpc::INTERNAL_ERROR, why, None);
                        return Ok(self.own.answer(StatusCode::BAD_GATEWAY, answer, None));
                    }
                };
                let bytes = edit.json_body(&bytes, &id).unwrap_or(bytes);
                Ok(Response::from_parts(
                    parts,
                    Either::Right(Body::full(bytes)),
                ))
            }
            _ => Ok(Response::from_parts(parts, Either::Left(body))),
        }
    }
}

impl Own {
    /// Answers with a fresh challenge: `-32042`, or `-32043` naming why a credential failed.
    async fn challenge<B>(
        &self,
        offer: &Offer,
        charge: &CallCharge<'_>,
        id: &Value,
        failure: Option<(l402_mpp::ChargeError, String)>,
    ) -> Response<McpBody<B>> {
        let challenge = match self.paywall.call_challenge(offer, charge).await {
            Ok(c) => c,
            Err(ChallengeError::TooManyUnpaid(retry_after)) => {
                return self.busy(id, retry_after, Outcome::TooManyUnpaid);
            }
            Err(error) => {
                tracing::warn!(service = %offer.service, %error, "cannot mint a tool challenge");
                return self.unavailable(id);
            }
        };
        let challenge = mcp::challenge_to_json(&challenge).expect("our challenge's request reads");
        let mut data = json!({"httpStatus": 402, "challenges": [challenge]});
        let (code, message) = match failure {
            None => (mcp::PAYMENT_REQUIRED_CODE, "Payment Required"),
            Some((error, challenge_id)) => {
                let problem = error.to_problem(Some(&challenge_id));
                data["failure"] =
                    json!({"reason": error.problem_type().uri(), "detail": error.to_string()});
                data["problem"] = serde_json::to_value(&problem).expect("a problem serialises");
                (mcp::VERIFICATION_FAILED_CODE, "Payment Verification Failed")
            }
        };
        tracing::debug!(service = %offer.service, code, "tool call: payment required");
        let answer = rpc::error(id, code, message, Some(data));
        self.answer(StatusCode::OK, answer, Some(Outcome::Challenged))
    }

    /// 429 with `Retry-After`: over the rate limit, or too many unpaid challenges.
    fn busy<B>(&self, id: &Value, retry_after: u64, outcome: Outcome) -> Response<McpBody<B>> {
        let why = match outcome {
            Outcome::RateLimited => "Too Many Requests: over this service's rate limit",
            _ => "Too Many Requests: pay or let expire the challenges already given to you",
        };
        let data = json!({"httpStatus": 429, "retryAfter": retry_after});
        let answer = rpc::error(id, -32000, why, Some(data));
        let mut response = self.answer(StatusCode::TOO_MANY_REQUESTS, answer, Some(outcome));
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
        response
    }

    /// 503 with `Retry-After`: no challenge could be minted or the ledger failed.
    fn unavailable<B>(&self, id: &Value) -> Response<McpBody<B>> {
        let retry_after = self.paywall.settings().retry_after_secs;
        let why = "payment is unavailable right now (Lightning backend or store): retry later";
        let data = json!({"httpStatus": 503, "retryAfter": retry_after});
        let answer = rpc::error(id, rpc::INTERNAL_ERROR, why, Some(data));
        let mut response = self.answer(
            StatusCode::SERVICE_UNAVAILABLE,
            answer,
            Some(Outcome::Unavailable),
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
        response
    }

    /// The layer's own JSON answer, tagged with `outcome` for the metrics.
    fn answer<B>(
        &self,
        status: StatusCode,
        answer: Value,
        outcome: Option<Outcome>,
    ) -> Response<McpBody<B>> {
        let body = serde_json::to_vec(&answer).expect("JSON serialises");
        let mut response = Response::new(Either::Right(Body::full(body)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(outcome) = outcome {
            response.extensions_mut().insert(self.decision(outcome));
        }
        response
    }

    fn decision(&self, outcome: Outcome) -> PaywallDecision {
        PaywallDecision {
            outcome,
            took: self.started.elapsed(),
        }
    }
}

/// Reads a request body of at most [`MAX_REQUEST_BYTES`] within [`BODY_TIMEOUT`].
async fn read_body(body: Body) -> Result<Bytes, (StatusCode, &'static str)> {
    let read = Limited::new(body, MAX_REQUEST_BYTES).collect();
    match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            "the request body took too long",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "an MCP message may not exceed 1 MiB",
        )),
        Ok(Err(_)) => Err((
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        )),
    }
}

/// The offer of one priced call: the service's invoice terms at the tool's price, for the
/// request's client, under its rate limit.
fn tool_offer(
    service: &str,
    terms: &ServiceTerms,
    call: &PricedCall,
    client: Option<std::net::IpAddr>,
    table: &PriceTable,
    decision: &RouteDecision,
) -> Offer {
    let price = RoutePrice {
        price_msat: call.price_sat.saturating_mul(1000),
        required_capabilities: Vec::new(),
        free: false,
    };
    let names = crate::pricing::OfferNames::new(service, terms);
    let mut offer = crate::pricing::offer(&names, terms, price);
    offer.base_price = Msat(call.price_sat.saturating_mul(1000));
    offer.client_ip = client;
    offer.rate_limit = table.rate_limit(decision);
    offer
}
