//! Reading a response body from the read buffer, frame by frame.

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;

use crate::head::{Span, header_map, span};
use crate::{Error, MAX_HEAD_BYTES, MAX_HEADERS};

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body: an answer to `HEAD`, a 1xx, 204 or 304, or `Content-Length: 0`.
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the upstream closes the connection.
    UntilClose,
}

/// One step of a decoded body.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes (never empty), split off the read buffer without a copy.
    Data(Bytes),
    /// A chunked body's trailer fields (only when there are some); the body has ended.
    Trailers(HeaderMap),
    /// The body has ended.
    End,
}

/// Decodes one response body from the bytes the caller reads into a buffer.
///
/// Call [`BodyDecoder::decode`] after each read; `Ok(None)` asks for more bytes. When the
/// connection reaches its end, call [`BodyDecoder::decode_eof`] instead. After [`Decoded::End`]
/// or [`Decoded::Trailers`], whatever is left in the buffer belongs to the next answer.
///
/// ```
/// use bytes::BytesMut;
/// use l402_h1::{BodyDecoder, BodyFraming, Decoded};
///
/// let mut body = BodyDecoder::new(BodyFraming::Chunked);
/// let mut buf = BytesMut::from(&b"3;ext=1\r\nabc\r\n0\r\nx-sum: 9\r\n\r\n"[..]);
/// assert_eq!(body.decode(&mut buf).unwrap(), Some(Decoded::Data("abc".into())));
/// let Some(Decoded::Trailers(trailers)) = body.decode(&mut buf).unwrap() else { panic!() };
/// assert_eq!(trailers["x-sum"], "9");
/// assert!(body.is_end());
/// ```
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes still to come.
    Length(u64),
    /// At a chunk-size line.
    ChunkSize,
    /// Inside a chunk's data, this many bytes still to come.
    ChunkData(u64),
    /// After a chunk's data, at its CRLF.
    ChunkEnd,
    /// After the last chunk: the trailer section and the final CRLF.
    Trailers,
    /// Until the connection closes.
    UntilClose,
    /// The body has ended.
    Done,
}

/// The longest chunk-size line (with its extensions) accepted.
const MAX_CHUNK_LINE: usize = 4096;

impl BodyDecoder {
    /// A decoder for a body framed as `framing`.
    pub fn new(framing: BodyFraming) -> Self {
        let state = match framing {
            BodyFraming::Empty | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) => State::Length(n),
            BodyFraming::Chunked => State::ChunkSize,
            BodyFraming::UntilClose => State::UntilClose,
        };
        Self { state }
    }

    /// True once the body has ended.
    pub fn is_end(&self) -> bool {
        self.state == State::Done
    }

    /// The number of body bytes still to come, when known: exact for a length, zero at the end.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// The next step of the body from the front of `buf`, or `Ok(None)` when more bytes are
    /// needed. Consumed bytes are removed from `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, Error> {
        loop {
            match self.state {
                State::Done => return Ok(Some(Decoded::End)),
                State::Length(left) | State::ChunkData(left) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let take = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
                    let data = buf.split_to(take).freeze();
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), _) => State::Length(left),
                        (_, 0) => State::ChunkEnd,
                        _ => State::ChunkData(left),
                    };
                    return Ok(Some(Decoded::Data(data)));
                }
                State::UntilClose => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(Decoded::Data(buf.split().freeze())));
                }
                State::ChunkSize => {
                    let Some(line_end) = find_crlf(buf, MAX_CHUNK_LINE)? else {
                        return Ok(None);
                    };
                    let size = chunk_size(&buf[..line_end])?;
                    buf.advance(line_end + 2);
                    self.state = match size {
                        0 => State::Trailers,
                        n => State::ChunkData(n),
                    };
                }
                State::ChunkEnd => {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(Error::ChunkEnd);
                    }
                    buf.advance(2);
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    if buf.starts_with(b"\r\n") {
                        buf.advance(2);
                        self.state = State::Done;
                        return Ok(Some(Decoded::End));
                    }
                    let Some((len, spans)) = trailer_section(buf)? else {
                        return Ok(None);
                    };
                    let block = buf.split_to(len).freeze();
                    let (trailers, _) = header_map(&block, &spans, 0)?;
                    self.state = State::Done;
                    return Ok(Some(if trailers.is_empty() {
                        Decoded::End
                    } else {
                        Decoded::Trailers(trailers)
                    }));
                }
            }
        }
    }

    /// The next step once the connection has closed: what is left in `buf`, then the end of a
    /// body read until the close, or [`Error::Truncated`] when the body had not ended.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Decoded, Error> {
        match self.decode(buf)? {
            Some(step) => Ok(step),
            None if self.state == State::UntilClose => {
                self.state = State::Done;
                Ok(Decoded::End)
            }
            None => Err(Error::Truncated),
        }
    }
}

/// The offset of the first CRLF in `buf`, `None` if there is none yet; an error once more than
/// `limit` bytes came without one, or if a lone CR or LF comes first.
fn find_crlf(buf: &[u8], limit: usize) -> Result<Option<usize>, Error> {
    match buf.iter().position(|&b| b == b'\n' || b == b'\r') {
        // Too long, however the bytes arrived.
        Some(at) if at > limit => Err(Error::ChunkSize),
        Some(at) if buf[at] == b'\r' => match buf.get(at + 1) {
            Some(b'\n') => Ok(Some(at)),
            Some(_) => Err(Error::ChunkSize),
            None => Ok(None),
        },
        Some(_) => Err(Error::ChunkSize),
        None if buf.len() > limit => Err(Error::ChunkSize),
        None => Ok(None),
    }
}

/// A chunk-size line: 1 to 16 hex digits, then optional whitespace and `;` extensions (ignored).
fn chunk_size(line: &[u8]) -> Result<u64, Error> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(Error::ChunkSize);
    }
    let rest = &line[digits..];
    let rest = &rest[rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()..];
    if !(rest.is_empty() || rest[0] == b';') {
        return Err(Error::ChunkSize);
    }
    let mut size = 0u64;
    for &b in &line[..digits] {
        let digit = (b as char).to_digit(16).ok_or(Error::ChunkSize)?;
        size = size << 4 | u64::from(digit);
    }
    Ok(size)
}

/// The trailer section at the front of `buf`, through its final empty line (CRLF or a bare
/// LF, as httparse reads it): its length and the spans of its lines, or `None` until it is
/// all there.
fn trailer_section(buf: &[u8]) -> Result<Option<(usize, Vec<Span>)>, Error> {
    // Trailers are rare: initialised slots are fine here.
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let base = buf.as_ptr() as usize;
    // httparse reads no further than the section's end, so the bytes after it stay.
    let limited = &buf[..buf.len().min(MAX_HEAD_BYTES + 1)];
    let parsed = httparse::parse_headers(limited, &mut slots);
    let Some((len, headers)) = crate::head_len(parsed, limited.len(), |done| done.0)? else {
        return Ok(None);
    };
    Ok(Some((len, headers.iter().map(|h| span(h, base)).collect())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data, the trailers and the bytes left after the body.
    type Read = (Vec<u8>, Option<HeaderMap>, Vec<u8>);

    /// Decodes `wire` fed in pieces of `step` bytes.
    fn decode_in_steps(
        framing: BodyFraming,
        wire: &[u8],
        step: usize,
        eof: bool,
    ) -> Result<Read, Error> {
        let mut decoder = BodyDecoder::new(framing);
        let mut buf = BytesMut::new();
        let mut data = Vec::new();
        let mut fed = 0;
        loop {
            let step_result = match decoder.decode(&mut buf)? {
                Some(step) => step,
                None if fed < wire.len() => {
                    let end = (fed + step).min(wire.len());
                    buf.extend_from_slice(&wire[fed..end]);
                    fed = end;
                    continue;
                }
                None if eof => decoder.decode_eof(&mut buf)?,
                None => return Err(Error::Truncated),
            };
            match step_result {
                Decoded::Data(bytes) => {
                    assert!(!bytes.is_empty());
                    data.extend_from_slice(&bytes);
                }
                Decoded::Trailers(t) => {
                    buf.extend_from_slice(&wire[fed..]);
                    return Ok((data, Some(t), buf.to_vec()));
                }
                Decoded::End => {
                    buf.extend_from_slice(&wire[fed..]);
                    return Ok((data, None, buf.to_vec()));
                }
            }
        }
    }

    #[test]
    fn every_split_of_a_chunked_body_decodes_the_same() {
        let wire = b"4\r\nWiki\r\n6;name=\"v a\"\r\npedia \r\nE \r\nin \r\n\r\nchunks.\r\n0\r\nx-a: 1\r\nx-b: 2\r\n\r\nNEXT";
        for step in 1..wire.len() {
            let (data, trailers, rest) =
                decode_in_steps(BodyFraming::Chunked, wire, step, false).unwrap();
            assert_eq!(data, b"Wikipedia in \r\n\r\nchunks.", "step {step}");
            let trailers = trailers.unwrap();
            assert_eq!(
                (trailers["x-a"].as_bytes(), trailers["x-b"].as_bytes()),
                (&b"1"[..], &b"2"[..])
            );
            assert_eq!(rest, b"NEXT", "step {step}");
        }
    }

    #[test]
    fn a_chunked_body_without_trailers_ends_at_its_empty_line() {
        let (data, trailers, rest) =
            decode_in_steps(BodyFraming::Chunked, b"1\r\na\r\n0\r\n\r\nHTTP", 3, false).unwrap();
        assert_eq!(
            (data.as_slice(), trailers, rest.as_slice()),
            (&b"a"[..], None, &b"HTTP"[..])
        );
    }

    #[test]
    fn trailer_sections_may_end_with_bare_line_feeds_and_leave_what_follows() {
        let (data, trailers, rest) = decode_in_steps(
            BodyFraming::Chunked,
            b"1\r\na\r\n0\r\nx-a: 1\n\nNEXT",
            1,
            false,
        )
        .unwrap();
        assert_eq!(data, b"a");
        assert_eq!(trailers.unwrap()["x-a"], "1");
        assert_eq!(rest, b"NEXT");
        let (_, trailers, rest) =
            decode_in_steps(BodyFraming::Chunked, b"0\r\n\nNEXT", 1, false).unwrap();
        assert_eq!((trailers, rest.as_slice()), (None, &b"NEXT"[..]));
    }

    #[test]
    fn lengths_stop_at_their_end_and_until_close_at_the_close() {
        let (data, _, rest) =
            decode_in_steps(BodyFraming::Length(5), b"hello world", 2, false).unwrap();
        assert_eq!(
            (data.as_slice(), rest.as_slice()),
            (&b"hello"[..], &b" world"[..])
        );
        let (data, _, _) = decode_in_steps(BodyFraming::UntilClose, b"all of it", 4, true).unwrap();
        assert_eq!(data, b"all of it");
        let mut decoder = BodyDecoder::new(BodyFraming::Length(3));
        assert_eq!(decoder.remaining(), Some(3));
        let mut buf = BytesMut::from(&b"ab"[..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(Decoded::Data("ab".into()))
        );
        assert_eq!(decoder.remaining(), Some(1));
        assert!(matches!(
            decoder.decode_eof(&mut buf),
            Err(Error::Truncated)
        ));
    }

    #[test]
    fn broken_chunked_bodies_are_errors() {
        for (wire, eof) in [
            (&b"z\r\n"[..], false),
            (b"\r\n", false),
            (b"1 x\r\na\r\n", false),
            (b"1\r\nab\r\n", false),
            (b"1\na\r\n", false),
            (b"1\r\r\na\r\n", false),
            (b"11111111111111111\r\n", false),
            (b"5\r\nabc", true),
            (b"0\r\nx-a: 1\r\n", true),
            (b"0\r\nbad trailer\r\n\r\n", false),
        ] {
            let result = decode_in_steps(BodyFraming::Chunked, wire, 1, eof);
            assert!(
                result.is_err(),
                "{:?} decoded",
                String::from_utf8_lossy(wire)
            );
        }
        let long_line = [b'1'; MAX_CHUNK_LINE + 2];
        assert!(decode_in_steps(BodyFraming::Chunked, &long_line, 4096, false).is_err());
        // A long extension is refused whether it comes in one read or many.
        let mut long_extension = b"1;".to_vec();
        long_extension.resize(MAX_CHUNK_LINE + 10, b'x');
        long_extension.extend_from_slice(b"\r\na\r\n0\r\n\r\n");
        for step in [1, 100, long_extension.len()] {
            assert!(
                decode_in_steps(BodyFraming::Chunked, &long_extension, step, false).is_err(),
                "read {step} bytes at a time"
            );
        }
    }

    #[test]
    fn the_largest_chunk_size_parses_and_overflow_does_not() {
        assert_eq!(chunk_size(b"ffffffffffffffff").unwrap(), u64::MAX);
        assert_eq!(chunk_size(b"0000000000000010 ; a=b").unwrap(), 16);
        assert!(chunk_size(b"10000000000000000").is_err());
    }
}
