//! The real random source for the sans-IO core (and the system clock, from `l402-core`).

use l402_core::env::Rng;
pub use l402_core::env::SystemClock;
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Rng for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        // Panics only if the OS cannot give entropy at all (as `getrandom` documents).
        UnwrapErr(SysRng).fill_bytes(buf);
    }
}
