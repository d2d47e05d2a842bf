//! Token-bucket arithmetic, sans IO: a bucket holds up to `burst` requests and refills at
//! `requests` per `per_secs` seconds. Times are whole Unix seconds passed in by the caller (the
//! paywall reads its injected clock), so tests never sleep.
//!
//! Integer units keep it exact: one request costs `per_secs` units, the bucket holds
//! `burst × per_secs` units and gains `requests` units a second.

/// A rate: `requests` per `per_secs` seconds, bursts of up to `burst` (Aperture's
/// `requests`, `per` and `burst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Requests allowed per period (at least 1).
    pub requests: u32,
    /// The period, in seconds (at least 1).
    pub per_secs: u64,
    /// The most requests allowed at once, after a quiet spell (at least 1).
    pub burst: u32,
}

impl RateLimit {
    /// `requests` per `per_secs` seconds with a burst of `requests` (Aperture's default).
    pub fn new(requests: u32, per_secs: u64) -> Self {
        Self {
            requests,
            per_secs,
            burst: requests,
        }
    }

    fn cost(&self) -> u64 {
        self.per_secs.max(1)
    }

    fn capacity(&self) -> u64 {
        u64::from(self.burst.max(1)).saturating_mul(self.cost())
    }

    fn refill_per_sec(&self) -> u64 {
        u64::from(self.requests.max(1))
    }
}

/// One client's bucket under one [`RateLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    level: u64,
    at: u64,
}

impl Bucket {
    /// A full bucket at `now` (a client not seen before may burst).
    pub fn full(limit: &RateLimit, now: u64) -> Self {
        Self {
            level: limit.capacity(),
            at: now,
        }
    }

    /// Refills up to `now` (a clock that went back refills nothing).
    fn refill(&mut self, limit: &RateLimit, now: u64) {
        let elapsed = now.saturating_sub(self.at);
        self.level = self
            .level
            .saturating_add(elapsed.saturating_mul(limit.refill_per_sec()))
            .min(limit.capacity());
        self.at = self.at.max(now);
    }

    /// Takes one request at `now`, or says in how many seconds (at least 1) one will be
    /// available.
    pub fn take(&mut self, limit: &RateLimit, now: u64) -> Result<(), u64> {
        self.refill(limit, now);
        let cost = limit.cost();
        if self.level >= cost {
            self.level -= cost;
            Ok(())
        } else {
            Err((cost - self.level).div_ceil(limit.refill_per_sec()).max(1))
        }
    }

    /// Whether the bucket would be full at `now`: it then says nothing a new bucket would not,
    /// and can be forgotten.
    pub fn is_idle(&self, limit: &RateLimit, now: u64) -> bool {
        let mut b = *self;
        b.refill(limit, now);
        b.level >= limit.capacity()
    }

    /// When the bucket was last touched, Unix seconds.
    pub fn touched_at(&self) -> u64 {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let limit = RateLimit {
            requests: 2,
            per_secs: 1,
            burst: 5,
        };
        let mut b = Bucket::full(&limit, 100);
        for _ in 0..5 {
            assert_eq!(b.take(&limit, 100), Ok(()));
        }
        assert_eq!(b.take(&limit, 100), Err(1));
        assert_eq!(b.take(&limit, 101), Ok(()));
        assert_eq!(b.take(&limit, 101), Ok(()));
        assert_eq!(b.take(&limit, 101), Err(1), "two a second");
        assert!(!b.is_idle(&limit, 102));
        assert!(b.is_idle(&limit, 104), "refilled to the burst");
        assert_eq!(b.touched_at(), 101);
    }

    #[test]
    fn slow_rates_say_how_long_to_wait() {
        let limit = RateLimit::new(3, 60);
        let mut b = Bucket::full(&limit, 0);
        for _ in 0..3 {
            assert_eq!(b.take(&limit, 0), Ok(()));
        }
        assert_eq!(b.take(&limit, 0), Err(20), "one request per 20 s");
        assert_eq!(b.take(&limit, 15), Err(5));
        assert_eq!(b.take(&limit, 20), Ok(()));
    }

    #[test]
    fn a_clock_going_back_refills_nothing_and_huge_values_do_not_overflow() {
        let limit = RateLimit::new(1, 1);
        let mut b = Bucket::full(&limit, 1_000);
        assert_eq!(b.take(&limit, 1_000), Ok(()));
        assert_eq!(b.take(&limit, 10), Err(1));
        let huge = RateLimit {
            requests: u32::MAX,
            per_secs: u64::MAX,
            burst: u32::MAX,
        };
        let mut h = Bucket::full(&huge, 0);
        assert_eq!(h.take(&huge, u64::MAX), Ok(()));
    }
}
