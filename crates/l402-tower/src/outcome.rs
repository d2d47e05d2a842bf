//! What the paywall did with a request, left on the response for whoever counts (metrics,
//! access logs), and the paywall's own counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The paywall's decision about one priced request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// A valid token paid for it: forwarded.
    Paid,
    /// Free: a freebie, or an offer of price zero. Forwarded.
    Free,
    /// Answered `402` with a fresh challenge.
    Challenged,
    /// Answered `429`: over its rate limit.
    RateLimited,
    /// Answered `429`: the client holds too many unpaid challenges.
    TooManyUnpaid,
    /// Answered `503`: no challenge could be minted (backend down or slow, no key).
    Unavailable,
}

impl Outcome {
    /// Every outcome, in a fixed order (index with [`Outcome::index`]).
    pub const ALL: [Outcome; 6] = [
        Outcome::Paid,
        Outcome::Free,
        Outcome::Challenged,
        Outcome::RateLimited,
        Outcome::TooManyUnpaid,
        Outcome::Unavailable,
    ];

    /// Its position in [`Outcome::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// A stable lower-case name, e.g. for a metric label: `paid`, `free`, `challenged`,
    /// `rate_limited`, `too_many_unpaid`, `unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::Free => "free",
            Outcome::Challenged => "challenged",
            Outcome::RateLimited => "rate_limited",
            Outcome::TooManyUnpaid => "too_many_unpaid",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// A response extension the paywall puts on every response to a priced request (one the
/// [`Pricer`](crate::Pricer) made an offer for): what it decided, and how long deciding took
/// (verification, freebies, rate limit: the in-memory part, not the backend's invoice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaywallDecision {
    /// What it decided.
    pub outcome: Outcome,
    /// CPU-side time spent deciding.
    pub took: Duration,
}

/// Running totals of the paywall's in-memory work, read with [`Paywall::stats`](crate::Paywall::stats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    verify_failures: AtomicU64,
}

impl Counters {
    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn verify_failure(&self) {
        self.verify_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> PaywallStats {
        PaywallStats {
            verified_cache_hits: self.cache_hits.load(Ordering::Relaxed),
            verified_cache_misses: self.cache_misses.load(Ordering::Relaxed),
            verify_failures: self.verify_failures.load(Ordering::Relaxed),
        }
    }
}

/// The paywall's counters since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaywallStats {
    /// Credentials found in the verified cache (no cryptography done).
    pub verified_cache_hits: u64,
    /// Credentials verified in full (cache miss), whatever the result.
    pub verified_cache_misses: u64,
    /// Credentials presented that failed verification (malformed, forged, expired, revoked,
    /// not for this offer).
    pub verify_failures: u64,
}
