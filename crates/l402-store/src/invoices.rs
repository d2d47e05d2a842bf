//! The seller's issued invoices, for the dashboard: recorded when a challenge is sent, marked
//! settled when the node reports payment, pruned once expired unpaid (an unpaid flood must not
//! grow the store without bound). Never read on the request path.

use l402_core::{Msat, PaymentHash, TokenId};

use crate::codec::int;
use crate::engine::{Decode, EngineError, Param, Row, Sql};
use crate::error::StoreError;
use crate::store::Store;

/// One issued challenge and its invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRecord {
    /// The invoice's payment hash.
    pub payment_hash: PaymentHash,
    /// The service the challenge was for.
    pub service: String,
    /// The price.
    pub amount: Msat,
    /// The BOLT11 invoice.
    pub bolt11: String,
    /// When the challenge was issued, Unix seconds.
    pub created_at: u64,
    /// When the invoice was settled, Unix seconds, if it was.
    pub settled_at: Option<u64>,
    /// The token id minted with the challenge.
    pub token_id: TokenId,
    /// When the invoice expires, Unix seconds (`None` for rows recorded before expiries were
    /// kept: those are never pruned).
    pub expires_at: Option<u64>,
}

/// One change to the `invoices` table, for [`InvoiceTable::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceUpdate {
    /// A challenge was issued: insert its row (nothing if the payment hash is known).
    Challenge(InvoiceRecord),
    /// The node reported the invoice paid: set its settlement time (nothing if the row is
    /// unknown or settled already).
    Settled {
        /// The invoice's payment hash.
        payment_hash: PaymentHash,
        /// When it was settled, Unix seconds.
        at: u64,
    },
}

impl InvoiceUpdate {
    /// Whether this update records money that moved (a settlement, or a row recorded as
    /// settled): such a batch is flushed to the disk at its commit, and written without delay.
    ///
    /// ```
    /// use l402_core::PaymentHash;
    /// use l402_store::InvoiceUpdate;
    ///
    /// let settled = InvoiceUpdate::Settled { payment_hash: PaymentHash([7; 32]), at: 1 };
    /// assert!(settled.moves_money());
    /// ```
    pub fn moves_money(&self) -> bool {
        match self {
            Self::Challenge(invoice) => invoice.settled_at.is_some(),
            Self::Settled { .. } => true,
        }
    }
}

/// Which invoices [`InvoiceTable::search`] returns: every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    /// Only this service's.
    pub service: Option<String>,
    /// Only settled (`Some(true)`) or unsettled (`Some(false)`) ones.
    pub settled: Option<bool>,
    /// Only those created at or after this Unix second.
    pub since: Option<u64>,
    /// Only those created strictly before this Unix second (page backwards with the oldest
    /// `created_at` of the previous page).
    pub before: Option<u64>,
    /// The token id minted with the challenge.
    pub token_id: Option<TokenId>,
}

/// Settled invoices of one service on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyRevenue {
    /// The day of settlement, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// The service.
    pub service: String,
    /// How many invoices settled.
    pub settled: u64,
    /// What they were for, in total.
    pub revenue: Msat,
}

/// The `invoices` table. Get one with [`Store::invoices`].
#[derive(Debug, Clone, Copy)]
pub struct InvoiceTable<'a> {
    store: &'a Store,
}

const COLUMNS: &str =
    "payment_hash, service, amount_msat, bolt11, created_at, settled_at, token_id, expires_at";

impl Store {
    /// The seller's issued invoices.
    pub fn invoices(&self) -> InvoiceTable<'_> {
        InvoiceTable { store: self }
    }
}

impl InvoiceTable<'_> {
    /// Records an issued challenge. Recording the same payment hash again changes nothing and
    /// returns `false`.
    pub fn record_challenge(&self, invoice: &InvoiceRecord) -> Result<bool, StoreError> {
        self.apply(&[InvoiceUpdate::Challenge(invoice.clone())])
            .map(|n| n > 0)
    }

    /// Marks an invoice settled. Returns `false` when it is unknown or already settled (the
    /// first settlement time is kept).
    pub fn mark_settled(&self, payment_hash: &PaymentHash, at: u64) -> Result<bool, StoreError> {
        self.apply(&[InvoiceUpdate::Settled {
            payment_hash: *payment_hash,
            at,
        }])
        .map(|n| n > 0)
    }

    /// Applies `updates` in order, in one transaction (one durable commit for the lot: what
    /// lets a writer keep up with a flood of challenges), and returns how many changed a row.
    /// Each update behaves as [`record_challenge`](Self::record_challenge) or
    /// [`mark_settled`](Self::mark_settled) alone would.
    ///
    /// A batch of unpaid challenges only moves no money: its commit is not flushed to the disk
    /// by itself (it survives a crash of the process; a power cut may forget it until the
    /// store's next flushed commit, such as any settlement's). A batch with a settlement in it
    /// is flushed.
    pub fn apply(&self, updates: &[InvoiceUpdate]) -> Result<usize, StoreError> {
        let unpaid_only = !updates.iter().any(InvoiceUpdate::moves_money);
        let write = |sql: &mut dyn Sql| -> Result<usize, EngineError> {
            let insert = format!(
                "INSERT INTO invoices ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING"
            );
            let mut changed = 0;
            for update in updates {
                changed += match update {
                    InvoiceUpdate::Challenge(invoice) => sql.execute(
                        &insert,
                        &[
                            hex_param(&invoice.payment_hash.0),
                            Param::text(invoice.service.as_str()),
                            Param::int(int(invoice.amount.0)),
                            Param::text(invoice.bolt11.as_str()),
                            Param::int(int(invoice.created_at)),
                            Param::Int(invoice.settled_at.map(int)),
                            hex_param(&invoice.token_id.0),
                            Param::Int(invoice.expires_at.map(int)),
                        ],
                    )?,
                    InvoiceUpdate::Settled { payment_hash, at } => sql.execute(
                        "UPDATE invoices SET settled_at = ?2
                         WHERE payment_hash = ?1 AND settled_at IS NULL",
                        &[hex_param(&payment_hash.0), Param::int(int(*at))],
                    )?,
                };
            }
            Ok(usize::try_from(changed).unwrap_or(usize::MAX))
        };
        if unpaid_only {
            self.store.transact_relaxed(write)
        } else {
            self.store.transact(write)
        }
    }

    /// Deletes the unpaid invoices that expired at or before `expired_by` (Unix seconds) and
    /// returns how many went. Settled invoices, and rows with no known expiry, are never
    /// deleted.
    pub fn prune_unpaid(&self, expired_by: u64) -> Result<usize, StoreError> {
        self.store
            .transact(|sql| {
                sql.execute(
                    "DELETE FROM invoices
                     WHERE settled_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?1",
                    &[Param::int(int(expired_by))],
                )
            })
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// How many invoices are recorded.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.store.read(|sql| {
            let row = sql.query_one("SELECT COUNT(*) FROM invoices", &[])?;
            Ok(row.uint(0)?)
        })
    }

    /// The invoice with this payment hash.
    pub fn get(&self, payment_hash: &PaymentHash) -> Result<Option<InvoiceRecord>, StoreError> {
        self.store.read(|sql| {
            let row = sql.query_opt(
                &format!("SELECT {COLUMNS} FROM invoices WHERE payment_hash = ?1"),
                &[hex_param(&payment_hash.0)],
            )?;
            Ok(row.as_ref().map(read_invoice).transpose()?)
        })
    }

    /// The latest `limit` invoices, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<InvoiceRecord>, StoreError> {
        self.search(&InvoiceFilter::default(), limit)
    }

    /// The latest `limit` invoices matching `filter`, newest first.
    pub fn search(
        &self,
        filter: &InvoiceFilter,
        limit: usize,
    ) -> Result<Vec<InvoiceRecord>, StoreError> {
        let params = [
            Param::Text(filter.service.clone()),
            Param::Int(filter.settled.map(i64::from)),
            Param::Int(filter.since.map(int)),
            Param::Int(filter.before.map(int)),
            Param::Text(filter.token_id.as_ref().map(TokenId::to_hex)),
            Param::int(i64::try_from(limit).unwrap_or(i64::MAX)),
        ];
        self.store.read(|sql| {
            let rows = sql.query(
                &format!(
                    "SELECT {COLUMNS} FROM invoices
                     WHERE (?1 IS NULL OR service = ?1)
                       AND (?2 IS NULL
                            OR (CASE WHEN settled_at IS NULL THEN 0 ELSE 1 END) = ?2)
                       AND (?3 IS NULL OR created_at >= ?3)
                       AND (?4 IS NULL OR created_at < ?4)
                       AND (?5 IS NULL OR token_id = ?5)
                     ORDER BY created_at DESC, payment_hash LIMIT ?6"
                ),
                &params,
            )?;
            Ok(rows.iter().map(read_invoice).collect::<Result<_, _>>()?)
        })
    }

    /// Settled invoices per UTC day and service, for settlements at or after `since` (Unix
    /// seconds), oldest day first.
    pub fn revenue_by_day(&self, since: u64) -> Result<Vec<DailyRevenue>, StoreError> {
        self.store.read(|sql| {
            // Days since the epoch (settlement times are never negative, so integer division
            // is the floor on both engines); formatted as dates below.
            let rows = sql.query(
                "SELECT settled_at / 86400 AS day, service, COUNT(*),
                        CAST(SUM(amount_msat) AS BIGINT)
                 FROM invoices WHERE settled_at IS NOT NULL AND settled_at >= ?1
                 GROUP BY day, service ORDER BY day, service",
                &[Param::int(int(since))],
            )?;
            let read = |r: &Row| -> Result<DailyRevenue, Decode> {
                Ok(DailyRevenue {
                    day: civil_date(r.uint(0)?),
                    service: r.text(1)?,
                    settled: r.uint(2)?,
                    revenue: Msat(r.uint(3)?),
                })
            };
            Ok(rows.iter().map(read).collect::<Result<_, _>>()?)
        })
    }
}

/// A 32-byte hash or id as its hex text column.
fn hex_param(bytes: &[u8; 32]) -> Param {
    Param::text(l402_core::types::encode_hex(bytes))
}

/// `days` since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian, Howard Hinnant's algorithm).
fn civil_date(days: u64) -> String {
    let (year, month, day) =
        l402_core::time::civil_from_days(i64::try_from(days).unwrap_or(i64::MAX));
    format!("{year:04}-{month:02}-{day:02}")
}

fn read_invoice(r: &Row) -> Result<InvoiceRecord, Decode> {
    Ok(InvoiceRecord {
        payment_hash: PaymentHash(r.hex32(0)?),
        service: r.text(1)?,
        amount: Msat(r.uint(2)?),
        bolt11: r.text(3)?,
        created_at: r.uint(4)?,
        settled_at: r.opt_uint(5)?,
        token_id: TokenId(r.hex32(6)?),
        expires_at: r.opt_uint(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::civil_date;

    #[test]
    fn days_format_as_utc_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_454), "2026-01-01");
        assert_eq!(civil_date(20_453), "2025-12-31");
    }
}
