//! The injected environment of the sans-IO core: a clock and a source of randomness, and the
//! system clock that production code injects.

/// Wall-clock time in Unix seconds. Injected so verification is deterministic in tests.
pub trait Clock {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> u64;
}

/// The system's wall clock: the workspace's one reading of the time. A clock before 1970
/// reads as 1970 (invoices then look old and are refused).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        now_unix()
    }
}

/// Seconds since the Unix epoch by the system clock ([`SystemClock`] without the trait).
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fixed clock, handy in tests and for replaying decisions.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now_unix(&self) -> u64 {
        self.0
    }
}

/// Cryptographically secure random bytes (callers pass the OS RNG in production).
pub trait Rng {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

#[cfg(test)]
pub(crate) mod tests {
    /// Deterministic bytes for tests: 0, 1, 2, ... continuing across calls.
    pub(crate) struct CountingRng(pub u8);

    impl super::Rng for CountingRng {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
    }
}
