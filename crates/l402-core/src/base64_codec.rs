//! Base64 as L402 headers use it: emit RFC 4648 standard alphabet with padding (what Aperture
//! emits and requires), accept standard or URL-safe, padded or not.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::scan;

/// Why a string is not acceptable base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base64Error {
    /// A character outside both base64 alphabets (and not trailing `=` padding).
    #[error("invalid base64 character at byte {index}")]
    InvalidCharacter {
        /// Byte offset of the character in the input.
        index: usize,
    },
    /// Characters only found in the standard alphabet (`+`, `/`) and characters only found in
    /// the URL-safe alphabet (`-`, `_`) appear in the same string.
    #[error("base64 mixes the standard (+/) and URL-safe (-_) alphabets")]
    MixedAlphabets,
    /// A `=` is followed by a non-padding character.
    #[error("base64 padding `=` in the middle of the input at byte {index}")]
    MisplacedPadding {
        /// Byte offset of the first misplaced `=`.
        index: usize,
    },
    /// More than two `=`, or a number of `=` that does not complete the last 4-character group.
    #[error("wrong base64 padding")]
    BadPadding,
    /// The number of data characters cannot come from any byte string (one more than a
    /// multiple of four).
    #[error("impossible base64 length: {len} data characters")]
    InvalidLength {
        /// Number of data characters, padding excluded.
        len: usize,
    },
    /// The last character carries non-zero bits that no encoder would produce.
    #[error("non-canonical base64: the last character at byte {index} has stray bits")]
    NonCanonical {
        /// Byte offset of the offending character.
        index: usize,
    },
}

/// Which of the two RFC 4648 alphabets a padding-free base64 string uses.
#[derive(Clone, Copy)]
enum Alphabet {
    Standard,
    UrlSafe,
}

/// Encodes with the RFC 4648 §4 standard alphabet, `=`-padded.
pub fn encode_std(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard or URL-safe base64, with or without `=` padding.
///
/// Rejects a string that mixes the two alphabets, padding anywhere but at the end, padding that
/// does not match the length, and non-canonical trailing bits. The empty string decodes to no
/// bytes; callers that need a value check for emptiness themselves.
pub fn decode_lenient(s: &str) -> Result<Vec<u8>, Base64Error> {
    let data = strip_padding(s)?;
    // Fast path: a vectorised decoder that is as strict as the checks below (one alphabet, a
    // possible length, canonical last bits), tried in each alphabet. Anything it refuses goes
    // the precise way, which says what is wrong and where.
    for simd in [&base64_simd::STANDARD_NO_PAD, &base64_simd::URL_SAFE_NO_PAD] {
        if let Ok(bytes) = simd.decode_to_vec(data) {
            return Ok(bytes);
        }
    }
    precise_decode(data)
}

/// The slow, precise decoder of padding-free `data`: refuses exactly what the fast path
/// refuses, naming the reason.
fn precise_decode(data: &str) -> Result<Vec<u8>, Base64Error> {
    let engine = match detect_alphabet(data)? {
        Alphabet::Standard => &STANDARD_NO_PAD,
        Alphabet::UrlSafe => &URL_SAFE_NO_PAD,
    };
    if data.len() % 4 == 1 {
        return Err(Base64Error::InvalidLength { len: data.len() });
    }
    engine.decode(data).map_err(from_decode_error)
}

/// Returns `s` without its trailing padding, after checking the padding is well placed and
/// consistent with the length.
fn strip_padding(s: &str) -> Result<&str, Base64Error> {
    let data = s.trim_end_matches('=');
    if let Some(index) = data.find('=') {
        return Err(Base64Error::MisplacedPadding { index });
    }
    let padding = s.len() - data.len();
    if padding > 0 && (padding > 2 || !s.len().is_multiple_of(4)) {
        return Err(Base64Error::BadPadding);
    }
    Ok(data)
}

/// Finds which alphabet a padding-free string uses; alphanumerics belong to both.
fn detect_alphabet(data: &str) -> Result<Alphabet, Base64Error> {
    let bytes = data.as_bytes();
    // Non-short-circuiting operators keep the predicates branch-free, so the scans vectorise.
    let in_either = |b: u8| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        letter | digit | (b == b'+') | (b == b'/') | (b == b'-') | (b == b'_')
    };
    if let Some(index) = scan::position(bytes, |b| !in_either(b)) {
        return Err(Base64Error::InvalidCharacter { index });
    }
    let standard = scan::any(bytes, |b| (b == b'+') | (b == b'/'));
    let url_safe = scan::any(bytes, |b| (b == b'-') | (b == b'_'));
    match (standard, url_safe) {
        (true, true) => Err(Base64Error::MixedAlphabets),
        (false, true) => Ok(Alphabet::UrlSafe),
        _ => Ok(Alphabet::Standard),
    }
}

/// Maps the `base64` crate's error; after the checks above only `InvalidLastSymbol` is expected.
fn from_decode_error(e: base64::DecodeError) -> Base64Error {
    match e {
        base64::DecodeError::InvalidByte(index, _) => Base64Error::InvalidCharacter { index },
        base64::DecodeError::InvalidLength(len) => Base64Error::InvalidLength { len },
        base64::DecodeError::InvalidLastSymbol(index, _) => Base64Error::NonCanonical { index },
        base64::DecodeError::InvalidPadding => Base64Error::BadPadding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_standard_padded() {
        assert_eq!(encode_std(b"\xfb\xff"), "+/8=");
        assert_eq!(encode_std(b"a"), "YQ==");
        assert_eq!(encode_std(b""), "");
    }

    #[test]
    fn decodes_every_accepted_variant() {
        for s in ["+/8=", "+/8", "-_8=", "-_8"] {
            assert_eq!(decode_lenient(s).unwrap(), b"\xfb\xff", "{s}");
        }
        assert_eq!(decode_lenient("YQ==").unwrap(), b"a");
        assert_eq!(decode_lenient("YQ").unwrap(), b"a");
        assert_eq!(decode_lenient("").unwrap(), b"");
    }

    #[test]
    fn rejects_precisely() {
        use Base64Error::*;
        assert_eq!(decode_lenient("+_8="), Err(MixedAlphabets));
        assert_eq!(decode_lenient("YQ=a"), Err(MisplacedPadding { index: 2 }));
        assert_eq!(decode_lenient("Y=Q="), Err(MisplacedPadding { index: 1 }));
        assert_eq!(decode_lenient("YQ="), Err(BadPadding));
        assert_eq!(decode_lenient("YQ==="), Err(BadPadding));
        assert_eq!(decode_lenient("YWJj="), Err(BadPadding));
        assert_eq!(decode_lenient("===="), Err(BadPadding));
        assert_eq!(decode_lenient("YWJjZ"), Err(InvalidLength { len: 5 }));
        assert_eq!(decode_lenient("YR=="), Err(NonCanonical { index: 1 }));
        assert_eq!(decode_lenient("YW J"), Err(InvalidCharacter { index: 2 }));
        assert_eq!(decode_lenient("YWéA"), Err(InvalidCharacter { index: 2 }));
    }

    proptest::proptest! {
        /// The fast path and the precise decoder accept exactly the same strings, with the
        /// same bytes: over both alphabets, padding, and the characters next to them.
        #[test]
        fn the_fast_path_accepts_what_the_precise_decoder_accepts(
            chars in proptest::collection::vec(
                proptest::prop_oneof![
                    12 => proptest::sample::select(
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                            .chars()
                            .collect::<Vec<_>>()
                    ),
                    1 => proptest::sample::select("+/-_=.* é\u{0}".chars().collect::<Vec<_>>()),
                ],
                0..300,
            ),
        ) {
            // Up to 300 characters: the vectorised decoder's own loop starts at 38.
            let s: String = chars.into_iter().collect();
            let precise = strip_padding(&s).and_then(precise_decode);
            proptest::prop_assert_eq!(decode_lenient(&s), precise);
        }

        /// Every encoding of random bytes decodes on the fast path to those bytes.
        #[test]
        fn encodings_round_trip(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..300)) {
            let std = encode_std(&bytes);
            let url = URL_SAFE_NO_PAD.encode(&bytes);
            for encoded in [std.as_str(), std.trim_end_matches('='), url.as_str()] {
                proptest::prop_assert_eq!(decode_lenient(encoded), Ok(bytes.clone()));
            }
        }
    }
}
