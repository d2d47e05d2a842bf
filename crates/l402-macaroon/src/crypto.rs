//! The HMAC-SHA256 chain shared by libmacaroons and go-macaroon.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

type HmacSha256 = Hmac<Sha256>;

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
/// drop). The HMAC state and its output zeroize themselves (`hmac`'s and `sha2`'s `zeroize`
/// features).
pub(crate) fn hmac(key: &[u8], msg: &[u8]) -> Signature {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(msg);
    let output = mac.finalize();
    let mut sig = Signature([0; 32]);
    sig.0.copy_from_slice(output.as_bytes());
    sig
}

#[cold]
fn unreachable_hmac() -> ! {
    panic!("HMAC-SHA256 accepts keys of every length")
}

/// The HMAC state keyed by [`KEY_GENERATOR`] (a public constant): cloned for each root key,
/// which saves hashing the key's two padded blocks every time.
static KEY_GENERATOR_MAC: std::sync::LazyLock<HmacSha256> =
    std::sync::LazyLock::new(|| match HmacSha256::new_from_slice(KEY_GENERATOR) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    });

/// The chain's first key: `HMAC("macaroons-key-generator", root_key)`, zeroized on drop.
pub(crate) fn derive_key(root_key: &[u8]) -> Signature {
    let mut mac = KEY_GENERATOR_MAC.clone();
    mac.update(root_key);
    let output = mac.finalize();
    let mut sig = Signature([0; 32]);
    sig.0.copy_from_slice(output.as_bytes());
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
        zeroized_on_drop::<<Sha256 as hmac::EagerHash>::Core>();
        zeroized_on_drop::<hmac::digest::CtOutput<HmacSha256>>();
    }
}
