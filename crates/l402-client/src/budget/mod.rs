//! Spending limits: what they are ([`Budget`]), why a payment was refused ([`BudgetError`]) and
//! where spending stands ([`BudgetStatus`]). The arithmetic is pure ([`check`], [`domain`]);
//! the client enforces it before any payment, inside the store transaction that reserves the
//! money, so limits hold across threads and processes sharing one store.

pub mod check;
pub mod domain;

use std::collections::BTreeMap;
use std::fmt;

use l402_core::Msat;

pub use check::{DAY_SECS, HOUR_SECS, check_amounts, check_domain, spend_query};

/// The limits a client pays within. `None` means "no limit" for that window.
///
/// The cost counted against every limit is the invoice amount plus the maximum routing fee
/// ([`Budget::max_fee`]) while the payment is in flight, corrected to amount plus the actual fee
/// once it succeeds, and released if it fails. Windows are rolling: "hourly" is the last 3600
/// seconds, "daily" the last 86 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// Most one payment may cost (amount plus maximum fee).
    pub max_per_request: Option<Msat>,
    /// Most all payments of the last hour may cost.
    pub hourly: Option<Msat>,
    /// Most all payments of the last 24 hours may cost.
    pub daily: Option<Msat>,
    /// Most all payments ever recorded in the store may cost.
    pub total: Option<Msat>,
    /// All-time maximum per host (exact, lower-case host names, e.g. `api.example.com`).
    pub per_domain: BTreeMap<String, Msat>,
    /// Hosts payments may go to; empty means every host. Entries are exact host names or
    /// `*.example.com` for any subdomain of `example.com`.
    pub allow_domains: Vec<String>,
    /// Hosts payments never go to (same syntax); the deny list wins over the allow list.
    pub deny_domains: Vec<String>,
    /// The most one payment may spend on routing fees.
    pub max_fee: Msat,
}

/// Default routing-fee cap: 10 sat, as Aperture's client and lnget use.
pub const DEFAULT_MAX_FEE: Msat = Msat::from_sat(10);
/// Default hourly budget: 10 000 sat.
pub const DEFAULT_HOURLY: Msat = Msat::from_sat(10_000);
/// Default daily budget: 50 000 sat.
pub const DEFAULT_DAILY: Msat = Msat::from_sat(50_000);

impl Default for Budget {
    /// An hourly budget of 10 000 sat, a daily one of 50 000 sat, a 10 sat fee cap, and nothing
    /// else (the client's per-invoice `max_cost`, 1000 sat by default, caps single payments).
    fn default() -> Self {
        Self {
            max_per_request: None,
            hourly: Some(DEFAULT_HOURLY),
            daily: Some(DEFAULT_DAILY),
            total: None,
            per_domain: BTreeMap::new(),
            allow_domains: Vec::new(),
            deny_domains: Vec::new(),
            max_fee: DEFAULT_MAX_FEE,
        }
    }
}

impl Budget {
    /// No cumulative limit at all (only the fee cap and the client's `max_cost` remain).
    pub fn unlimited() -> Self {
        Self {
            hourly: None,
            daily: None,
            ..Self::default()
        }
    }
}

/// Which limit refused a payment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Limit {
    /// [`Budget::max_per_request`].
    PerRequest,
    /// [`Budget::hourly`].
    Hourly,
    /// [`Budget::daily`].
    Daily,
    /// [`Budget::total`].
    Total,
    /// [`Budget::per_domain`] for this host.
    Domain(String),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::PerRequest => f.write_str("per-request limit"),
            Limit::Hourly => f.write_str("hourly budget"),
            Limit::Daily => f.write_str("daily budget"),
            Limit::Total => f.write_str("total budget"),
            Limit::Domain(host) => write!(f, "budget for {host}"),
        }
    }
}

/// Why the budget refused a payment. Nothing was paid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// Paying would go over a limit.
    #[error("{}", exceeded_message(limit, *would_spend, *limit_value, *already_spent))]
    Exceeded {
        /// The limit.
        limit: Limit,
        /// What this payment would cost: the invoice amount plus the maximum routing fee.
        would_spend: Msat,
        /// The limit's value.
        limit_value: Msat,
        /// What the limit's window has already spent or reserved (zero for
        /// [`Limit::PerRequest`]).
        already_spent: Msat,
    },
    /// The host is on the deny list.
    #[error("payments to {domain} are denied by the deny-list entry {rule:?}")]
    DomainDenied {
        /// The host.
        domain: String,
        /// The deny-list entry that matched.
        rule: String,
    },
    /// An allow list is set and the host is not on it.
    #[error("payments to {domain} are not allowed: it is not on the allow list")]
    DomainNotAllowed {
        /// The host.
        domain: String,
    },
}

impl BudgetError {
    /// By how much the payment would go over the limit (zero for domain refusals).
    pub fn overshoot(&self) -> Msat {
        match self {
            BudgetError::Exceeded {
                would_spend,
                limit_value,
                already_spent,
                ..
            } => Msat(already_spent.0.saturating_add(would_spend.0)).saturating_sub(*limit_value),
            _ => Msat(0),
        }
    }
}

fn exceeded_message(limit: &Limit, cost: Msat, value: Msat, already: Msat) -> String {
    let over = Msat(already.0.saturating_add(cost.0)).saturating_sub(value);
    match limit {
        Limit::PerRequest => format!(
            "would exceed the per-request limit by {over}: this payment costs {cost} \
             (invoice plus maximum routing fee), the limit is {value}"
        ),
        _ => format!(
            "would exceed the {limit} by {over}: {already} of {value} already spent, \
             this payment costs {cost}"
        ),
    }
}

/// Spending in one window and what is left of its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowStatus {
    /// Spent or reserved in the window.
    pub spent: Msat,
    /// The limit, if any.
    pub limit: Option<Msat>,
    /// What is left (`None` without a limit).
    pub remaining: Option<Msat>,
}

impl WindowStatus {
    /// The status of a window that spent `spent` under `limit`.
    pub fn new(spent: Msat, limit: Option<Msat>) -> Self {
        Self {
            spent,
            limit,
            remaining: limit.map(|l| l.saturating_sub(spent)),
        }
    }
}

/// Where spending stands against the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStatus {
    /// The last hour.
    pub hourly: WindowStatus,
    /// The last 24 hours.
    pub daily: WindowStatus,
    /// Everything recorded in the store.
    pub total: WindowStatus,
    /// Each host with a per-domain limit.
    pub per_domain: BTreeMap<String, WindowStatus>,
    /// The most one payment may cost, if limited.
    pub max_per_request: Option<Msat>,
    /// The routing-fee cap per payment.
    pub max_fee: Msat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceeded_message_names_the_limit_and_the_overshoot() {
        let e = BudgetError::Exceeded {
            limit: Limit::Daily,
            would_spend: Msat::from_sat(80),
            limit_value: Msat::from_sat(1000),
            already_spent: Msat::from_sat(960),
        };
        assert_eq!(
            e.to_string(),
            "would exceed the daily budget by 40 sat: 960 sat of 1000 sat already spent, \
             this payment costs 80 sat"
        );
        assert_eq!(e.overshoot(), Msat::from_sat(40));
        let d = BudgetError::Exceeded {
            limit: Limit::Domain("api.example.com".into()),
            would_spend: Msat::from_sat(5),
            limit_value: Msat::from_sat(10),
            already_spent: Msat::from_sat(6),
        };
        assert!(
            d.to_string()
                .starts_with("would exceed the budget for api.example.com by 1 sat"),
            "{d}"
        );
        let p = BudgetError::Exceeded {
            limit: Limit::PerRequest,
            would_spend: Msat::from_sat(110),
            limit_value: Msat::from_sat(100),
            already_spent: Msat(0),
        };
        assert!(
            p.to_string()
                .starts_with("would exceed the per-request limit by 10 sat"),
            "{p}"
        );
    }

    #[test]
    fn window_status_remaining() {
        let w = WindowStatus::new(Msat(700), Some(Msat(1000)));
        assert_eq!(w.remaining, Some(Msat(300)));
        assert_eq!(
            WindowStatus::new(Msat(1200), Some(Msat(1000))).remaining,
            Some(Msat(0))
        );
        assert_eq!(WindowStatus::new(Msat(5), None).remaining, None);
    }

    #[test]
    fn defaults() {
        let b = Budget::default();
        assert_eq!(b.hourly, Some(Msat::from_sat(10_000)));
        assert_eq!(b.daily, Some(Msat::from_sat(50_000)));
        assert_eq!(b.max_fee, Msat::from_sat(10));
        let u = Budget::unlimited();
        assert_eq!((u.hourly, u.daily, u.total), (None, None, None));
    }
}
