//! Writing a request: its body's framing, its head, and the chunked encoding's pieces.

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method};

/// How a request's body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFraming {
    /// No body, and no framing header.
    None,
    /// `Content-Length: n`, then exactly `n` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`: the length is not known before the body ends.
    Chunked,
}

impl RequestFraming {
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
    /// use l402_h1::RequestFraming;
    ///
    /// let none = HeaderMap::new();
    /// assert_eq!(RequestFraming::for_request(&Method::GET, &none, true, Some(0)), RequestFraming::None);
    /// assert_eq!(RequestFraming::for_request(&Method::POST, &none, true, Some(0)), RequestFraming::Length(0));
    /// assert_eq!(RequestFraming::for_request(&Method::POST, &none, false, Some(5)), RequestFraming::Length(5));
    /// assert_eq!(RequestFraming::for_request(&Method::POST, &none, false, None), RequestFraming::Chunked);
    /// ```
    pub fn for_request(
        method: &Method,
        headers: &HeaderMap,
        ended: bool,
        exact_len: Option<u64>,
    ) -> Self {
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(declared) = declared {
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
/// use l402_h1::{RequestFraming, request};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("host", HeaderValue::from_static("api.example"));
/// headers.insert("content-length", HeaderValue::from_static("999"));
/// let mut out = Vec::new();
/// request::encode_head(&Method::POST, "/v1", &headers, RequestFraming::Chunked, &mut out);
/// assert_eq!(out, b"POST /v1 HTTP/1.1\r\nhost: api.example\r\ntransfer-encoding: chunked\r\n\r\n");
/// ```
pub fn encode_head(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    framing: RequestFraming,
    out: &mut Vec<u8>,
) {
    // One reservation for the whole head: the request line, each header line, the framing.
    let lines: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    out.reserve(method.as_str().len() + target.len() + lines + 64);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    write_lines(headers, out);
    match framing {
        RequestFraming::None => {}
        RequestFraming::Length(len) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        RequestFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes a chunk's size line for `len` bytes of data (which must not be zero: a zero-size
/// chunk ends the body). The data and then [`CHUNK_END`] follow it.
///
/// ```
/// let mut out = Vec::new();
/// l402_h1::request::encode_chunk_size(300, &mut out);
/// assert_eq!(out, b"12c\r\n");
/// ```
pub fn encode_chunk_size(len: usize, out: &mut Vec<u8>) {
    debug_assert!(len != 0, "a zero-size chunk would end the body");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        out.push(HEX[(len >> (shift * 4)) & 0xf]);
    }
    out.extend_from_slice(b"\r\n");
}

/// What follows a chunk's data.
pub const CHUNK_END: &[u8] = b"\r\n";

/// Writes the last chunk (size zero), the `trailers` if any, and the body's final CRLF.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
///
/// let mut trailers = HeaderMap::new();
/// trailers.insert("checksum", HeaderValue::from_static("abc"));
/// let mut out = Vec::new();
/// l402_h1::request::encode_last_chunk(Some(&trailers), &mut out);
/// assert_eq!(out, b"0\r\nchecksum: abc\r\n\r\n");
/// ```
pub fn encode_last_chunk(trailers: Option<&HeaderMap>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    if let Some(trailers) = trailers {
        write_lines(trailers, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes `headers` as header lines, leaving out `Content-Length` and `Transfer-Encoding`:
/// only the framing this crate chose may frame the body.
fn write_lines(headers: &HeaderMap, out: &mut Vec<u8>) {
    for (name, value) in headers {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn chunk_sizes_are_lowercase_hex_without_leading_zeros() {
        for (len, text) in [
            (1usize, "1"),
            (15, "f"),
            (16, "10"),
            (255, "ff"),
            (4096, "1000"),
            (usize::MAX, "ffffffffffffffff"),
        ] {
            let mut out = Vec::new();
            encode_chunk_size(len, &mut out);
            assert_eq!(out, format!("{text}\r\n").as_bytes(), "{len}");
        }
    }

    #[test]
    fn a_declared_length_wins_over_the_body_hint() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("12"));
        assert_eq!(
            RequestFraming::for_request(&Method::PUT, &headers, false, None),
            RequestFraming::Length(12)
        );
        // An unparsable one is ignored (and never written: `encode_head` skips it).
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("12, 13"));
        assert_eq!(
            RequestFraming::for_request(&Method::PUT, &headers, false, None),
            RequestFraming::Chunked
        );
    }

    #[test]
    fn an_ended_body_of_unknown_length_is_empty() {
        let none = HeaderMap::new();
        assert_eq!(
            RequestFraming::for_request(&Method::DELETE, &none, true, None),
            RequestFraming::None
        );
        assert_eq!(
            RequestFraming::for_request(&Method::PATCH, &none, true, None),
            RequestFraming::Length(0)
        );
    }

    #[test]
    fn repeated_headers_are_written_line_by_line_in_order() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("gzip, chunked"));
        let mut out = Vec::new();
        encode_head(
            &Method::GET,
            "/",
            &headers,
            RequestFraming::Length(3),
            &mut out,
        );
        assert_eq!(
            out,
            b"GET / HTTP/1.1\r\nx-a: 1\r\nx-a: 2\r\ncontent-length: 3\r\n\r\n"
        );
    }
}
