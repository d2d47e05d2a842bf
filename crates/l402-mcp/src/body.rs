//! Reading a response body for a model: bounded, text when it is text, base64 when it is small
//! binary, a note otherwise.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};

/// Default number of body bytes shown to the model (about 8 000 tokens of text).
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024;

/// A response body as shown to the model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ShownBody {
    /// The body as text (possibly truncated).
    pub text: Option<String>,
    /// A small binary body, base64 (standard alphabet, padded).
    pub base64: Option<String>,
    /// True when the body was cut.
    pub truncated: bool,
    /// What the model should know about the body (truncation, binary).
    pub note: Option<String>,
    /// Bytes read (at most the limit plus one).
    pub bytes_read: usize,
}

/// Reads the body up to `limit` bytes; true when there was more (the rest is not read, so a
/// huge body costs no more than the limit).
pub(crate) async fn read_limited(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<(Bytes, bool), reqwest::Error> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        buf.extend_from_slice(&chunk);
        if buf.len() > limit {
            buf.truncate(limit);
            return Ok((buf.freeze(), true));
        }
    }
    Ok((buf.freeze(), false))
}

/// Renders `bytes` (cut at the limit when `truncated`) for a model.
pub(crate) fn render(
    bytes: &[u8],
    truncated: bool,
    content_type: Option<&str>,
    declared_len: Option<u64>,
    limit: usize,
) -> ShownBody {
    let kind = classify(content_type);
    let size = match (truncated, declared_len) {
        (false, _) => format!("{} bytes", bytes.len()),
        (true, Some(n)) => format!("{n} bytes"),
        (true, None) => format!("more than {limit} bytes"),
    };
    let utf8_prefix = utf8_prefix(bytes, truncated);
    let as_text = match kind {
        Kind::Text => true,
        Kind::Binary => false,
        // Unknown type: text if it decodes as UTF-8.
        Kind::Unknown => utf8_prefix.is_some(),
    };
    let mut shown = ShownBody {
        truncated,
        bytes_read: bytes.len(),
        ..ShownBody::default()
    };
    if as_text {
        let text = match utf8_prefix {
            Some(t) => t.to_owned(),
            None => String::from_utf8_lossy(bytes).into_owned(),
        };
        if truncated {
            shown.note = Some(format!(
                "body truncated: showing the first {} bytes of {size}",
                text.len()
            ));
        }
        shown.text = Some(text);
    } else if !truncated && bytes.len() <= limit * 3 / 4 {
        shown.base64 = Some(STANDARD.encode(bytes));
        shown.note = Some(format!(
            "binary body ({size}) shown as base64 in body_base64"
        ));
    } else {
        shown.note = Some(format!(
            "binary body ({size}, {}) not shown: too large to pass as base64",
            content_type.unwrap_or("no content type")
        ));
    }
    shown
}

/// The longest UTF-8 prefix of `bytes`: all of it when valid; when the body was cut, a
/// character split by the cut is dropped. `None` when the bytes are not UTF-8.
fn utf8_prefix(bytes: &[u8], truncated: bool) -> Option<&str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s),
        // An incomplete sequence at the very end of a cut body is the cut, not binary data.
        Err(e) if truncated && e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
}

/// What a content type says about the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
    Unknown,
}

fn classify(content_type: Option<&str>) -> Kind {
    let Some(ct) = content_type else {
        return Kind::Unknown;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let textual = essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/ecmascript"
                | "application/x-www-form-urlencoded"
                | "application/x-ndjson"
                | "application/ld+json"
                | "application/graphql"
                | "application/yaml"
                | "application/x-yaml"
                | "application/toml"
                | "application/sql"
        );
    if textual {
        Kind::Text
    } else if essence.is_empty() || essence == "application/octet-stream" {
        Kind::Unknown
    } else {
        Kind::Binary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_shown_whole_below_the_limit() {
        let b = render(b"{\"a\":1}", false, Some("application/json"), None, 100);
        assert_eq!(b.text.as_deref(), Some("{\"a\":1}"));
        assert!(!b.truncated);
        assert_eq!(b.note, None);
    }

    #[test]
    fn truncated_text_says_so_and_keeps_whole_characters() {
        // "é" is two bytes; cut in its middle.
        let bytes = "abcé".as_bytes();
        let b = render(&bytes[..4], true, Some("text/plain"), Some(5000), 4);
        assert_eq!(b.text.as_deref(), Some("abc"));
        assert!(b.truncated);
        let note = b.note.unwrap();
        assert!(note.contains("first 3 bytes of 5000 bytes"), "{note}");
    }

    #[test]
    fn small_binary_is_base64_large_binary_is_a_note() {
        let png = [0x89, b'P', b'N', b'G', 0, 0xff];
        let b = render(&png, false, Some("image/png"), None, 100);
        assert_eq!(b.base64.as_deref(), Some("iVBORwD/"));
        assert_eq!(b.text, None);
        let big = vec![0u8; 100];
        let b = render(&big, true, Some("image/png"), Some(1_000_000), 100);
        assert_eq!((b.text, b.base64), (None, None));
        assert!(b.note.unwrap().contains("1000000 bytes"));
    }

    #[test]
    fn unknown_type_is_text_when_utf8() {
        let b = render(b"hello", false, None, None, 100);
        assert_eq!(b.text.as_deref(), Some("hello"));
        let b = render(
            &[0xff, 0xfe, 0],
            false,
            Some("application/octet-stream"),
            None,
            100,
        );
        assert_eq!(b.text, None);
        assert!(b.base64.is_some());
    }
}
