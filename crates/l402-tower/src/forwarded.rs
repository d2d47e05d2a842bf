//! Headers that tell the upstream which token paid for the request.
//!
//! | header | value |
//! |---|---|
//! | `X-L402-Token-Id` | the token id, 64 lower-case hex characters |
//! | `X-L402-Payment-Hash` | the payment hash, 64 lower-case hex characters |
//! | `X-L402-Service` | the service the request was verified for |
//! | `X-L402-Caveat` | one field per caveat the paywall checked (`condition=value`, canonical) |
//!
//! `X-L402-Caveat` carries [`VerifiedToken::checked_caveats`]: for each condition a satisfier
//! checked (`services`, `<service>_capabilities`, `<service>_max_price_msat`,
//! `<service>_valid_until`), the value that decided, re-spelled canonically. Caveats the
//! verifier skipped as unknown are not forwarded: a holder can add any caveat when attenuating
//! a token, and the upstream must not take one for something the seller minted.
//!
//! Clients cannot spoof them: the layer strips any incoming `X-L402-*` header first. Nor can
//! they have a proxy hop drop them: `X-L402-*` names are taken out of `Connection` (whose
//! listed headers every hop removes), so what the paywall adds reaches the upstream.

use http::header::{AUTHORIZATION, CONNECTION};
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

/// `Macaroon`: a credential as gRPC metadata (Aperture's clients), the preimage in a caveat of
/// the macaroon; read when no L402 `Authorization` value is sent. A constant, so a lookup does
/// not parse the name.
pub(crate) const MACAROON: HeaderName = HeaderName::from_static("macaroon");
/// `Grpc-Metadata-Macaroon`: the same credential as grpc-gateway clients send it.
pub(crate) const GRPC_METADATA_MACAROON: HeaderName =
    HeaderName::from_static("grpc-metadata-macaroon");

/// True for the names of the headers the paywall owns (surrounding blanks ignored).
fn is_paywall_header(name: &[u8]) -> bool {
    name.trim_ascii()
        .get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"x-l402-"))
}

/// Removes every `X-L402-*` header a client sent, and every `X-L402-*` name it listed in
/// `Connection` (which would make the next hop strip the headers the paywall adds). Reads
/// without allocating; rewrites `Connection` only when it names such a header.
pub fn strip_spoofed_headers(headers: &mut HeaderMap) {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_paywall_header(name.as_str().as_bytes()))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    let names_paywall_header = |headers: &HeaderMap| -> bool {
        headers
            .get_all(CONNECTION)
            .iter()
            .any(|v| v.as_bytes().split(|b| *b == b',').any(is_paywall_header))
    };
    if !names_paywall_header(headers) {
        return;
    }
    let kept: Vec<Vec<u8>> = headers
        .get_all(CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty() && !is_paywall_header(t))
        .map(<[u8]>::to_vec)
        .collect();
    headers.remove(CONNECTION);
    if !kept.is_empty()
        && let Ok(value) = HeaderValue::from_bytes(&kept.join(&b", "[..]))
    {
        headers.insert(CONNECTION, value);
    }
}

/// Removes the buyer's credential from a verified request: `Authorization` values in the
/// `L402`, `LSAT` or `Payment` scheme (others, meant for the upstream, stay), and the macaroon
/// as `Macaroon` or `Grpc-Metadata-Macaroon` metadata.
pub fn strip_credential(headers: &mut HeaderMap) {
    let is_l402 = |v: &HeaderValue| {
        let bytes = v.as_bytes();
        let scheme = bytes.split(|b| *b == b' ').next().unwrap_or_default();
        scheme.eq_ignore_ascii_case(b"L402")
            || scheme.eq_ignore_ascii_case(b"LSAT")
            || scheme.eq_ignore_ascii_case(b"Payment")
    };
    // Usually nothing is kept: an empty `Vec` allocates nothing.
    let kept: Vec<HeaderValue> = headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter(|v| !is_l402(v))
        .cloned()
        .collect();
    headers.remove(AUTHORIZATION);
    for value in kept {
        headers.append(AUTHORIZATION, value);
    }
    let (macaroon, grpc_macaroon) = macaroon_metadata(headers);
    if macaroon {
        headers.remove(MACAROON);
    }
    if grpc_macaroon {
        headers.remove(GRPC_METADATA_MACAROON);
    }
}

/// Whether the headers carry the macaroon as `Macaroon` and as `Grpc-Metadata-Macaroon`
/// metadata: one pass over the names instead of two lookups that hash them (a request has a
/// few headers, and usually neither).
pub(crate) fn macaroon_metadata(headers: &HeaderMap) -> (bool, bool) {
    let (mut macaroon, mut grpc_macaroon) = (false, false);
    for name in headers.keys() {
        macaroon |= *name == MACAROON;
        grpc_macaroon |= *name == GRPC_METADATA_MACAROON;
    }
    (macaroon, grpc_macaroon)
}

/// The forwarded headers for a verified token.
pub(crate) fn token_headers(
    service: &str,
    token: &VerifiedToken,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::with_capacity(3 + token.checked_caveats.len());
    let mut push = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            out.push((HeaderName::from_static(name), v));
        }
    };
    push(HEADER_TOKEN_ID, &token.identifier.token_id.to_hex());
    push(HEADER_PAYMENT_HASH, &token.identifier.payment_hash.to_hex());
    push(HEADER_SERVICE, service);
    for caveat in token.checked_caveats.iter() {
        push(HEADER_CAVEAT, caveat);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_loses_only_the_paywall_names_and_odd_bytes_do_not_panic() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONNECTION,
            HeaderValue::from_static("keep-alive, X-L402-Token-Id,x-l402-caveat , upgrade"),
        );
        headers.insert("x-l402-service", HeaderValue::from_static("forged"));
        strip_spoofed_headers(&mut headers);
        assert_eq!(headers[CONNECTION], "keep-alive, upgrade");
        assert!(headers.get("x-l402-service").is_none());

        headers.insert(CONNECTION, HeaderValue::from_static("x-l402-token-id"));
        strip_spoofed_headers(&mut headers);
        assert!(headers.get(CONNECTION).is_none(), "nothing left to list");

        let odd = HeaderValue::from_bytes(b"x-l402\xc3\xa9, close").unwrap();
        headers.insert(CONNECTION, odd.clone());
        strip_spoofed_headers(&mut headers);
        assert_eq!(headers[CONNECTION], odd, "no paywall name: left as it was");
    }

    #[test]
    fn only_the_credential_schemes_and_the_macaroon_headers_leave() {
        let headers_with = |values: &[&'static str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append(AUTHORIZATION, HeaderValue::from_static(v));
            }
            headers.insert(MACAROON, HeaderValue::from_static("0201"));
            headers.insert(GRPC_METADATA_MACAROON, HeaderValue::from_static("0201"));
            headers
        };
        let left = |headers: &HeaderMap| -> Vec<String> {
            let values = headers.get_all(AUTHORIZATION).iter();
            values.map(|v| v.to_str().unwrap().to_owned()).collect()
        };

        let mut only = headers_with(&["L402 mac:pre", "lsat mac:pre"]);
        strip_credential(&mut only);
        assert!(left(&only).is_empty() && only.get(MACAROON).is_none());
        assert!(only.get(GRPC_METADATA_MACAROON).is_none());

        let mut mixed = headers_with(&["Basic dTpw", "L402 mac:pre", "Payment x", "Bearer k"]);
        strip_credential(&mut mixed);
        assert_eq!(left(&mixed), ["Basic dTpw", "Bearer k"], "kept, in order");
        assert!(mixed.get(MACAROON).is_none() && mixed.get(GRPC_METADATA_MACAROON).is_none());

        let mut none = headers_with(&[]);
        none.insert("x-other", HeaderValue::from_static("1"));
        strip_credential(&mut none);
        assert_eq!((none.len(), none["x-other"].as_bytes()), (1, &b"1"[..]));

        // Either metadata name alone.
        for name in [MACAROON, GRPC_METADATA_MACAROON] {
            let mut one = HeaderMap::new();
            one.insert(name.clone(), HeaderValue::from_static("0201"));
            one.insert("x-other", HeaderValue::from_static("1"));
            strip_credential(&mut one);
            assert!(one.get(&name).is_none(), "{name} removed");
            assert_eq!(one.len(), 1);
        }
    }
}
