//! Strict base64url: the scheme emits it without padding; a decoder accepts exactly one spelling
//! per byte string (unpadded, or correctly padded), refusing other alphabets, line breaks,
//! misplaced or excess padding and non-zero trailing bits.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

/// Why a base64url string was refused.
#[derive(Debug, thiserror::Error)]
#[error("not strict base64url")]
pub struct B64Error(#[source] base64::DecodeError);

/// Encodes without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes strictly; a correctly padded input decodes like its unpadded form.
pub fn decode(s: &str) -> Result<Vec<u8>, B64Error> {
    if s.ends_with('=') {
        // The padded engine requires canonical padding: length a multiple of four, no `=`
        // inside, no more than the missing characters.
        URL_SAFE.decode(s).map_err(B64Error)
    } else {
        URL_SAFE_NO_PAD.decode(s).map_err(B64Error)
    }
}
