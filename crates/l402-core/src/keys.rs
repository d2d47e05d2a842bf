//! Stateless root keys: `root_key = HMAC-SHA256(master_key[epoch], token_id)`, with the key
//! epoch in the token id's first four bytes, so minting writes nothing, verification reads
//! nothing, and master keys can rotate.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use hmac::{EagerHash, Hmac, KeyInit, Mac};
use l402_macaroon::RootKey;
use sha2::Sha256;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::env::Rng;
use crate::identifier::Identifier;
use crate::types::TokenId;

/// A 32-byte master secret. Zeroized on drop; `Debug` does not print it.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

/// Its only field is `Zeroizing`.
impl ZeroizeOnDrop for MasterKey {}

impl MasterKey {
    /// Wraps secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }
    /// Draws a fresh key from `rng`.
    pub fn generate(rng: &mut dyn Rng) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut());
        Self(bytes)
    }
    /// The secret bytes, for persisting.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// The key epoch a token id was minted under.
pub fn token_epoch(token_id: &TokenId) -> u32 {
    u32::from_be_bytes([token_id.0[0], token_id.0[1], token_id.0[2], token_id.0[3]])
}

/// Where a verifier finds the root key of a macaroon.
pub trait RootKeySource {
    /// The root key for this identifier, or why there is none.
    fn root_key(&self, identifier: &Identifier) -> Result<RootKey, RootKeyError>;
}

/// Why no root key is available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RootKeyError {
    /// The token names a key epoch this verifier does not hold.
    #[error("unknown key epoch {0}")]
    UnknownEpoch(u32),
    /// The token names a key epoch the operator retired (`l402 keys retire`).
    #[error("key epoch {0} was retired")]
    RetiredEpoch(u32),
    /// The key source has no key for this token (e.g. a store lookup found nothing).
    #[error("no root key for this token")]
    NotFound,
}

/// An HMAC-SHA256 state keyed by one master key: both of its SHA-256 cores and its block
/// buffer wipe themselves on drop (`hmac`'s and `sha2`'s `zeroize` features, checked at compile
/// time below). Boxed, so the ring's map moves a pointer, never copies of the state.
#[derive(Clone)]
struct KeyedMac(Box<Hmac<Sha256>>);

/// Fails to compile unless every part of an `Hmac<Sha256>` is zeroized on drop.
const _: fn() = || {
    fn zeroized_on_drop<T: ZeroizeOnDrop + ?Sized>() {}
    zeroized_on_drop::<<Sha256 as EagerHash>::Core>();
    zeroized_on_drop::<hmac::digest::block_api::Buffer<hmac::block_api::HmacCore<Sha256>>>();
};

/// Its HMAC state is zeroized on drop (see the compile-time check above).
impl ZeroizeOnDrop for KeyedMac {}

/// Master keys by epoch, with one current epoch used for minting, and the epochs retired.
///
/// Holds no key bytes, only the HMAC state each master key was absorbed into; every state is
/// zeroized on drop (the ring implements [`ZeroizeOnDrop`]).
#[derive(Clone)]
pub struct KeyRing {
    current: u32,
    /// HMAC state keyed by each master key, computed once so each derivation costs two
    /// compression rounds instead of four.
    keyed: BTreeMap<u32, KeyedMac>,
    /// Epochs whose tokens are refused as retired rather than unknown.
    retired: BTreeSet<u32>,
}

/// Every key-bearing field is a `KeyedMac`.
impl ZeroizeOnDrop for KeyRing {}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current_epoch", &self.current)
            .field("epochs", &self.keyed.keys().collect::<Vec<_>>())
            .field("retired", &self.retired)
            .finish()
    }
}

impl KeyRing {
    /// A ring holding one key, `epoch`, used for minting.
    pub fn new(epoch: u32, key: &MasterKey) -> Self {
        let mut ring = Self {
            current: epoch,
            keyed: BTreeMap::new(),
            retired: BTreeSet::new(),
        };
        ring.insert(epoch, key);
        ring
    }

    /// Adds (or replaces) the key of `epoch`; older epochs keep verifying.
    pub fn insert(&mut self, epoch: u32, key: &MasterKey) {
        // HMAC takes keys of every length, so this cannot fail.
        if let Ok(mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()) {
            self.keyed.insert(epoch, KeyedMac(Box::new(mac)));
            self.retired.remove(&epoch);
        }
    }

    /// Makes `epoch` the one new tokens are minted under. Returns false if it is unknown.
    pub fn set_current(&mut self, epoch: u32) -> bool {
        let known = self.keyed.contains_key(&epoch);
        if known {
            self.current = epoch;
        }
        known
    }

    /// Drops an epoch: every token minted under it stops verifying, refused as
    /// [`RootKeyError::RetiredEpoch`]. The current epoch is never retired.
    pub fn retire(&mut self, epoch: u32) {
        if epoch != self.current {
            self.keyed.remove(&epoch);
            self.retired.insert(epoch);
        }
    }

    /// The epoch new tokens are minted under.
    pub fn current_epoch(&self) -> u32 {
        self.current
    }

    /// Whether tokens of `epoch` verify (its key is held).
    pub fn holds(&self, epoch: u32) -> bool {
        self.keyed.contains_key(&epoch)
    }

    /// The epochs held, ascending.
    pub fn epochs(&self) -> impl Iterator<Item = u32> + '_ {
        self.keyed.keys().copied()
    }

    /// The epochs retired, ascending.
    pub fn retired_epochs(&self) -> impl Iterator<Item = u32> + '_ {
        self.retired.iter().copied()
    }

    /// A fresh token id: the current epoch in its first four bytes, then 28 random bytes.
    pub fn new_token_id(&self, rng: &mut dyn Rng) -> TokenId {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&self.current.to_be_bytes());
        rng.fill(&mut id[4..]);
        TokenId(id)
    }

    /// Derives the root key of a token id.
    pub fn derive(&self, token_id: &TokenId) -> Result<RootKey, RootKeyError> {
        let epoch = token_epoch(token_id);
        let Some(keyed) = self.keyed.get(&epoch) else {
            return Err(if self.retired.contains(&epoch) {
                RootKeyError::RetiredEpoch(epoch)
            } else {
                RootKeyError::UnknownEpoch(epoch)
            });
        };
        // The copy is zeroized when `finalize` consumes it; the output is read in place
        // (`CtOutput` zeroizes itself on drop) rather than copied out first.
        let mut mac: Hmac<Sha256> = (*keyed.0).clone();
        mac.update(&token_id.0);
        let output = mac.finalize();
        Ok(RootKey::new(output.as_bytes().to_vec()))
    }
}

impl RootKeySource for KeyRing {
    fn root_key(&self, identifier: &Identifier) -> Result<RootKey, RootKeyError> {
        self.derive(&identifier.token_id)
    }
}

/// One explicit root key for every token: how a verifier checks a token minted elsewhere, for
/// instance by Aperture, whose root keys are random and stored.
impl RootKeySource for RootKey {
    fn root_key(&self, _identifier: &Identifier) -> Result<RootKey, RootKeyError> {
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::tests::CountingRng;

    #[test]
    fn derivation_matches_plain_hmac() {
        let key = MasterKey::from_bytes([9; 32]);
        let ring = KeyRing::new(7, &key);
        let id = ring.new_token_id(&mut CountingRng(0));
        assert_eq!(token_epoch(&id), 7);
        let mut plain = <Hmac<Sha256> as KeyInit>::new_from_slice(&[9; 32]).unwrap();
        plain.update(&id.0);
        assert_eq!(
            ring.derive(&id).unwrap().as_bytes(),
            plain.finalize().into_bytes().as_slice()
        );
    }

    #[test]
    fn rotation_keeps_old_epochs_until_retired() {
        let mut ring = KeyRing::new(1, &MasterKey::from_bytes([1; 32]));
        let old = ring.new_token_id(&mut CountingRng(0));
        ring.insert(2, &MasterKey::from_bytes([2; 32]));
        assert!(ring.set_current(2));
        let new = ring.new_token_id(&mut CountingRng(0));
        assert_eq!(token_epoch(&new), 2);
        assert!(ring.derive(&old).is_ok());
        ring.retire(1);
        assert_eq!(
            ring.derive(&old).unwrap_err(),
            RootKeyError::RetiredEpoch(1)
        );
        assert!(!ring.set_current(1));
    }

    #[test]
    fn retired_epochs_are_refused_as_retired() {
        let mut ring = KeyRing::new(1, &MasterKey::from_bytes([1; 32]));
        let old = ring.new_token_id(&mut CountingRng(0));
        ring.insert(2, &MasterKey::from_bytes([2; 32]));
        assert!(ring.set_current(2));
        ring.retire(2);
        assert!(ring.holds(2), "the current epoch is never retired");
        ring.retire(1);
        assert!(!ring.holds(1));
        assert_eq!(ring.epochs().collect::<Vec<_>>(), [2]);
        assert_eq!(ring.retired_epochs().collect::<Vec<_>>(), [1]);
        assert_eq!(
            ring.derive(&old).unwrap_err(),
            RootKeyError::RetiredEpoch(1)
        );
        let mut stranger = old;
        stranger.0[..4].copy_from_slice(&9u32.to_be_bytes());
        assert_eq!(
            ring.derive(&stranger).unwrap_err(),
            RootKeyError::UnknownEpoch(9)
        );
    }

    #[test]
    fn key_material_is_zeroized_on_drop() {
        fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
        zeroized_on_drop::<MasterKey>();
        zeroized_on_drop::<KeyRing>();
        zeroized_on_drop::<KeyedMac>();
        zeroized_on_drop::<RootKey>();
        zeroized_on_drop::<l402_macaroon::Signature>();
        // The parts of every HMAC state the ring keeps.
        zeroized_on_drop::<<Sha256 as EagerHash>::Core>();
        zeroized_on_drop::<hmac::digest::block_api::Buffer<hmac::block_api::HmacCore<Sha256>>>();
        zeroized_on_drop::<hmac::digest::CtOutput<Hmac<Sha256>>>();
    }

    #[test]
    fn debug_hides_keys() {
        let ring = KeyRing::new(1, &MasterKey::from_bytes([0xab; 32]));
        assert!(!format!("{ring:?}").contains("ab"));
        assert_eq!(
            format!("{:?}", MasterKey::from_bytes([1; 32])),
            "MasterKey(<redacted>)"
        );
    }
}
