//! Writing a message's body framing: the framing itself, chunk-size lines, the last chunk with
//! its trailers. Requests ([`crate::request`]) and responses ([`crate::server`]) share it.

use http::HeaderMap;
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};

/// How an outgoing message's body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body, and no framing header.
    None,
    /// `Content-Length: n`, then exactly `n` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`: the length is not known before the body ends.
    Chunked,
}

/// Writes a chunk's size line for `len` bytes of data (which must not be zero: a zero-size
/// chunk ends the body). The data and then [`CHUNK_END`] follow it.
///
/// ```
/// let mut out = Vec::new();
/// l402_h1::encode::encode_chunk_size(300, &mut out);
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
/// l402_h1::encode::encode_last_chunk(Some(&trailers), &mut out);
/// assert_eq!(out, b"0\r\nchecksum: abc\r\n\r\n");
/// ```
pub fn encode_last_chunk(trailers: Option<&HeaderMap>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n");
    if let Some(trailers) = trailers {
        write_lines(trailers, false, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes `headers` as header lines, leaving out `Transfer-Encoding` and, unless
/// `keep_length` (a length that frames nothing: a `HEAD` or `304` answer's), `Content-Length`:
/// only the framing this crate chose may frame the body.
pub(crate) fn write_lines(headers: &HeaderMap, keep_length: bool, out: &mut Vec<u8>) {
    for (name, value) in headers {
        if name == TRANSFER_ENCODING || (name == CONTENT_LENGTH && !keep_length) {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The length the `Content-Length` lines of an outgoing message's `headers` declare: each one
/// decimal number, all the same; else none (the body then frames itself).
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let mut declared = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let n = crate::decimal(value.as_bytes().trim_ascii())?;
        if declared.is_some_and(|seen| seen != n) {
            return None;
        }
        declared = Some(n);
    }
    declared
}

/// Writes the header line that announces `framing` (none for [`Framing::None`]).
pub(crate) fn write_framing(framing: Framing, out: &mut Vec<u8>) {
    match framing {
        Framing::None => {}
        Framing::Length(len) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
}

/// The bytes `headers` take as header lines (a reservation's size).
pub(crate) fn lines_len(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
