//! The HMAC-SHA256 chain shared by libmacaroons and go-macaroon.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::hmac_sha256::HmacKey;

/// The fixed key that turns a root key into the chain's first key.
const KEY_GENERATOR: &[u8] = b"macaroons-key-generator";

/// A 32-byte macaroon signature (also the running key of the chain).
///
/// Whoever holds a macaroon's signature can add caveats to it, so `Debug` does not print it,
/// equality is constant-time and it is zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Signature(pub(crate) [u8; 32]);

impl Signature {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Wraps raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for Signature {}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(<redacted>)")
    }
}

/// `HMAC-SHA256(key, msg)`, the result written straight into a [`Signature`] (zeroized on
/// drop). The keyed states, pads and digests zeroize themselves ([`HmacKey`]).
pub(crate) fn hmac(key: &[u8], msg: &[u8]) -> Signature {
    let mut sig = Signature([0; 32]);
    HmacKey::new(key).mac_into(msg, &mut sig.0);
    sig
}

/// The HMAC key [`KEY_GENERATOR`] (a public constant) with its padded blocks compressed once:
/// deriving a root key's first chain key then costs two compressions, not four.
static KEY_GENERATOR_KEY: std::sync::LazyLock<HmacKey> =
    std::sync::LazyLock::new(|| HmacKey::new(KEY_GENERATOR));

/// The chain's first key: `HMAC("macaroons-key-generator", root_key)`, zeroized on drop.
pub(crate) fn derive_key(root_key: &[u8]) -> Signature {
    let mut sig = Signature([0; 32]);
    KEY_GENERATOR_KEY.mac_into(root_key, &mut sig.0);
    sig
}

/// The first signature: `HMAC(derive_key(root_key), identifier)`.
pub(crate) fn initial_signature(root_key: &[u8], identifier: &[u8]) -> Signature {
    hmac(&derive_key(root_key).0, identifier)
}

/// Extends the chain with a first-party caveat: `HMAC(sig, caveat_id)`.
pub(crate) fn chain_first_party(sig: &Signature, caveat_id: &[u8]) -> Signature {
    hmac(&sig.0, caveat_id)
}

/// Extends the chain with a third-party caveat: `HMAC(sig, HMAC(sig, vid) || HMAC(sig, cid))`.
pub(crate) fn chain_third_party(sig: &Signature, vid: &[u8], caveat_id: &[u8]) -> Signature {
    let mut both = Zeroizing::new([0u8; 64]);
    both[..32].copy_from_slice(&hmac(&sig.0, vid).0);
    both[32..].copy_from_slice(&hmac(&sig.0, caveat_id).0);
    hmac(&sig.0, both.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cached_key_generator_state_derives_as_a_fresh_hmac() {
        for root_key in [&b""[..], &[7u8; 32][..], &[1u8; 100][..]] {
            assert_eq!(derive_key(root_key), hmac(KEY_GENERATOR, root_key));
        }
    }

    #[test]
    fn chain_states_are_zeroized_on_drop() {
        fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
        zeroized_on_drop::<Signature>();
        zeroized_on_drop::<Zeroizing<[u8; 64]>>();
        zeroized_on_drop::<HmacKey>();
    }
}
