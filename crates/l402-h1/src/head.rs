//! A head's header lines made into a `HeaderMap`, from their offsets in the head's bytes (the
//! values share those bytes), noting the framing headers on the way. Shared by the request,
//! response and trailer readers.

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, TE, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::Error;

/// Where a header line's name and value are in a head: name offset and length, value offset
/// and length.
pub(crate) type Span = (u32, u32, u32, u32);

/// The span of `header`, parsed from a buffer starting at address `base` (at most
/// [`MAX_HEAD_BYTES`](crate::MAX_HEAD_BYTES) long, so every offset fits).
pub(crate) fn span(header: &httparse::Header<'_>, base: usize) -> Span {
    (
        (header.name.as_ptr() as usize - base) as u32,
        header.name.len() as u32,
        (header.value.as_ptr() as usize - base) as u32,
        header.value.len() as u32,
    )
}

/// Which of the headers that frame a message or steer its connection a head carries, noted
/// while its map is built: a head without them (the usual one) needs no lookup for them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seen {
    /// `Connection` lines.
    pub(crate) connection: bool,
    /// `Content-Length` lines.
    pub(crate) content_length: u32,
    /// `Transfer-Encoding` lines.
    pub(crate) transfer_encoding: bool,
    /// `Upgrade` lines.
    pub(crate) upgrade: bool,
    /// `Expect` lines.
    pub(crate) expect: bool,
    /// `TE` lines.
    pub(crate) te: bool,
}

impl Seen {
    /// Notes `name`.
    fn note(&mut self, name: &HeaderName) {
        // Standard names: each comparison is one of their indices.
        if *name == CONNECTION {
            self.connection = true;
        } else if *name == CONTENT_LENGTH {
            self.content_length += 1;
        } else if *name == TRANSFER_ENCODING {
            self.transfer_encoding = true;
        } else if *name == UPGRADE {
            self.upgrade = true;
        } else if *name == EXPECT {
            self.expect = true;
        } else if *name == TE {
            self.te = true;
        }
    }

    /// True when a `Connection` line lists `token`.
    pub(crate) fn connection_lists(&self, headers: &HeaderMap, token: &str) -> bool {
        self.connection && crate::lists_token(headers, &CONNECTION, token)
    }
}

/// Builds a header map from the head's bytes and the spans of its lines, with room for `room`
/// more headers (those a proxy adds before the message goes on) without the map growing; and
/// what it [`Seen`].
pub(crate) fn header_map(
    head: &Bytes,
    spans: &[Span],
    room: usize,
) -> Result<(HeaderMap, Seen), Error> {
    let mut headers = HeaderMap::with_capacity(spans.len() + room);
    let mut seen = Seen::default();
    for &(name, name_len, value, value_len) in spans {
        let (name, value) = (name as usize, value as usize);
        let name = HeaderName::from_bytes(&head[name..name + name_len as usize])
            .map_err(|_| Error::HeaderLine)?;
        let value = HeaderValue::from_maybe_shared(head.slice(value..value + value_len as usize))
            .map_err(|_| Error::HeaderLine)?;
        seen.note(&name);
        headers.append(name, value);
    }
    Ok((headers, seen))
}
