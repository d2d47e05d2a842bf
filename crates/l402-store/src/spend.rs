//! The spend ledger behind budgets: one row per payment, `reserved` (amount plus the maximum
//! fee) before paying, `spent` (amount plus the actual fee) after, `released` if it failed.
//! Reserved and spent rows count against budgets; released rows do not. Refunds of `Payment`
//! sessions that the client's wallet saw arrive are taken off (see
//! `held_sessions`), never below zero.

use l402_core::Msat;
use rusqlite::{Connection, params};

use crate::codec::{int, msat};
use crate::error::StoreError;
use crate::store::Store;

/// Which sums to compute: spending since two points in time, in one domain, and overall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendQuery {
    /// Start of the hourly window, Unix seconds (inclusive).
    pub hour_since: u64,
    /// Start of the daily window, Unix seconds (inclusive).
    pub day_since: u64,
    /// The domain (host) whose all-time spending to sum, if any.
    pub domain: Option<String>,
}

/// Spending (reserved or spent) in each window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpendTotals {
    /// Since [`SpendQuery::hour_since`].
    pub hour: Msat,
    /// Since [`SpendQuery::day_since`].
    pub day: Msat,
    /// All time.
    pub total: Msat,
    /// All time in [`SpendQuery::domain`] (zero without a domain).
    pub domain: Msat,
}

/// The `spend` table. Get one with [`Store::spend`].
#[derive(Debug, Clone, Copy)]
pub struct SpendLedger<'a> {
    store: &'a Store,
}

impl Store {
    /// The spend ledger behind budgets.
    pub fn spend(&self) -> SpendLedger<'_> {
        SpendLedger { store: self }
    }
}

impl SpendLedger<'_> {
    /// Current totals (for a budget status display; reservations use the journal, which checks
    /// and reserves in one transaction).
    pub fn totals(&self, query: &SpendQuery) -> Result<SpendTotals, StoreError> {
        self.store.with_conn(|c| totals(c, query))
    }
}

/// Sums counted spending, less the session refunds received. Runs inside the caller's
/// transaction when given one.
pub(crate) fn totals(conn: &Connection, q: &SpendQuery) -> rusqlite::Result<SpendTotals> {
    let gross = gross_totals(conn, q)?;
    let [hour, day, total, domain] = crate::held_sessions::refunds(conn, q)?;
    let less = |spent: Msat, refunded: u64| Msat(spent.0.saturating_sub(refunded));
    Ok(SpendTotals {
        hour: less(gross.hour, hour),
        day: less(gross.day, day),
        total: less(gross.total, total),
        domain: less(gross.domain, domain),
    })
}

/// Sums the ledger's counted rows.
fn gross_totals(conn: &Connection, q: &SpendQuery) -> rusqlite::Result<SpendTotals> {
    conn.query_row(
        "SELECT
             COALESCE(SUM(CASE WHEN at >= ?1 THEN amount_msat END), 0),
             COALESCE(SUM(CASE WHEN at >= ?2 THEN amount_msat END), 0),
             COALESCE(SUM(amount_msat), 0),
             COALESCE(SUM(CASE WHEN domain = ?3 THEN amount_msat END), 0)
         FROM spend WHERE status IN ('reserved', 'spent')",
        params![int(q.hour_since), int(q.day_since), q.domain],
        |r| {
            Ok(SpendTotals {
                hour: msat(r.get(0)?)?,
                day: msat(r.get(1)?)?,
                total: msat(r.get(2)?)?,
                domain: msat(r.get(3)?)?,
            })
        },
    )
}
