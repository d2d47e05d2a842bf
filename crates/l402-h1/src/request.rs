//! Writing a request: its body's framing and its head (the chunked encoding's pieces are in
//! [`crate::encode`]).

use http::{HeaderMap, Method};

use crate::encode::{Framing, declared_length, lines_len, write_framing, write_lines};

impl Framing {
    /// The framing for a request with these `headers` and a body that has already ended
    /// (`ended`) or whose exact length is `exact_len` when known.
    ///
    /// A `Content-Length` the request carries is kept (the server that read the request held
    /// the body to it); else a body of known length gets one, except an empty body on a method
    /// that defines no body (`GET`, `HEAD`, `DELETE`, `OPTIONS`, `CONNECT`, `TRACE`), which gets
    /// no framing header at all, as hyper's client does. A body of unknown length is chunked.
    ///
    /// ```
    /// use http::{HeaderMap, Method};
    /// use l402_h1::Framing;
    ///
    /// let none = HeaderMap::new();
    /// assert_eq!(Framing::for_request(&Method::GET, &none, true, Some(0)), Framing::None);
    /// assert_eq!(Framing::for_request(&Method::POST, &none, true, Some(0)), Framing::Length(0));
    /// assert_eq!(Framing::for_request(&Method::POST, &none, false, Some(5)), Framing::Length(5));
    /// assert_eq!(Framing::for_request(&Method::POST, &none, false, None), Framing::Chunked);
    /// ```
    pub fn for_request(
        method: &Method,
        headers: &HeaderMap,
        ended: bool,
        exact_len: Option<u64>,
    ) -> Self {
        if let Some(declared) = declared_length(headers) {
            return Self::Length(declared);
        }
        if ended || exact_len == Some(0) {
            return if defines_no_body(method) {
                Self::None
            } else {
                Self::Length(0)
            };
        }
        match exact_len {
            Some(len) => Self::Length(len),
            None => Self::Chunked,
        }
    }
}

fn defines_no_body(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET
            | Method::HEAD
            | Method::DELETE
            | Method::OPTIONS
            | Method::CONNECT
            | Method::TRACE
    )
}

/// Writes the request line and the header lines into `out`, then the framing header of
/// `framing`. `target` is the request target in origin form (`/path?query`).
///
/// `Content-Length` and `Transfer-Encoding` among `headers` are not written: `framing` says how
/// the body is delimited, so the two can never disagree (no request smuggling through a
/// mismatched pair).
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method};
/// use l402_h1::{Framing, request};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("host", HeaderValue::from_static("api.example"));
/// headers.insert("content-length", HeaderValue::from_static("999"));
/// let mut out = Vec::new();
/// request::encode_head(&Method::POST, "/v1", &headers, Framing::Chunked, &mut out);
/// assert_eq!(out, b"POST /v1 HTTP/1.1\r\nhost: api.example\r\ntransfer-encoding: chunked\r\n\r\n");
/// ```
pub fn encode_head(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    framing: Framing,
    out: &mut Vec<u8>,
) {
    // One reservation for the whole head: the request line, each header line, the framing.
    out.reserve(method.as_str().len() + target.len() + lines_len(headers) + 64);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    write_lines(headers, false, out);
    write_framing(framing, out);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};

    #[test]
    fn a_declared_length_wins_over_the_body_hint() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("12"));
        assert_eq!(
            Framing::for_request(&Method::PUT, &headers, false, None),
            Framing::Length(12)
        );
        // An unparsable one is ignored (and never written: `encode_head` skips it).
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("12, 13"));
        assert_eq!(
            Framing::for_request(&Method::PUT, &headers, false, None),
            Framing::Chunked
        );
    }

    #[test]
    fn an_ended_body_of_unknown_length_is_empty() {
        let none = HeaderMap::new();
        assert_eq!(
            Framing::for_request(&Method::DELETE, &none, true, None),
            Framing::None
        );
        assert_eq!(
            Framing::for_request(&Method::PATCH, &none, true, None),
            Framing::Length(0)
        );
    }

    #[test]
    fn repeated_headers_are_written_line_by_line_in_order() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("gzip, chunked"));
        let mut out = Vec::new();
        encode_head(&Method::GET, "/", &headers, Framing::Length(3), &mut out);
        assert_eq!(
            out,
            b"GET / HTTP/1.1\r\nx-a: 1\r\nx-a: 2\r\ncontent-length: 3\r\n\r\n"
        );
    }
}
