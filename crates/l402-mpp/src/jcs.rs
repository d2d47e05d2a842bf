//! RFC 8785 JSON canonicalisation (JCS): members ordered by UTF-16 code units, strings escaped
//! as `JSON.stringify` does, numbers rendered as ECMAScript does. The challenge's `request` and
//! `opaque` are base64url of these bytes, and the challenge id's HMAC covers those strings.

use serde::Serialize;

/// Why a value could not be canonicalised.
#[derive(Debug, thiserror::Error)]
#[error("cannot canonicalise JSON")]
pub struct JcsError(#[source] serde_json::Error);

/// The canonical bytes of a serialisable value.
pub fn to_vec<T: Serialize>(value: &T) -> Result<Vec<u8>, JcsError> {
    serde_json_canonicalizer::to_vec(value).map_err(JcsError)
}

/// Parses JSON text and returns its canonical form.
pub fn canonicalize(json: &str) -> Result<String, JcsError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(JcsError)?;
    serde_json_canonicalizer::to_string(&value).map_err(JcsError)
}

/// base64url (no padding) of the canonical bytes: the wire form of `request` and `opaque`.
pub fn encode_b64<T: Serialize>(value: &T) -> Result<String, JcsError> {
    Ok(crate::b64::encode(&to_vec(value)?))
}
