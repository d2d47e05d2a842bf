//! Small typed values shared by every L402 crate: hashes, preimages, token ids and amounts.

use core::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Error returned when a hex string cannot become one of the 32-byte values below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexError {
    /// The string is not exactly 64 characters long.
    #[error("expected 64 hex characters, got {0}")]
    Length(usize),
    /// The string holds a character outside `0-9a-fA-F`.
    #[error("not hexadecimal")]
    NotHex,
    /// The string holds upper-case hex where lower-case is required.
    #[error("upper-case hex is not accepted here; use lower-case")]
    UpperCase,
}

fn decode_hex32(s: &str, lower_only: bool) -> Result<[u8; 32], HexError> {
    if s.len() != 64 {
        return Err(HexError::Length(s.len()));
    }
    // Branch-free over the digits (a preimage is a secret, and this is on every paid request):
    // each digit's value and whether it is one are computed, the flags OR-ed, and checked once.
    let mut out = [0u8; 32];
    let (mut invalid, mut upper) = (0u8, 0u8);
    for (byte, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        let (high, high_ok) = hex_digit(pair[0]);
        let (low, low_ok) = hex_digit(pair[1]);
        *byte = (high << 4) | low;
        invalid |= u8::from(!(high_ok & low_ok));
        upper |= u8::from(pair[0].is_ascii_uppercase() | pair[1].is_ascii_uppercase());
    }
    if lower_only && upper != 0 {
        return Err(HexError::UpperCase);
    }
    if invalid != 0 {
        return Err(HexError::NotHex);
    }
    Ok(out)
}

/// Lower-case hex of `bytes`, without branching on or indexing by their values (a preimage is
/// a secret). The same text as `hex::encode`, in a few instructions per byte rather than an
/// iterator of characters (payment hashes and token ids are written out on every challenge).
///
/// ```
/// assert_eq!(l402_core::types::encode_hex(&[0x00, 0x9f, 0xa0, 0xff]), "009fa0ff");
/// ```
pub fn encode_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(hex_char(b >> 4)));
        out.push(char::from(hex_char(b & 0x0f)));
    }
    out
}

/// The lower-case hex digit of a nibble (`0..16`), without branching on it: `'0' + n`, plus
/// the distance from `'9' + 1` to `'a'` when `n > 9`.
#[inline]
fn hex_char(nibble: u8) -> u8 {
    // 9 - n borrows (its top bit set) exactly when n > 9.
    let above_nine = 0u8.wrapping_sub(9u8.wrapping_sub(nibble) >> 7);
    b'0' + nibble + (above_nine & (b'a' - b'9' - 1))
}

/// A hex digit's value (either case) and whether `b` is one, without branching on `b`.
#[inline]
fn hex_digit(b: u8) -> (u8, bool) {
    let digit = b.wrapping_sub(b'0');
    let letter = (b | 0x20).wrapping_sub(b'a');
    let (is_digit, is_letter) = (digit < 10, letter < 6);
    let value = (digit & 0u8.wrapping_sub(u8::from(is_digit)))
        | (letter.wrapping_add(10) & 0u8.wrapping_sub(u8::from(is_letter)));
    (value, is_digit | is_letter)
}

/// The SHA-256 payment hash of a Lightning invoice.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaymentHash(pub [u8; 32]);

impl PaymentHash {
    /// Parses 64 hex characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, HexError> {
        decode_hex32(s, false).map(Self)
    }
    /// Lower-case hex encoding.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

impl fmt::Debug for PaymentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentHash({})", self.to_hex())
    }
}

impl fmt::Display for PaymentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The 32-byte secret whose SHA-256 is the payment hash: the proof of payment.
///
/// Secret: its `Debug` output is redacted, equality is constant-time, and it is zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Preimage(pub [u8; 32]);

impl Preimage {
    /// Parses 64 hex characters. Only lower-case is accepted, as Aperture requires.
    pub fn from_hex(s: &str) -> Result<Self, HexError> {
        decode_hex32(s, true).map(Self)
    }
    /// Lower-case hex encoding (the wire form).
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
    /// The payment hash this preimage pays: `sha256(preimage)`.
    pub fn payment_hash(&self) -> PaymentHash {
        PaymentHash(Sha256::digest(self.0).into())
    }
    /// True when `sha256(self) == hash`, compared in constant time.
    pub fn pays(&self, hash: &PaymentHash) -> bool {
        self.payment_hash().0.ct_eq(&hash.0).into()
    }
}

impl PartialEq for Preimage {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for Preimage {}

impl fmt::Debug for Preimage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Preimage(<redacted>)")
    }
}

/// The random 32-byte token id inside an L402 identifier; the client's identity for the server.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(pub [u8; 32]);

impl TokenId {
    /// Parses 64 hex characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, HexError> {
        decode_hex32(s, false).map(Self)
    }
    /// Lower-case hex encoding.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenId({})", self.to_hex())
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An amount in millisatoshis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Msat(pub u64);

impl Msat {
    /// `sats` whole satoshis, saturating on overflow.
    pub const fn from_sat(sats: u64) -> Self {
        Self(sats.saturating_mul(1000))
    }
    /// Whole satoshis, rounded up (a partial satoshi still costs one).
    pub const fn to_sat_ceil(self) -> u64 {
        self.0.div_ceil(1000)
    }
    /// Checked addition.
    pub const fn checked_add(self, other: Msat) -> Option<Msat> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Msat(v)),
            None => None,
        }
    }
    /// Saturating subtraction.
    pub const fn saturating_sub(self, other: Msat) -> Msat {
        Msat(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Msat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1000) {
            write!(f, "{} sat", self.0 / 1000)
        } else {
            write!(f, "{}.{:03} sat", self.0 / 1000, self.0 % 1000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every byte value encodes as the `hex` crate encodes it.
    #[test]
    fn encode_hex_agrees_with_the_hex_crate_on_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(encode_hex(&all), hex::encode(&all));
        assert_eq!(encode_hex(&[]), "");
        let hash = PaymentHash([0xab; 32]);
        assert_eq!(hash.to_hex(), "ab".repeat(32));
    }

    proptest! {
        /// The branch-free decoder agrees with the `hex` crate on every 64-byte string over
        /// the digits, both cases, the bytes next to their ranges, and anything else.
        #[test]
        fn hex32_agrees_with_the_hex_crate(
            bytes in proptest::collection::vec(
                prop_oneof![
                    8 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                    1 => proptest::sample::select(b"/:@G`g".to_vec()),
                    1 => any::<u8>().prop_filter("ASCII", u8::is_ascii),
                ],
                64,
            ),
        ) {
            let s = String::from_utf8(bytes).expect("ASCII");
            let reference = hex::decode(&s).ok();
            let either_case = decode_hex32(&s, false).ok();
            prop_assert_eq!(either_case.map(|b| b.to_vec()), reference.clone());
            match decode_hex32(&s, true) {
                Ok(lower) => {
                    prop_assert!(!s.bytes().any(|b| b.is_ascii_uppercase()));
                    prop_assert_eq!(Some(lower.to_vec()), reference);
                }
                Err(HexError::UpperCase) => prop_assert!(s.bytes().any(|b| b.is_ascii_uppercase())),
                Err(e) => {
                    prop_assert_eq!(e, HexError::NotHex);
                    prop_assert!(reference.is_none());
                }
            }
        }
    }

    #[test]
    fn preimage_vector_from_lsat_js() {
        let p =
            Preimage::from_hex("2ca931a1c36b48f54948b898a271a53ed91ff7d0081939a5fa511249e81cba5c")
                .unwrap();
        assert_eq!(
            p.payment_hash().to_hex(),
            "7cef93f2c51aa65208bec1447fc38fc58d9bce1375a532edb0dcd290a2c330ae"
        );
        assert!(p.pays(&p.payment_hash()));
        assert!(!p.pays(&PaymentHash([0; 32])));
    }

    #[test]
    fn preimage_rejects_upper_case_and_bad_length() {
        assert_eq!(
            Preimage::from_hex(&"AB".repeat(32)).unwrap_err(),
            HexError::UpperCase
        );
        assert_eq!(Preimage::from_hex("abcd").unwrap_err(), HexError::Length(4));
        assert_eq!(
            Preimage::from_hex(&"zz".repeat(32)).unwrap_err(),
            HexError::NotHex
        );
    }

    #[test]
    fn preimage_debug_is_redacted() {
        let p = Preimage([7; 32]);
        assert_eq!(format!("{p:?}"), "Preimage(<redacted>)");
    }

    #[test]
    fn msat_display_and_rounding() {
        assert_eq!(Msat::from_sat(10).to_string(), "10 sat");
        assert_eq!(Msat(1500).to_string(), "1.500 sat");
        assert_eq!(Msat(1001).to_sat_ceil(), 2);
    }
}
