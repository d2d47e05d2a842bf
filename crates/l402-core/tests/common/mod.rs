//! Fixtures shared by the minting and verification suites: a deterministic RNG, a fixed time
//! and a key ring.

use l402_core::env::Rng;
use l402_core::keys::{KeyRing, MasterKey};

/// Bytes from a counter (steps of 37): deterministic token ids.
pub struct SeqRng(pub u8);

impl Rng for SeqRng {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.0;
            self.0 = self.0.wrapping_add(37);
        }
    }
}

/// The tests' "now", Unix seconds.
pub const NOW: u64 = 1_700_000_000;

/// A key ring at epoch 3 over a fixed master key.
pub fn ring() -> KeyRing {
    KeyRing::new(3, &MasterKey::from_bytes([0x42; 32]))
}
