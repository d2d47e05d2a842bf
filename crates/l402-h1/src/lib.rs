//! A sans-IO HTTP/1.1 client codec: what the proxy needs to talk to a plain `http://` upstream,
//! and nothing else.
//!
//! Everything here works on buffers; the caller owns the socket, the runtime and the timeouts.
//!
//! - [`request`]: how a request body is framed ([`RequestFraming`]), the request head, chunk
//!   headers and the last chunk with its trailers, written into a `Vec<u8>`.
//! - [`response`]: a response head read from the front of a `BytesMut`, interim (1xx) heads
//!   skipped, with the body's framing worked out by RFC 9112 §6.3 ([`ResponseHead`]).
//! - [`body`]: the response body decoded from the same buffer, frame by frame
//!   ([`BodyDecoder`]): a length, chunked (extensions ignored, trailers returned) or until the
//!   connection closes.
//!
//! Header values are not copied: a parsed head is split off the read buffer and each value is a
//! slice of it.
//!
//! ```
//! use bytes::BytesMut;
//! use http::{HeaderMap, Method};
//! use l402_h1::{BodyDecoder, Decoded, RequestFraming, request, response};
//!
//! let mut out = Vec::new();
//! let framing = RequestFraming::for_request(&Method::GET, &HeaderMap::new(), true, Some(0));
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
mod error;
pub mod request;
pub mod response;

pub use body::{BodyDecoder, BodyFraming, Decoded};
pub use error::Error;
pub use request::RequestFraming;
pub use response::ResponseHead;

/// The most bytes a response head (or a chunked body's trailer block) may take: 64 KiB, eight
/// times nginx's default `proxy_buffer_size`.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most header lines a response head (or a trailer block) may carry.
pub const MAX_HEADERS: usize = 128;
