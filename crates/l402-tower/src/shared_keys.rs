//! The paywall's key ring, shared with whoever reloads it, so `l402 keys rotate` and
//! `l402 keys retire` reach a running proxy without a restart.

use std::sync::{Arc, RwLock};

use l402_core::keys::KeyRing;
use l402_core::mint::Minter;
use tokio::sync::watch;

/// A swappable key ring: the paywall takes a [`snapshot`](Self::snapshot) per request (mints
/// under its current epoch, verifies against its epochs); the owner [`replace`](Self::replace)s
/// it when the stored keys change. Clones share the ring; its subscribers
/// ([`subscribe`](Self::subscribe)) are woken by every replacement, so streams opened under an
/// epoch that is then retired end.
#[derive(Clone)]
pub struct SharedKeyRing {
    ring: Arc<RwLock<Arc<Minter>>>,
    changed: Arc<watch::Sender<()>>,
}

impl SharedKeyRing {
    /// Shares `keys`.
    pub fn new(keys: KeyRing) -> Self {
        Self {
            ring: Arc::new(RwLock::new(Arc::new(Minter::new(keys)))),
            changed: Arc::new(watch::Sender::new(())),
        }
    }

    /// The ring now, as a minter (its [`Minter::keys`] verify). Requests already holding a
    /// snapshot finish with it; the old ring is dropped (and its keys zeroized) after the last.
    pub fn snapshot(&self) -> Arc<Minter> {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Swaps in `keys`: new tokens are minted under its current epoch, and tokens of epochs
    /// it no longer holds stop verifying, including ones verified (and cached) before.
    pub fn replace(&self, keys: KeyRing) {
        let minter = Arc::new(Minter::new(keys));
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = minter;
        self.changed.send_replace(());
    }

    /// A receiver woken by every later [`replace`](Self::replace).
    pub fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }
}

impl From<KeyRing> for SharedKeyRing {
    fn from(keys: KeyRing) -> Self {
        Self::new(keys)
    }
}

impl std::fmt::Debug for SharedKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.snapshot().keys().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use l402_core::keys::MasterKey;

    #[test]
    fn clones_see_a_replaced_ring() {
        let shared = SharedKeyRing::new(KeyRing::new(1, &MasterKey::from_bytes([1; 32])));
        let held = shared.snapshot();
        let clone = shared.clone();
        let mut rotated = KeyRing::new(2, &MasterKey::from_bytes([2; 32]));
        rotated.insert(1, &MasterKey::from_bytes([1; 32]));
        clone.replace(rotated);
        assert_eq!(shared.snapshot().keys().current_epoch(), 2);
        assert_eq!(held.keys().current_epoch(), 1, "a snapshot does not change");
        assert!(!format!("{shared:?}").contains("01, 01"));
    }
}
