//! Macaroons as libmacaroons and go-macaroon define them: the V2 binary codec and the
//! HMAC-SHA256 signature chain with first-party caveats. Does no IO.
//!
//! ```
//! use l402_macaroon::{Macaroon, RootKey};
//!
//! let key = RootKey::new(b"this is the key".to_vec());
//! let mut mac = Macaroon::new(&key, b"keyid".to_vec(), Some(b"http://example.org/".to_vec()));
//! mac.add_first_party_caveat(b"account = 3735928559".to_vec());
//! let bytes = mac.encode_v2();
//! let back = Macaroon::decode_v2(&bytes).unwrap();
//! assert!(back.verify(&key).is_ok());
//! ```

mod crypto;
mod decode;
mod encode;
mod error;
mod hmac_sha256;
mod macaroon;
mod varint;

pub use crypto::Signature;
pub use error::{DecodeError, VerifyError};
pub use macaroon::{Caveat, Macaroon, RootKey};

/// Most caveats a decoded macaroon may carry; more is refused as a denial-of-service guard.
pub const MAX_CAVEATS: usize = 1000;
/// Largest single field (location, identifier, caveat id or VID) accepted when decoding.
pub const MAX_FIELD_LEN: usize = 65_535;
