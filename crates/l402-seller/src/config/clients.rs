//! `[clients]` and the `rate_limit` keys: how clients are told apart and how much unpaid or
//! paid traffic one may send (see `docs/SECURITY.md`, "Unpaid floods"). Who the client is (its
//! IP, through `[listen] trusted_proxies`) is the proxy's decision; these keys say how clients
//! are counted.

use std::time::Duration;

use l402_server::config::{Checks, units};
use l402_tower::{DEFAULT_IPV6_PREFIX_LEN, PaywallSettings, RateLimit};
use serde::Deserialize;

fn default_prefix() -> u8 {
    DEFAULT_IPV6_PREFIX_LEN
}

fn default_max_unpaid() -> u32 {
    64
}

/// `[clients]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsSettings {
    /// IPv6 clients are counted by this prefix of their address (1-128). Default 64.
    #[serde(default = "default_prefix")]
    pub ipv6_prefix_len: u8,
    /// The most unpaid challenges one client may hold at once; 0 lifts the cap. Default 64.
    #[serde(default = "default_max_unpaid")]
    pub max_unpaid_challenges: u32,
    /// The rate limit of every service that sets none. Default none.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
}

impl Default for ClientsSettings {
    fn default() -> Self {
        Self {
            ipv6_prefix_len: default_prefix(),
            max_unpaid_challenges: default_max_unpaid(),
            rate_limit: None,
        }
    }
}

impl ClientsSettings {
    /// The paywall's settings for these keys (the rest at their defaults).
    pub fn paywall_settings(&self) -> PaywallSettings {
        PaywallSettings {
            max_unpaid_challenges_per_client: (self.max_unpaid_challenges > 0)
                .then_some(self.max_unpaid_challenges),
            ipv6_prefix_len: self.ipv6_prefix_len,
            ..PaywallSettings::default()
        }
    }
}

/// A `rate_limit` table (`[clients]`, `[[services]]` or `[[services.routes]]`), with
/// Aperture's meaning: `requests` per `per`, bursts of up to `burst` (default `requests`),
/// counted per token for requests carrying a valid credential and per client otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests allowed per `per`.
    pub requests: u32,
    /// The period: whole seconds, at least 1 (`"1s"`, `"1m"`, `60`).
    #[serde(deserialize_with = "units::duration")]
    pub per: Duration,
    /// The most requests at once after a quiet spell. Default `requests`.
    pub burst: Option<u32>,
}

impl RateLimitConfig {
    /// The limit as the paywall counts it.
    pub fn limit(&self) -> RateLimit {
        RateLimit {
            requests: self.requests,
            per_secs: self.per.as_secs(),
            burst: self.burst.unwrap_or(self.requests),
        }
    }

    /// Records at `key` what is wrong with this limit.
    pub(super) fn check(&self, c: &mut Checks<'_>, key: &str) {
        if self.requests == 0 {
            c.error(
                &format!("{key}.requests"),
                "must be at least 1 (remove `rate_limit` for no limit)",
            );
        }
        if self.per < Duration::from_secs(1) || self.per.subsec_nanos() != 0 {
            c.error(
                &format!("{key}.per"),
                "must be a whole number of seconds, at least 1 (\"1s\", \"1m\", \"1h\")",
            );
        }
        if self.burst == Some(0) {
            c.error(
                &format!("{key}.burst"),
                "must be at least 1 (leave it out to allow bursts of `requests`)",
            );
        }
    }
}

/// Checks `[clients]`.
pub(super) fn check(clients: &ClientsSettings, c: &mut Checks<'_>) {
    if !(1..=128).contains(&clients.ipv6_prefix_len) {
        c.error(
            "clients.ipv6_prefix_len",
            "must be between 1 and 128 (64, the default, counts one subscriber's /64 as one client)",
        );
    }
    if let Some(limit) = &clients.rate_limit {
        limit.check(c, "clients.rate_limit");
    }
}
