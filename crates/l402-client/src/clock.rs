//! The client's clock: the system clock by default, injectable for tests.

use std::time::{SystemTime, UNIX_EPOCH};

pub use l402_core::env::Clock;

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        // A clock before 1970 reads as 1970; invoices then look old and are refused.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}
