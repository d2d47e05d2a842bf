//! Responses the proxy writes itself: JSON errors, or gRPC Trailers-Only errors for gRPC callers.

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::body::Body;

/// Escapes `s` as the inside of a JSON string.
pub(crate) fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// True if the request is a gRPC call (`content-type: application/grpc…`).
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// A JSON response with `Cache-Control: no-store`.
pub(crate) fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The gRPC status code that corresponds to an HTTP error the proxy produces.
fn grpc_code(status: StatusCode) -> u8 {
    match status {
        StatusCode::BAD_REQUEST => 3, // INVALID_ARGUMENT
        StatusCode::NOT_FOUND => 12,  // UNIMPLEMENTED
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => 8, // RESOURCE_EXHAUSTED
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE => 14, // UNAVAILABLE
        StatusCode::GATEWAY_TIMEOUT => 4,                                // DEADLINE_EXCEEDED
        _ => 13,                                                         // INTERNAL
    }
}

/// Percent-encodes a `grpc-message` value as the gRPC HTTP/2 spec requires.
fn grpc_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An error the proxy answers itself. `code` is a stable machine-readable word
/// (`no_service`, `upstream_unavailable`, …); `service` names the service when one matched.
pub(crate) fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    service: Option<&str>,
    grpc: bool,
) -> Response<Body> {
    if grpc {
        // Trailers-Only: HTTP 200, status in the headers, empty body.
        let mut response = Response::new(Body::empty());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(
            "grpc-status",
            HeaderValue::from(u16::from(grpc_code(status))),
        );
        if let Ok(v) = HeaderValue::from_str(&grpc_message(message)) {
            headers.insert("grpc-message", v);
        }
        return response;
    }
    let service = service
        .map(|s| format!(",\"service\":\"{}\"", json_escape(s)))
        .unwrap_or_default();
    json(
        status,
        format!(
            "{{\"error\":\"{}\",\"message\":\"{}\"{service}}}\n",
            json_escape(code),
            json_escape(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(json_escape("a\"b\\c\n\u{1}"), "a\\\"b\\\\c\\n\\u0001");
        assert_eq!(grpc_message("50% off\n"), "50%25 off%0A");
    }

    #[test]
    fn grpc_errors_are_trailers_only() {
        let r = error(StatusCode::BAD_GATEWAY, "x", "down", None, true);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["grpc-status"], "14");
    }
}
