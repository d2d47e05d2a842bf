//! The seller's issued invoices, for the dashboard: recorded when a challenge is sent, marked
//! settled when the node reports payment, pruned once expired unpaid (an unpaid flood must not
//! grow the store without bound). Never read on the request path.

use l402_core::{Msat, PaymentHash, TokenId};
use rusqlite::{OptionalExtension, Row, params};

use crate::codec::{Hex32, hash, int, msat, token_id, uint};
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
    pub fn apply(&self, updates: &[InvoiceUpdate]) -> Result<usize, StoreError> {
        self.store.write(|tx| {
            let mut insert = tx.prepare_cached(&format!(
                "INSERT OR IGNORE INTO invoices ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?;
            let mut settle = tx.prepare_cached(
                "UPDATE invoices SET settled_at = ?2
                 WHERE payment_hash = ?1 AND settled_at IS NULL",
            )?;
            let mut changed = 0;
            for update in updates {
                changed += match update {
                    InvoiceUpdate::Challenge(invoice) => insert.execute(params![
                        hash(&invoice.payment_hash),
                        invoice.service,
                        int(invoice.amount.0),
                        invoice.bolt11,
                        int(invoice.created_at),
                        invoice.settled_at.map(int),
                        token_id(&invoice.token_id),
                        invoice.expires_at.map(int),
                    ])?,
                    InvoiceUpdate::Settled { payment_hash, at } => {
                        settle.execute(params![hash(payment_hash), int(*at)])?
                    }
                };
            }
            Ok(changed)
        })
    }

    /// Deletes the unpaid invoices that expired at or before `expired_by` (Unix seconds) and
    /// returns how many went. Settled invoices, and rows with no known expiry, are never
    /// deleted.
    pub fn prune_unpaid(&self, expired_by: u64) -> Result<usize, StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "DELETE FROM invoices
                 WHERE settled_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?1",
                [int(expired_by)],
            )
        })
    }

    /// How many invoices are recorded.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.store.with_conn(|c| {
            c.query_row("SELECT COUNT(*) FROM invoices", [], |r| r.get::<_, i64>(0))
                .and_then(uint)
        })
    }

    /// The invoice with this payment hash.
    pub fn get(&self, payment_hash: &PaymentHash) -> Result<Option<InvoiceRecord>, StoreError> {
        self.store.with_conn(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM invoices WHERE payment_hash = ?1"),
                [hash(payment_hash)],
                read_invoice,
            )
            .optional()
        })
    }

    /// The latest `limit` invoices, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<InvoiceRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM invoices ORDER BY created_at DESC, payment_hash LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit], read_invoice)?;
            rows.collect()
        })
    }

    /// The latest `limit` invoices matching `filter`, newest first.
    pub fn search(
        &self,
        filter: &InvoiceFilter,
        limit: usize,
    ) -> Result<Vec<InvoiceRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let settled = filter.settled.map(i64::from);
        let since = filter.since.map(int);
        let before = filter.before.map(int);
        let token = filter.token_id.as_ref().map(token_id);
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM invoices
                 WHERE (?1 IS NULL OR service = ?1)
                   AND (?2 IS NULL OR (settled_at IS NOT NULL) = ?2)
                   AND (?3 IS NULL OR created_at >= ?3)
                   AND (?4 IS NULL OR created_at < ?4)
                   AND (?5 IS NULL OR token_id = ?5)
                 ORDER BY created_at DESC, payment_hash LIMIT ?6"
            ))?;
            let rows = stmt.query_map(
                params![filter.service, settled, since, before, token, limit],
                read_invoice,
            )?;
            rows.collect()
        })
    }

    /// Settled invoices per UTC day and service, for settlements at or after `since` (Unix
    /// seconds), oldest day first.
    pub fn revenue_by_day(&self, since: u64) -> Result<Vec<DailyRevenue>, StoreError> {
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT date(settled_at, 'unixepoch') AS day, service, COUNT(*), SUM(amount_msat)
                 FROM invoices WHERE settled_at IS NOT NULL AND settled_at >= ?1
                 GROUP BY day, service ORDER BY day, service",
            )?;
            let rows = stmt.query_map([int(since)], |r| {
                Ok(DailyRevenue {
                    day: r.get(0)?,
                    service: r.get(1)?,
                    settled: uint(r.get(2)?)?,
                    revenue: msat(r.get(3)?)?,
                })
            })?;
            rows.collect()
        })
    }
}

fn read_invoice(r: &Row<'_>) -> rusqlite::Result<InvoiceRecord> {
    let payment_hash: Hex32 = r.get(0)?;
    let id: Hex32 = r.get(6)?;
    Ok(InvoiceRecord {
        payment_hash: PaymentHash(payment_hash.0),
        service: r.get(1)?,
        amount: msat(r.get(2)?)?,
        bolt11: r.get(3)?,
        created_at: uint(r.get(4)?)?,
        settled_at: r.get::<_, Option<i64>>(5)?.map(uint).transpose()?,
        token_id: TokenId(id.0),
        expires_at: r.get::<_, Option<i64>>(7)?.map(uint).transpose()?,
    })
}
