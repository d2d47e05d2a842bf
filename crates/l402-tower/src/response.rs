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
use crate::paywall::MintedChallenge;

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
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
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

/// The payment-required answer: HTTP 402 with both challenges and a JSON body naming the
/// reason, or for gRPC an HTTP 200 Trailers-Only answer with `grpc-status: 13`,
/// `grpc-message: payment required` and the challenges in `www-authenticate`.
pub(crate) fn payment_required(
    grpc: bool,
    offer: &Offer,
    challenge: &MintedChallenge,
    reason: &TokenError,
) -> Response<Full<Bytes>> {
    let mut response = if grpc {
        grpc_response(13, "payment required")
    } else {
        json_response(
            StatusCode::PAYMENT_REQUIRED,
            serde_json::json!({
                "error": "payment_required",
                "reason": reason.reason_code(),
                "detail": reason.to_string(),
                "service": offer.service,
                "price_sat": offer.price.to_sat_ceil(),
                "price_msat": offer.price.0,
                "invoice": challenge.bolt11,
                "payment_hash": challenge.payment_hash.to_hex(),
            }),
        )
    };
    let headers = response.headers_mut();
    for value in &challenge.header_values {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.append(WWW_AUTHENTICATE, v);
        }
    }
    // As Aperture does: a browser client on another origin (e.g. a web page using Alby) must be
    // able to read the challenge. The answer holds nothing but a fresh invoice and macaroon.
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("WWW-Authenticate"),
    );
    if let Ok(v) = HeaderValue::from_str(reason.reason_code()) {
        headers.insert("x-l402-reason", v);
    }
    response
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
