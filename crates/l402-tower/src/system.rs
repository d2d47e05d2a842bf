//! The real clock and random source for the sans-IO core.

use std::time::{SystemTime, UNIX_EPOCH};

use l402_core::env::{Clock, Rng};
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Rng for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        // Panics only if the OS cannot give entropy at all (as `getrandom` documents).
        UnwrapErr(SysRng).fill_bytes(buf);
    }
}
