//! The server side's common case: reading a plain request head, and writing the response head.
//!
//! [`parse_request`] takes only requests whose reading leaves nothing to interpret: HTTP/1.1,
//! no `Transfer-Encoding`, at most one `Content-Length`, no `Expect`, no protocol upgrade, not
//! `CONNECT`. Anything else is [`Declined`], with the buffer untouched, so that the caller can
//! hand the connection, from this request on, to a server that handles the rest of HTTP/1.x
//! (the proxy hands it to hyper). Reading stays narrow where requests are smuggled: a body is
//! delimited by one length or by nothing.

use std::mem::MaybeUninit;

use arrayvec::ArrayVec;
use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TE, TRAILER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, Method, StatusCode, Uri};

use crate::encode::{Framing, declared_length, lines_len, write_framing, write_lines};
use crate::head::{Span, header_map, span};
use crate::lists_token;

/// The most header lines a request head may carry: hyper's limit, so that the requests handed
/// to hyper and the ones read here meet the same one.
pub const MAX_REQUEST_HEADERS: usize = 100;

/// Room a request's header map is made with beyond its own lines.
const REQUEST_ROOM: usize = 12;

/// A request head read by [`parse_request`].
#[derive(Debug)]
pub struct RequestHead {
    /// The method (never `CONNECT`).
    pub method: Method,
    /// The request target as sent (origin, absolute or asterisk form).
    pub uri: Uri,
    /// The header lines, in order; each value shares the read buffer's bytes.
    pub headers: HeaderMap,
    /// The body's length: its `Content-Length`, or 0 without one.
    pub body_len: u64,
    /// False when the client asked to close the connection after this request
    /// (`Connection: close`).
    pub keep_alive: bool,
    /// True when the client takes trailers (`TE: trailers`).
    pub takes_trailers: bool,
}

/// Why [`parse_request`] did not take a request: the bytes are left for a server that handles
/// every case (and answers the malformed ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Declined {
    /// The head is not valid HTTP/1.x.
    #[error("the request head is malformed")]
    Malformed,
    /// The head is longer than the limit (or not yet ended at it).
    #[error("the request head is longer than the limit")]
    TooLarge,
    /// More than [`MAX_REQUEST_HEADERS`] header lines.
    #[error("the request head has more than {MAX_REQUEST_HEADERS} header lines")]
    TooManyHeaders,
    /// Not HTTP/1.1 (HTTP/1.0, or the HTTP/2 connection preface).
    #[error("the request is not HTTP/1.1")]
    Version,
    /// A `CONNECT` request.
    #[error("the request is a CONNECT")]
    Connect,
    /// A protocol upgrade (`Upgrade`, or `Connection: upgrade`).
    #[error("the request asks for a protocol upgrade")]
    Upgrade,
    /// An `Expect` header (`100-continue`).
    #[error("the request carries an Expect header")]
    Expect,
    /// A `Transfer-Encoding` header.
    #[error("the request body has a transfer coding")]
    TransferEncoding,
    /// `Content-Length` is not exactly one decimal number.
    #[error("the request's Content-Length is not one length")]
    ContentLength,
    /// A header line's name or value is not one `http` accepts.
    #[error("the request head has an invalid header line")]
    HeaderLine,
    /// The method or the request target is not one `http` accepts.
    #[error("the request line is invalid")]
    RequestLine,
}

/// Reads a request head from the front of `buf`, at most `max_head` bytes long.
///
/// Returns `Ok(None)` when `buf` does not hold a whole head yet (read more and call again). On
/// success the head's bytes are removed from `buf`, which then starts with the body. When the
/// request is [`Declined`], `buf` holds the same bytes as before.
///
/// ```
/// use bytes::BytesMut;
/// use l402_h1::server::{Declined, parse_request};
///
/// let mut buf = BytesMut::from(&b"POST /v1/ask HTTP/1.1\r\nHost: api\r\nContent-Length: 2\r\n\r\nhi"[..]);
/// let head = parse_request(&mut buf, 8192).unwrap().expect("a whole head");
/// assert_eq!(head.method, "POST");
/// assert_eq!(head.uri, "/v1/ask");
/// assert_eq!(head.body_len, 2);
/// assert!(head.keep_alive);
/// assert_eq!(&buf[..], b"hi");
///
/// let mut chunked = BytesMut::from(&b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
/// assert_eq!(parse_request(&mut chunked, 8192).unwrap_err(), Declined::TransferEncoding);
/// assert_eq!(chunked.len(), 47, "the bytes stay for the server that takes the request");
/// ```
pub fn parse_request(buf: &mut BytesMut, max_head: usize) -> Result<Option<RequestHead>, Declined> {
    // Not initialised beyond the lines there are (zeroing room for 100 costs more than a
    // short head).
    let mut spans = ArrayVec::<Span, MAX_REQUEST_HEADERS>::new();
    let (len, method, target) = {
        let mut slots =
            [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_REQUEST_HEADERS];
        let mut request = httparse::Request::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_request_with_uninit_headers(
            &mut request,
            buf,
            &mut slots,
        );
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) if len <= max_head => len,
            Ok(httparse::Status::Complete(_)) => return Err(Declined::TooLarge),
            Ok(httparse::Status::Partial) if buf.len() > max_head => {
                return Err(Declined::TooLarge);
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(Declined::TooManyHeaders),
            Err(httparse::Error::Version) => return Err(Declined::Version),
            Err(_) => return Err(Declined::Malformed),
        };
        if request.version != Some(1) {
            return Err(Declined::Version);
        }
        let base = buf.as_ptr() as usize;
        let (Some(method), Some(path)) = (request.method, request.path) else {
            return Err(Declined::Malformed);
        };
        if method == "CONNECT" {
            return Err(Declined::Connect);
        }
        let method = Method::from_bytes(method.as_bytes()).map_err(|_| Declined::RequestLine)?;
        let target = (path.as_ptr() as usize - base, path.len());
        spans.extend(request.headers.iter().map(|header| span(header, base)));
        (len, method, target)
    };
    let head = buf.split_to(len).freeze();
    match request_from(&head, method, target, &spans) {
        Ok(request) => Ok(Some(request)),
        Err(declined) => {
            // Put the head back in front of what followed it (a copy, on this rare path).
            let mut whole = BytesMut::with_capacity(head.len() + buf.len());
            whole.extend_from_slice(&head);
            whole.extend_from_slice(buf);
            *buf = whole;
            Err(declined)
        }
    }
}

/// The request of a parsed `head`, unless it is one for another server.
fn request_from(
    head: &Bytes,
    method: Method,
    (start, len): (usize, usize),
    spans: &[Span],
) -> Result<RequestHead, Declined> {
    let uri = Uri::from_maybe_shared(head.slice(start..start + len))
        .map_err(|_| Declined::RequestLine)?;
    // A proxied request gains its `X-Forwarded-*` and `Forwarded` headers, and a paid one the
    // paywall's `X-L402-*` (three and the caveats).
    let (headers, seen) =
        header_map(head, spans, REQUEST_ROOM).map_err(|_| Declined::HeaderLine)?;
    if seen.upgrade || seen.connection_lists(&headers, "upgrade") {
        return Err(Declined::Upgrade);
    }
    if seen.expect {
        return Err(Declined::Expect);
    }
    if seen.transfer_encoding {
        return Err(Declined::TransferEncoding);
    }
    let body_len = match seen.content_length {
        0 => 0,
        // Digits only: no sign, no list.
        1 => headers
            .get(CONTENT_LENGTH)
            .and_then(|value| crate::decimal(value.as_bytes()))
            .ok_or(Declined::ContentLength)?,
        _ => return Err(Declined::ContentLength),
    };
    let keep_alive = !seen.connection_lists(&headers, "close");
    let takes_trailers = seen.te && lists_token(&headers, &TE, "trailers");
    Ok(RequestHead {
        method,
        uri,
        headers,
        body_len,
        keep_alive,
        takes_trailers,
    })
}

/// True when an answer to a `method` request with this `status` carries no body on the wire
/// (`HEAD`, 1xx, `204 No Content`, `304 Not Modified`).
pub fn has_no_body(method: &Method, status: StatusCode) -> bool {
    *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// How to delimit the body of an answer to a `method` request: none when the answer has no
/// body ([`has_no_body`]); else the length its `Content-Length` header gives (every copy
/// agreeing), or the body's own exact length (`exact_len`), or chunked.
///
/// ```
/// use http::{HeaderMap, Method, StatusCode};
/// use l402_h1::Framing;
/// use l402_h1::server::response_framing;
///
/// let none = HeaderMap::new();
/// assert_eq!(response_framing(&Method::GET, StatusCode::OK, &none, Some(12)), Framing::Length(12));
/// assert_eq!(response_framing(&Method::GET, StatusCode::OK, &none, None), Framing::Chunked);
/// assert_eq!(response_framing(&Method::HEAD, StatusCode::OK, &none, Some(12)), Framing::None);
/// ```
pub fn response_framing(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
    exact_len: Option<u64>,
) -> Framing {
    if has_no_body(method, status) {
        return Framing::None;
    }
    // Copies that disagree, or one that is not a length: framed by the body itself.
    let declared = declared_length(headers);
    match declared.or(exact_len) {
        Some(len) => Framing::Length(len),
        None => Framing::Chunked,
    }
}

/// Writes an HTTP/1.1 response head into `out`: the status line, the header lines, the framing
/// header of `framing`, `Connection: close` when `close` and the headers do not already say so,
/// and `Date: <date>` when the headers carry no date.
///
/// `Transfer-Encoding` among `headers` is never written, nor `Content-Length` unless the answer
/// has no body (the length of a `HEAD` or `304` answer describes another answer): `framing`
/// delimits the body, so the two cannot disagree.
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method, StatusCode};
/// use l402_h1::Framing;
/// use l402_h1::server::encode_response_head;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", HeaderValue::from_static("text/plain"));
/// headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
/// let mut out = Vec::new();
/// let date = b"Mon, 07 Dec 2026 20:32:27 GMT";
/// encode_response_head(&Method::GET, StatusCode::PAYMENT_REQUIRED, &headers, Framing::Length(5), true, date, &mut out);
/// assert_eq!(
///     out,
///     &b"HTTP/1.1 402 Payment Required\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\
///        connection: close\r\ndate: Mon, 07 Dec 2026 20:32:27 GMT\r\n\r\n"[..]
/// );
/// ```
pub fn encode_response_head(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
    framing: Framing,
    close: bool,
    date: &[u8],
    out: &mut Vec<u8>,
) {
    out.reserve(lines_len(headers) + date.len() + 96);
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        // A reason must be written: many parsers expect one.
        out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let keep_length =
        framing == Framing::None && (*method == Method::HEAD || status == StatusCode::NOT_MODIFIED);
    write_lines(headers, keep_length, out);
    write_framing(framing, out);
    if close && !lists_token(headers, &CONNECTION, "close") {
        out.extend_from_slice(b"connection: close\r\n");
    }
    if !headers.contains_key(DATE) {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// The trailer fields an answer declares in its `Trailer` header: only these are sent after a
/// chunked body (as hyper does; a client that was not told of a trailer may not expect one).
///
/// ```
/// use http::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("trailer", HeaderValue::from_static("Grpc-Status, grpc-message"));
/// let declared = l402_h1::server::declared_trailers(&headers);
/// assert_eq!(declared, ["grpc-status", "grpc-message"]);
/// ```
pub fn declared_trailers(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(TRAILER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .filter(|name| *name != CONTENT_LENGTH && *name != TRANSFER_ENCODING && *name != TRAILER)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn parse(bytes: &[u8]) -> Result<Option<RequestHead>, Declined> {
        parse_request(&mut BytesMut::from(bytes), 8192)
    }

    #[test]
    fn requests_that_need_more_than_a_length_are_declined_and_left_whole() {
        for (bytes, reason) in [
            (&b"GET / HTTP/1.0\r\n\r\n"[..], Declined::Version),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Declined::Version),
            (b"CONNECT a:443 HTTP/1.1\r\n\r\n", Declined::Connect),
            (
                b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                Declined::Upgrade,
            ),
            (b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n", Declined::Upgrade),
            (
                b"GET / HTTP/1.1\r\nconnection: keep-alive, upgrade\r\n\r\n",
                Declined::Upgrade,
            ),
            (
                b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
                Declined::Expect,
            ),
            (
                b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Declined::TransferEncoding,
            ),
            (
                b"PUT / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                Declined::TransferEncoding,
            ),
            (
                b"PUT / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
                Declined::ContentLength,
            ),
            (
                b"PUT / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n",
                Declined::ContentLength,
            ),
            (
                b"PUT / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
                Declined::ContentLength,
            ),
            (
                b"PUT / HTTP/1.1\r\nContent-Length: \r\n\r\n",
                Declined::ContentLength,
            ),
            (
                b"PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                Declined::ContentLength,
            ),
            (b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", Declined::Malformed),
            (b"GET /\x7f HTTP/1.1\r\n\r\n", Declined::Malformed),
            (
                b"GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n",
                Declined::Malformed,
            ),
            (b"G\"T / HTTP/1.1\r\n\r\n", Declined::Malformed),
        ] {
            let mut buf = BytesMut::from(bytes);
            buf.extend_from_slice(b"next");
            let before = buf.clone();
            assert_eq!(
                parse_request(&mut buf, 8192).unwrap_err(),
                reason,
                "{}",
                String::from_utf8_lossy(bytes)
            );
            assert_eq!(buf, before, "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn a_plain_request_is_read_and_what_follows_it_stays() {
        let mut buf = BytesMut::from(
            &b"GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Two: 1\r\nx-two: 2\r\nConnection: close\r\n\r\nGET /next"[..],
        );
        let head = parse_request(&mut buf, 8192).unwrap().unwrap();
        assert_eq!(head.method, Method::GET);
        assert_eq!(head.uri.path(), "/a");
        assert_eq!(head.uri.query(), Some("b=c"));
        let twos: Vec<_> = head.headers.get_all("x-two").iter().collect();
        assert_eq!(twos, ["1", "2"]);
        assert_eq!(head.body_len, 0);
        assert!(!head.keep_alive);
        assert!(!head.takes_trailers);
        assert_eq!(&buf[..], b"GET /next");
        // The connection's and the trailers' tokens, wherever they are in their lists.
        for (head, keep_alive, takes_trailers) in [
            (
                "Connection: keep-alive\r\nTE: gzip, Trailers\r\n",
                true,
                true,
            ),
            (
                "connection: foo\r\nConnection: x, CLOSE\r\nte: trailers\r\n",
                false,
                true,
            ),
            ("TE: gzip\r\nX-Close: close\r\n", true, false),
            ("Content-Length: 3\r\nTE:\r\n", true, false),
        ] {
            let text = format!("POST / HTTP/1.1\r\n{head}\r\n");
            let read = parse(text.as_bytes()).unwrap().unwrap();
            assert_eq!(read.keep_alive, keep_alive, "{text}");
            assert_eq!(read.takes_trailers, takes_trailers, "{text}");
        }
        // Absolute form is taken as sent.
        let head = parse(b"OPTIONS http://h:1/p HTTP/1.1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.uri.authority().unwrap().as_str(), "h:1");
        assert_eq!(
            parse(b"GET /a HTTP/1.1\r\nHost: x\r\n")
                .unwrap()
                .map(|h| h.uri),
            None
        );
    }

    #[test]
    fn every_prefix_of_a_head_waits_and_the_whole_head_reads() {
        let bytes =
            b"POST /pay HTTP/1.1\r\nHost: api\r\nContent-Length: 18446744073709551615\r\n\r\n";
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        assert_eq!(parse(bytes).unwrap().unwrap().body_len, u64::MAX);
    }

    #[test]
    fn heads_past_the_limit_are_declined() {
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 200));
        assert!(parse_request(&mut BytesMut::from(&long[..]), 100).is_err());
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            parse_request(&mut BytesMut::from(&long[..]), 100).unwrap_err(),
            Declined::TooLarge
        );
        assert!(
            parse_request(&mut BytesMut::from(&long[..]), 300)
                .unwrap()
                .is_some()
        );
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_REQUEST_HEADERS {
            many.extend_from_slice(format!("x-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_request(&mut BytesMut::from(&many[..]), 1 << 20).unwrap_err(),
            Declined::TooManyHeaders
        );
    }

    fn head(method: &Method, status: StatusCode, headers: &HeaderMap, framing: Framing) -> String {
        let mut out = Vec::new();
        encode_response_head(method, status, headers, framing, false, b"D", &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn answers_are_framed_by_their_length_header_their_body_or_chunks() {
        let mut headers = HeaderMap::new();
        let get = Method::GET;
        assert_eq!(
            response_framing(&get, StatusCode::OK, &headers, Some(0)),
            Framing::Length(0)
        );
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("7"));
        assert_eq!(
            response_framing(&get, StatusCode::OK, &headers, None),
            Framing::Length(7)
        );
        headers.append(CONTENT_LENGTH, HeaderValue::from_static("8"));
        assert_eq!(
            response_framing(&get, StatusCode::OK, &headers, None),
            Framing::Chunked
        );
        for status in [
            StatusCode::NO_CONTENT,
            StatusCode::NOT_MODIFIED,
            StatusCode::CONTINUE,
        ] {
            assert_eq!(
                response_framing(&get, status, &headers, Some(3)),
                Framing::None
            );
        }
    }

    #[test]
    fn a_length_header_is_kept_only_where_it_frames_nothing() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("99"));
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert(DATE, HeaderValue::from_static("then"));
        let text = head(&Method::HEAD, StatusCode::OK, &headers, Framing::None);
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ncontent-length: 99\r\ndate: then\r\n\r\n"
        );
        let text = head(
            &Method::GET,
            StatusCode::NO_CONTENT,
            &headers,
            Framing::None,
        );
        assert_eq!(text, "HTTP/1.1 204 No Content\r\ndate: then\r\n\r\n");
        let text = head(&Method::GET, StatusCode::OK, &headers, Framing::Chunked);
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ndate: then\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        let unknown = StatusCode::from_u16(599).unwrap();
        assert!(
            head(&Method::GET, unknown, &HeaderMap::new(), Framing::Length(0))
                .starts_with("HTTP/1.1 599 <none>\r\ncontent-length: 0\r\ndate: D\r\n")
        );
    }

    #[test]
    fn close_is_said_once() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("Close"));
        let mut out = Vec::new();
        encode_response_head(
            &Method::GET,
            StatusCode::OK,
            &headers,
            Framing::Length(0),
            true,
            b"D",
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.to_ascii_lowercase().matches("connection:").count(),
            1,
            "{text}"
        );
    }
}
