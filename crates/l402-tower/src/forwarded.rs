//! Headers that tell the upstream which token paid for the request.
//!
//! | header | value |
//! |---|---|
//! | `X-L402-Token-Id` | the token id, 64 lower-case hex characters |
//! | `X-L402-Payment-Hash` | the payment hash, 64 lower-case hex characters |
//! | `X-L402-Service` | the service the request was verified for |
//! | `X-L402-Caveat` | one field per first-party caveat, in macaroon order (`condition=value`) |
//!
//! Clients cannot spoof them: the layer strips any incoming `X-L402-*` header first.

use http::{HeaderMap, HeaderName, HeaderValue};
use l402_core::verify::VerifiedToken;

/// `X-L402-Token-Id`.
pub const HEADER_TOKEN_ID: &str = "x-l402-token-id";
/// `X-L402-Payment-Hash`.
pub const HEADER_PAYMENT_HASH: &str = "x-l402-payment-hash";
/// `X-L402-Service`.
pub const HEADER_SERVICE: &str = "x-l402-service";
/// `X-L402-Caveat` (repeated).
pub const HEADER_CAVEAT: &str = "x-l402-caveat";

/// Removes every `X-L402-*` header a client sent.
pub fn strip_spoofed_headers(headers: &mut HeaderMap) {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-l402-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
}

/// The forwarded headers for a verified token.
pub(crate) fn token_headers(
    service: &str,
    token: &VerifiedToken,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::with_capacity(3 + token.caveats.len());
    let mut push = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            out.push((HeaderName::from_static(name), v));
        }
    };
    push(HEADER_TOKEN_ID, &token.identifier.token_id.to_hex());
    push(HEADER_PAYMENT_HASH, &token.identifier.payment_hash.to_hex());
    push(HEADER_SERVICE, service);
    for caveat in &token.caveats {
        push(HEADER_CAVEAT, caveat);
    }
    out
}
