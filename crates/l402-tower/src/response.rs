//! The paywall's own responses: 402 challenges (HTTP) or Trailers-Only payment-required
//! answers (gRPC), and 503 when the Lightning backend cannot mint.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use l402_backend::BackendError;
use l402_core::keys::RootKeyError;
use l402_core::verify::TokenError;

use crate::offer::Offer;
use l402_mpp::{Problem, ProblemType};

use crate::paywall::Challenges;

/// Why no challenge could be minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The backend did not answer within the invoice timeout.
    #[error("the Lightning backend did not create an invoice within {0:?}")]
    Timeout(Duration),
    /// The backend refused or is unreachable.
    #[error("the Lightning backend could not create an invoice: {0}")]
    Backend(BackendError),
    /// The key ring has no current key.
    #[error("no minting key: {0}")]
    Keys(RootKeyError),
    /// An invariant broke.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// The client already holds (or is being minted) as many unpaid challenges as allowed;
    /// a slot frees in this many seconds.
    #[error("the client holds too many unpaid challenges; one frees in {0} s")]
    TooManyUnpaid(u64),
}

/// True for gRPC requests (`content-type: application/grpc...`).
pub fn is_grpc(parts: &Parts) -> bool {
    parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    json_bytes_response(status, body.to_string().into_bytes())
}

fn json_bytes_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn grpc_response(code: u16, message: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from(code));
    headers.insert("grpc-message", HeaderValue::from_static(message));
    response
}

/// Why a request is answered with challenges.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// A metered request whose balance (a session's, or an L402 token's) cannot pay for it.
    Session(l402_mpp::session::SessionError),
    /// The L402 path: no credential, or an L402 credential that did not verify.
    L402(TokenError),
    /// A `Payment` credential that did not verify (or was already used), or a session that
    /// cannot pay for the request.
    Mpp {
        /// Why.
        error: l402_mpp::session::SessionError,
        /// The challenge it answered, if readable.
        challenge_id: Option<String>,
    },
}

impl Refusal {
    /// The stable reason code of `X-L402-Reason` and logs.
    pub(crate) fn reason_code(&self) -> &'static str {
        match self {
            Refusal::L402(e) => e.reason_code(),
            Refusal::Session(e) => match e.problem_type() {
                ProblemType::InsufficientBalance => "insufficient_balance",
                ProblemType::SessionClosed => "session_closed",
                _ => "session_not_found",
            },
            Refusal::Mpp { error, .. } => match error.problem_type() {
                ProblemType::PaymentInsufficient => "mpp_payment_insufficient",
                ProblemType::PaymentExpired => "mpp_payment_expired",
                ProblemType::MethodUnsupported => "mpp_method_unsupported",
                ProblemType::InvalidChallenge => "mpp_invalid_challenge",
                ProblemType::LightningInvalidPreimage => "mpp_invalid_preimage",
                ProblemType::SessionNotFound => "mpp_session_not_found",
                ProblemType::SessionClosed => "mpp_session_closed",
                ProblemType::InsufficientBalance => "mpp_insufficient_balance",
                ProblemType::ChallengeExpired => "mpp_challenge_expired",
                ProblemType::InvalidReturnInvoice => "mpp_invalid_return_invoice",
                _ => "mpp_malformed_credential",
            },
        }
    }

    /// The problem details of this refusal.
    fn problem(&self) -> Problem {
        match self {
            Refusal::L402(TokenError::Missing) => Problem::payment_required(),
            Refusal::L402(e) => Problem::new(ProblemType::PaymentRequired, e.to_string()),
            Refusal::Session(e) => e.to_problem(None),
            Refusal::Mpp {
                error,
                challenge_id,
            } => error.to_problem(challenge_id.as_deref()),
        }
    }
}

/// The payment-required answer. For a service selling L402 only: HTTP 402 with the L402
/// challenges and a JSON body naming the reason, as before. For a service selling the
/// `Payment` scheme: the status of the problem (402, or 400 for an unsupported method), an
/// `application/problem+json` body with the draft's problem type (plus `service`, `price_sat`
/// and the L402 `reason`), and every challenge (the L402 pair, then `Payment`). For gRPC, an
/// HTTP 200 Trailers-Only answer with `grpc-status: 13`, `grpc-message: payment required` and
/// the challenges in `www-authenticate`.
pub(crate) fn payment_required(
    grpc: bool,
    offer: &Offer,
    challenges: &Challenges,
    reason: &Refusal,
) -> Response<Full<Bytes>> {
    let mut response = if grpc {
        grpc_response(13, "payment required")
    } else if challenges.payment.is_some() {
        let problem = reason.problem();
        let mut body = serde_json::to_value(&problem).unwrap_or_default();
        body["service"] = (&*offer.service).into();
        body["price_sat"] = offer.price.to_sat_ceil().into();
        body["reason"] = reason.reason_code().into();
        let mut response = json_response(
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::PAYMENT_REQUIRED),
            body,
        );
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(l402_mpp::problem::CONTENT_TYPE),
        );
        response
    } else {
        json_bytes_response(
            StatusCode::PAYMENT_REQUIRED,
            L402Body::new(offer, challenges, reason).to_json(),
        )
    };
    let headers = response.headers_mut();
    let l402 = challenges.l402.iter().flat_map(|c| c.header_values.iter());
    for value in l402.chain(challenges.payment.iter()) {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.append(WWW_AUTHENTICATE, v);
        }
    }
    // As Aperture does: a browser client on another origin (e.g. a web page using Alby) must be
    // able to read the challenge. The answer holds nothing but fresh invoices and a macaroon.
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static(match challenges.payment {
            Some(_) => "WWW-Authenticate, Payment-Receipt",
            None => "WWW-Authenticate",
        }),
    );
    if let Ok(v) = HeaderValue::from_str(reason.reason_code()) {
        headers.insert("x-l402-reason", v);
    }
    response
}

/// The JSON body of an L402-only payment-required answer. Its fields are in the order of their
/// names, as `serde_json`'s map (the body's earlier form) wrote them.
#[derive(serde::Serialize)]
struct L402Body<'a> {
    /// Why the request was refused (absent for a `Payment` refusal).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoice: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_hash: Option<String>,
    price_msat: u64,
    price_sat: u64,
    reason: &'static str,
    service: &'a str,
}

impl<'a> L402Body<'a> {
    fn new(offer: &'a Offer, challenges: &'a Challenges, reason: &Refusal) -> Self {
        let detail = match reason {
            Refusal::L402(e) => Some(e.to_string()),
            Refusal::Session(e) => Some(e.to_string()),
            Refusal::Mpp { .. } => None,
        };
        let l402 = challenges.l402.as_ref();
        L402Body {
            detail,
            error: "payment_required",
            invoice: l402.map(|c| c.bolt11.as_str()),
            payment_hash: l402.map(|c| c.payment_hash.to_hex()),
            price_msat: offer.price.0,
            price_sat: offer.price.to_sat_ceil(),
            reason: reason.reason_code(),
            service: &offer.service,
        }
    }

    /// The body's JSON text. Serializing a struct of strings and integers cannot fail.
    fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// "Not now, retry later": gRPC status `grpc` with `message`, or HTTP `status` with a JSON body
/// naming `error`; `Retry-After` (HTTP header or gRPC metadata) either way.
fn retry_later(
    grpc: Option<(u16, &'static str)>,
    status: StatusCode,
    mut body: serde_json::Value,
    retry_after_secs: u64,
) -> Response<Full<Bytes>> {
    let mut response = match grpc {
        Some((code, message)) => grpc_response(code, message),
        None => {
            body["retry_after_secs"] = retry_after_secs.into();
            json_response(status, body)
        }
    };
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// The answer when no challenge can be minted: HTTP 503 with `Retry-After`, or gRPC
/// `UNAVAILABLE` (14) with `retry-after`. It says only that the backend is unavailable: the
/// error (the node's address, its message) goes to the operator's log, never to clients.
pub(crate) fn unavailable(grpc: bool, retry_after_secs: u32) -> Response<Full<Bytes>> {
    retry_later(
        grpc.then_some((14, "lightning backend unavailable")),
        StatusCode::SERVICE_UNAVAILABLE,
        serde_json::json!({"error": "lightning_backend_unavailable"}),
        u64::from(retry_after_secs),
    )
}

/// The answer to a client holding too many unpaid challenges: HTTP 429 with `Retry-After`, or
/// gRPC `RESOURCE_EXHAUSTED` (8) with `retry-after`.
pub(crate) fn too_many_unpaid(grpc: bool, retry_after_secs: u64) -> Response<Full<Bytes>> {
    retry_later(
        grpc.then_some((8, "too many unpaid challenges")),
        StatusCode::TOO_MANY_REQUESTS,
        serde_json::json!({
            "error": "too_many_unpaid_challenges",
            "detail": "pay or let expire one of the invoices already issued to this client",
        }),
        retry_after_secs,
    )
}

/// The answer to a request over its rate limit: HTTP 429 with `Retry-After`, or gRPC
/// `RESOURCE_EXHAUSTED` (8) with `retry-after`.
pub(crate) fn rate_limited(grpc: bool, retry_after_secs: u64) -> Response<Full<Bytes>> {
    retry_later(
        grpc.then_some((8, "rate limited")),
        StatusCode::TOO_MANY_REQUESTS,
        serde_json::json!({
            "error": "rate_limited",
            "detail": "too many requests from this client or token; retry after the given seconds",
        }),
        retry_after_secs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paywall::MintedChallenge;
    use l402_core::{Msat, PaymentHash, TokenId};

    /// The body as it was built before: a `serde_json` value, written with its keys sorted.
    fn as_value(offer: &Offer, challenges: &Challenges, reason: &Refusal) -> String {
        let mut body = serde_json::json!({
            "error": "payment_required",
            "reason": reason.reason_code(),
            "service": &*offer.service,
            "price_sat": offer.price.to_sat_ceil(),
            "price_msat": offer.price.0,
        });
        match reason {
            Refusal::L402(e) => body["detail"] = e.to_string().into(),
            Refusal::Session(e) => body["detail"] = e.to_string().into(),
            Refusal::Mpp { .. } => {}
        }
        if let Some(l402) = &challenges.l402 {
            body["invoice"] = l402.bolt11.clone().into();
            body["payment_hash"] = l402.payment_hash.to_hex().into();
        }
        body.to_string()
    }

    /// The struct writes the same bytes as the value did, for every shape of body: with and
    /// without a challenge, a detail, text that needs escaping, prices not a whole satoshi.
    #[test]
    fn l402_body_writes_what_the_json_value_wrote() {
        let minted = MintedChallenge {
            header_values: [String::new(), String::new()],
            bolt11: "lnbcrt10n1p\"quote\\back\u{1}slash".to_owned(),
            payment_hash: PaymentHash([0x5a; 32]),
            token_id: TokenId([1; 32]),
            amount: Msat(1_500),
        };
        let with = Challenges {
            l402: Some(minted),
            payment: None,
        };
        let without = Challenges::default();
        let offers = [
            Offer::new("weather", Msat(1_000)),
            Offer::new("quo\"te\n\u{7f}é", Msat(1_501)),
            Offer::new("", Msat(0)),
        ];
        let reasons = [
            Refusal::L402(TokenError::Missing),
            Refusal::L402(TokenError::MalformedPreimage),
            Refusal::Session(l402_mpp::session::SessionError::BadRequest),
            Refusal::Mpp {
                error: l402_mpp::session::SessionError::BadAction,
                challenge_id: None,
            },
        ];
        for offer in &offers {
            for reason in &reasons {
                for challenges in [&with, &without] {
                    let body = L402Body::new(offer, challenges, reason).to_json();
                    assert_eq!(
                        String::from_utf8(body).expect("UTF-8"),
                        as_value(offer, challenges, reason)
                    );
                }
            }
        }
    }
}
