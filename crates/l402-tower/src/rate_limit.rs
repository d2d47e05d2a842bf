//! Per-client and per-token rate limits: one token bucket per (rule, subject), where the
//! subject is the token id for a request carrying a valid credential and the client's key (its
//! IP, an IPv6 address by prefix) otherwise, as Aperture keys them. The table is bounded: idle
//! buckets (refilled to full, so indistinguishable from new ones) go first, then the least
//! recently used, so a flood of new clients never locks one out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use l402_core::TokenId;

use crate::bounded::make_room;
use crate::bucket::{Bucket, RateLimit};

/// The most buckets remembered.
pub const MAX_BUCKETS: usize = 65_536;

/// A rate limit and the bucket group it fills: requests whose offers carry rules with the
/// same `scope` share one bucket per subject (e.g. every route of a service without its own
/// limit shares the service's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimitRule {
    /// The bucket group (chosen by whoever builds the offers; unique per configured limit).
    pub scope: u32,
    /// The rate.
    pub limit: RateLimit,
}

/// Who a bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A client without a valid credential, by its key (see [`crate::client_key`]).
    Client(IpAddr),
    /// The holder of a valid token.
    Token(TokenId),
}

/// The token buckets of every (rule, subject) seen recently.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(RateLimitRule, Subject), Bucket>>,
}

impl RateLimiter {
    /// Takes one request of `subject` under `rule` at `now`; `Err` holds the seconds until one
    /// is allowed (answer 429 with them).
    pub fn take(&self, rule: RateLimitRule, subject: Subject, now: u64) -> Result<(), u64> {
        self.take_bounded(rule, subject, now, MAX_BUCKETS)
    }

    fn take_bounded(
        &self,
        rule: RateLimitRule,
        subject: Subject,
        now: u64,
        max: usize,
    ) -> Result<(), u64> {
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let key = (rule, subject);
        if !buckets.contains_key(&key) {
            make_room(
                &mut buckets,
                max,
                |(rule, _), bucket| bucket.is_idle(&rule.limit, now),
                Bucket::touched_at,
            );
        }
        buckets
            .entry(key)
            .or_insert_with(|| Bucket::full(&rule.limit, now))
            .take(&rule.limit, now)
    }

    /// How many buckets are held.
    pub fn len(&self) -> usize {
        match self.buckets.lock() {
            Ok(guard) => guard.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    /// Whether no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(scope: u32, requests: u32, burst: u32) -> RateLimitRule {
        RateLimitRule {
            scope,
            limit: RateLimit {
                requests,
                per_secs: 1,
                burst,
            },
        }
    }

    fn client(n: u32) -> Subject {
        Subject::Client(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n)))
    }

    #[test]
    fn each_subject_and_scope_has_its_own_bucket() {
        let limiter = RateLimiter::default();
        let r = rule(1, 1, 2);
        assert_eq!(limiter.take(r, client(1), 100), Ok(()));
        assert_eq!(limiter.take(r, client(1), 100), Ok(()));
        assert_eq!(limiter.take(r, client(1), 100), Err(1));
        assert_eq!(limiter.take(r, client(2), 100), Ok(()), "another client");
        assert_eq!(
            limiter.take(rule(2, 1, 2), client(1), 100),
            Ok(()),
            "another scope"
        );
        let token = Subject::Token(TokenId([3; 32]));
        assert_eq!(limiter.take(r, token, 100), Ok(()), "a token");
        assert_eq!(limiter.take(r, client(1), 101), Ok(()), "refilled");
    }

    #[test]
    fn a_full_table_never_locks_out_a_new_client_and_stays_bounded() {
        let limiter = RateLimiter::default();
        let r = rule(1, 1, 1);
        let max = 1_024;
        for n in 0..max as u32 {
            assert_eq!(limiter.take_bounded(r, client(n), 100, max), Ok(()));
        }
        assert_eq!(limiter.len(), max);
        assert_eq!(
            limiter.take_bounded(r, client(max as u32), 100, max),
            Ok(()),
            "a newcomer gets its burst"
        );
        assert!(limiter.len() <= max, "bounded");
        assert_eq!(
            limiter.take_bounded(r, client(max as u32), 100, max),
            Err(1),
            "and is counted"
        );
        // Later, every old bucket is idle: they all go at once.
        assert_eq!(limiter.take_bounded(r, client(5_000), 200, max), Ok(()));
        assert!(limiter.len() <= max);
        for n in 6_000..6_000 + max as u32 {
            assert_eq!(limiter.take_bounded(r, client(n), 200, max), Ok(()));
        }
        assert!(limiter.len() <= max);
    }
}
