//! Reading a response head and working out how its body is delimited.

use std::mem::MaybeUninit;

use arrayvec::ArrayVec;
use bytes::BytesMut;
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode, Version};

use crate::body::BodyFraming;
use crate::head::{Seen, Span, header_map, span};
use crate::{Error, MAX_HEADERS};

/// A response head, its body's framing and whether the connection can carry another request.
#[derive(Debug)]
pub struct ResponseHead {
    /// The status code (never an interim 1xx other than `101 Switching Protocols`).
    pub status: StatusCode,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: Version,
    /// The header lines, in order; each value shares the read buffer's bytes.
    pub headers: HeaderMap,
    /// How the body is delimited (RFC 9112 §6.3).
    pub framing: BodyFraming,
    /// True when the connection may carry another request once this body has been read: an
    /// HTTP/1.1 answer without `Connection: close`, whose body has a known end, and that does
    /// not carry both `Transfer-Encoding` and `Content-Length` (the length is then removed from
    /// `headers`).
    pub keep_alive: bool,
}

/// Reads a response head from the front of `buf`, the answer to a `method` request.
///
/// Returns `Ok(None)` when `buf` does not hold a whole head yet (read more and call again).
/// Interim heads (`100 Continue`, `103 Early Hints`, …) are removed and skipped; a
/// `101 Switching Protocols` is returned. On success the head's bytes are removed from `buf`,
/// which then starts with the body.
///
/// ```
/// use bytes::BytesMut;
/// use http::Method;
/// use l402_h1::{BodyFraming, response};
///
/// let mut buf = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n"[..]);
/// let head = response::parse(&mut buf, &Method::POST).unwrap().unwrap();
/// assert_eq!(head.status, 201);
/// assert_eq!(head.framing, BodyFraming::Chunked);
/// assert_eq!(&buf[..], b"5\r\n");
///
/// let mut partial = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-"[..]);
/// assert!(response::parse(&mut partial, &Method::GET).unwrap().is_none());
/// ```
pub fn parse(buf: &mut BytesMut, method: &Method) -> Result<Option<ResponseHead>, Error> {
    loop {
        // Name and value of each header line, as offsets into the head (not initialised
        // beyond the lines there are: zeroing room for 128 costs more than a short head).
        let mut spans = ArrayVec::<Span, MAX_HEADERS>::new();
        let (len, code, version) = {
            // Uninitialised slots: initialising 128 empty headers per answer costs more than
            // parsing a short head.
            let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut []);
            let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
                &mut response,
                buf,
                &mut slots,
            );
            let Some(len) = crate::head_len(parsed, buf.len(), |len| *len)? else {
                return Ok(None);
            };
            let base = buf.as_ptr() as usize;
            spans.extend(response.headers.iter().map(|header| span(header, base)));
            let code = response.code.ok_or(Error::Head(httparse::Error::Status))?;
            (len, code, response.version)
        };
        let status =
            StatusCode::from_u16(code).map_err(|_| Error::Head(httparse::Error::Status))?;
        let head = buf.split_to(len).freeze();
        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            continue;
        }
        // An answer may gain an `L402-Token` and a few more on its way.
        let (mut headers, seen) = header_map(&head, &spans, 4)?;
        let version = match version {
            Some(0) => Version::HTTP_10,
            _ => Version::HTTP_11,
        };
        let (framing, reusable) = framing(status, method, &headers, &seen)?;
        if seen.transfer_encoding && seen.content_length > 0 {
            // The length does not frame this body, and must not frame it further on
            // (RFC 9112 §6.3, 3).
            headers.remove(CONTENT_LENGTH);
        }
        let keep_alive =
            version == Version::HTTP_11 && reusable && !seen.connection_lists(&headers, "close");
        return Ok(Some(ResponseHead {
            status,
            version,
            headers,
            framing,
            keep_alive,
        }));
    }
}

/// The body's framing (RFC 9112 §6.3), and whether the connection can carry another answer
/// after this one: not after a switch of protocols or a tunnel, a body read until the close,
/// or an answer with both `Transfer-Encoding` and `Content-Length`.
fn framing(
    status: StatusCode,
    method: &Method,
    headers: &HeaderMap,
    seen: &Seen,
) -> Result<(BodyFraming, bool), Error> {
    if status == StatusCode::SWITCHING_PROTOCOLS
        || (*method == Method::CONNECT && status.is_success())
    {
        // What follows is not HTTP.
        return Ok((BodyFraming::Empty, false));
    }
    if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok((BodyFraming::Empty, true));
    }
    if seen.transfer_encoding {
        let safely = seen.content_length == 0;
        // Chunked only when it is the final coding; any other is read until the close.
        let last = headers
            .get_all(TRANSFER_ENCODING)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim);
        return Ok(match last {
            Some(coding) if coding.eq_ignore_ascii_case("chunked") => {
                (BodyFraming::Chunked, safely)
            }
            _ => (BodyFraming::UntilClose, false),
        });
    }
    if seen.content_length == 0 {
        return Ok((BodyFraming::UntilClose, false));
    }
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let text = value.to_str().map_err(|_| Error::ContentLength)?;
        // `Content-Length: 5, 5` and repeated lines are one length if they all agree.
        for item in text.split(',') {
            let n = crate::decimal(item.trim().as_bytes()).ok_or(Error::ContentLength)?;
            match length {
                Some(seen) if seen != n => return Err(Error::ContentLength),
                _ => length = Some(n),
            }
        }
    }
    Ok(match length {
        Some(0) => (BodyFraming::Empty, true),
        Some(n) => (BodyFraming::Length(n), true),
        None => (BodyFraming::UntilClose, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_HEAD_BYTES;

    fn parse_all(bytes: &[u8], method: &Method) -> Result<Option<ResponseHead>, Error> {
        parse(&mut BytesMut::from(bytes), method)
    }

    fn framing_of(bytes: &[u8]) -> (BodyFraming, bool) {
        let head = parse_all(bytes, &Method::GET).unwrap().unwrap();
        (head.framing, head.keep_alive)
    }

    #[test]
    fn values_share_the_buffer_and_names_are_lowercased() {
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 200 OK\r\nX-Thing: a b\r\nSet-Cookie: 1\r\nset-cookie: 2\r\n\r\nrest"[..],
        );
        let head = parse(&mut buf, &Method::GET).unwrap().unwrap();
        assert_eq!(head.headers["x-thing"], "a b");
        let cookies: Vec<_> = head.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["1", "2"]);
        assert_eq!(&buf[..], b"rest");
        assert_eq!(head.version, Version::HTTP_11);
    }

    #[test]
    fn bodies_are_framed_as_rfc_9112_says() {
        use BodyFraming::*;
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"),
            (Length(7), true)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            (Empty, true)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n"),
            (Length(7), true)
        );
        assert_eq!(framing_of(b"HTTP/1.1 200 OK\r\n\r\n"), (UntilClose, false));
        assert_eq!(
            framing_of(b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"),
            (Empty, true)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 304 Not Modified\r\n\r\n"),
            (Empty, true)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"),
            (Chunked, true)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            (UntilClose, false)
        );
        let both = parse_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            &Method::GET,
        )
        .unwrap()
        .unwrap();
        assert!(
            !both.headers.contains_key(CONTENT_LENGTH),
            "the length does not go on"
        );
        let tunnel = parse_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",
            &Method::CONNECT,
        )
        .unwrap()
        .unwrap();
        assert_eq!((tunnel.framing, tunnel.keep_alive), (Empty, false));
        // Both: the length is ignored and the connection closes after the answer.
        assert_eq!(
            framing_of(
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            (Chunked, false)
        );
        assert_eq!(
            framing_of(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive, Close\r\n\r\n"
            ),
            (Length(1), false)
        );
        assert_eq!(
            framing_of(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"),
            (Length(1), false)
        );
        assert_eq!(
            framing_of(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
            (Empty, false)
        );
        let head = parse_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",
            &Method::HEAD,
        )
        .unwrap()
        .unwrap();
        assert_eq!((head.framing, head.keep_alive), (Empty, true));
    }

    #[test]
    fn bad_lengths_are_errors() {
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: +7\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 7 8\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1,\r\n\r\n",
        ] {
            let err = parse_all(bad, &Method::GET).unwrap_err();
            assert!(
                matches!(err, Error::ContentLength),
                "{err:?} for {:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn interim_heads_are_skipped_even_across_reads() {
        let mut buf = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 2"[..]);
        assert!(parse(&mut buf, &Method::GET).unwrap().is_none());
        assert_eq!(&buf[..], b"HTTP/1.1 2", "the interim heads are gone");
        buf.extend_from_slice(b"00 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(parse(&mut buf, &Method::GET).unwrap().unwrap().status, 200);
    }

    #[test]
    fn oversized_and_malformed_heads_are_errors() {
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        while big.len() <= MAX_HEAD_BYTES {
            big.extend_from_slice(b"x-filler: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
        }
        // Still partial, but already too large.
        assert!(matches!(
            parse_all(&big, &Method::GET),
            Err(Error::HeadTooLarge) | Err(Error::TooManyHeaders)
        ));
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("x-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(
            parse_all(&many, &Method::GET),
            Err(Error::TooManyHeaders)
        ));
        for bad in [
            &b"HTTP/2 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
        ] {
            assert!(
                matches!(parse_all(bad, &Method::GET), Err(Error::Head(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // A status httparse accepts but `http` does not.
        assert!(parse_all(b"HTTP/1.1 099 Odd\r\n\r\n", &Method::GET).is_err());
    }
}
