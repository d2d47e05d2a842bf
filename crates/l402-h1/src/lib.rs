//! A sans-IO HTTP/1.1 codec: what the proxy needs to talk to a plain `http://` upstream, and to
//! serve the common case of a client's plain-TCP HTTP/1.1 connection; nothing else.
//!
//! Everything here works on buffers; the caller owns the socket, the runtime and the timeouts.
//!
//! - [`request`]: how a request body is framed ([`Framing`]) and the request head, written into
//!   a `Vec<u8>`; [`encode`]: chunk headers and the last chunk with its trailers.
//! - [`response`]: a response head read from the front of a `BytesMut`, interim (1xx) heads
//!   skipped, with the body's framing worked out by RFC 9112 §6.3 ([`ResponseHead`]).
//! - [`body`]: the response body decoded from the same buffer, frame by frame
//!   ([`BodyDecoder`]): a length, chunked (extensions ignored, trailers returned) or until the
//!   connection closes.
//! - [`server`]: a client's request head, when it is plain enough to need nothing but a length
//!   (anything else is [`server::Declined`], left for a full server), and the response head.
//!
//! Header values are not copied: a parsed head is split off the read buffer and each value is a
//! slice of it.
//!
//! ```
//! use bytes::BytesMut;
//! use http::{HeaderMap, Method};
//! use l402_h1::{BodyDecoder, Decoded, Framing, request, response};
//!
//! let mut out = Vec::new();
//! let framing = Framing::for_request(&Method::GET, &HeaderMap::new(), true, Some(0));
//! request::encode_head(&Method::GET, "/weather?city=Oslo", &HeaderMap::new(), framing, &mut out);
//! assert_eq!(out, b"GET /weather?city=Oslo HTTP/1.1\r\n\r\n");
//!
//! let mut read = BytesMut::from(&b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"[..]);
//! let head = response::parse(&mut read, &Method::GET).unwrap().expect("a whole head");
//! assert_eq!(head.status, 200);
//! assert!(head.keep_alive);
//! let mut body = BodyDecoder::new(head.framing);
//! assert_eq!(body.decode(&mut read).unwrap(), Some(Decoded::Data("ok".into())));
//! assert_eq!(body.decode(&mut read).unwrap(), Some(Decoded::End));
//! ```

pub mod body;
pub mod encode;
mod error;
mod head;
pub mod request;
pub mod response;
pub mod server;

pub use body::{BodyDecoder, BodyFraming, Decoded};
pub use encode::Framing;
pub use error::Error;
pub use response::ResponseHead;

/// The most bytes a response head (or a chunked body's trailer block) may take: 64 KiB, eight
/// times nginx's default `proxy_buffer_size`.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most header lines a response head (or a trailer block) may carry.
pub const MAX_HEADERS: usize = 128;

/// True when a comma-separated list header `name` lists `token`, ASCII case ignored
/// (`Connection: keep-alive, Close` lists `close`).
///
/// ```
/// use http::header::{CONNECTION, HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
/// assert!(l402_h1::lists_token(&headers, &CONNECTION, "upgrade"));
/// assert!(!l402_h1::lists_token(&headers, &CONNECTION, "close"));
/// ```
pub fn lists_token(headers: &http::HeaderMap, name: &http::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// A decimal number made of ASCII digits only (no sign, no spaces), when it fits in a `u64`:
/// what a `Content-Length` may be (`str::parse` would also take a `+`).
pub(crate) fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))?
    })
}

/// httparse's answer for a head (or a trailer section) out of `seen` bytes: its length when
/// complete, `None` when more bytes are needed, an error when it is malformed or past the
/// limits.
pub(crate) fn head_len<T>(
    parsed: httparse::Result<T>,
    seen: usize,
    len: impl FnOnce(&T) -> usize,
) -> Result<Option<T>, Error> {
    match parsed {
        Ok(httparse::Status::Complete(done)) if len(&done) > MAX_HEAD_BYTES => {
            Err(Error::HeadTooLarge)
        }
        Ok(httparse::Status::Complete(done)) => Ok(Some(done)),
        Ok(httparse::Status::Partial) if seen > MAX_HEAD_BYTES => Err(Error::HeadTooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(Error::TooManyHeaders),
        Err(e) => Err(Error::Head(e)),
    }
}
