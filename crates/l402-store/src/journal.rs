//! The payment journal: a payment is written `pending` (with its budget reservation) before the
//! wallet is asked to pay, and moved to `succeeded` (with the token and a receipt) or `failed`
//! (releasing the reservation) afterwards, each step in one durable transaction. A row still
//! `pending` after a crash is resolved by asking the wallet what became of the payment.

use l402_core::challenge::Scheme;
use l402_core::{Msat, PaymentHash, Preimage, TokenId};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::codec::{
    Hex32, hash, int, msat, preimage_from_blob, scheme_from, scheme_str, token_id, uint,
};
use crate::error::StoreError;
use crate::spend::{SpendQuery, SpendTotals, totals};
use crate::store::Store;
use crate::tokens::{TokenRecord, put_token};

/// A payment about to be made.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// The invoice's payment hash (the journal's key).
    pub payment_hash: PaymentHash,
    /// The URL whose request is being paid for.
    pub url: String,
    /// Its origin, e.g. `https://api.example.com`.
    pub origin: String,
    /// The token scope the payment buys.
    pub scope: String,
    /// The host, for per-domain budgets.
    pub domain: String,
    /// The challenge's scheme.
    pub scheme: Scheme,
    /// The BOLT11 invoice.
    pub bolt11: String,
    /// The challenge's macaroon (needed to finish storing the token after a crash).
    pub macaroon: Vec<u8>,
    /// The invoice amount.
    pub amount: Msat,
    /// The most the routing fee may cost.
    pub max_fee: Msat,
    /// When the invoice expires, Unix seconds.
    pub invoice_expires_at: u64,
    /// Now, Unix seconds.
    pub created_at: u64,
}

impl std::fmt::Debug for NewPayment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPayment")
            .field("payment_hash", &self.payment_hash)
            .field("url", &self.url)
            .field("scope", &self.scope)
            .field("amount", &self.amount)
            .field("max_fee", &self.max_fee)
            .finish_non_exhaustive()
    }
}

/// Where a journaled payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Written before paying; the outcome is not recorded yet.
    Pending,
    /// Paid; the preimage is recorded.
    Succeeded,
    /// Failed for good; its reservation was released.
    Failed,
}

impl PaymentStatus {
    /// The stored name: `pending`, `succeeded` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            _ => Err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                "unknown payment state".into(),
            )),
        }
    }
}

/// A journaled payment. Holds secrets: `Debug` shows neither macaroon nor preimage.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// What was written before paying.
    pub payment: NewPayment,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The proof of payment, once succeeded.
    pub preimage: Option<Preimage>,
    /// The routing fee, once succeeded.
    pub fee: Option<Msat>,
    /// Last change, Unix seconds.
    pub updated_at: u64,
}

impl std::fmt::Debug for PaymentRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentRecord")
            .field("payment", &self.payment)
            .field("status", &self.status)
            .field("fee", &self.fee)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// A payment that succeeded, with what to store alongside it.
#[derive(Debug, Clone)]
pub struct PaymentSuccess<'a> {
    /// The payment hash.
    pub payment_hash: PaymentHash,
    /// The proof of payment.
    pub preimage: Preimage,
    /// The routing fee paid.
    pub fee: Msat,
    /// Now, Unix seconds.
    pub at: u64,
    /// The token to cache, if the payment bought a usable one.
    pub token: Option<&'a TokenRecord>,
    /// The token id for the receipt, if known.
    pub token_id: Option<TokenId>,
}

/// The `payments` table. Get one with [`Store::journal`].
#[derive(Debug, Clone, Copy)]
pub struct PaymentJournal<'a> {
    store: &'a Store,
}

const COLUMNS: &str = "payment_hash, url, origin, scope, domain, scheme, bolt11, macaroon, \
                       amount_msat, max_fee_msat, invoice_expires_at, created_at, state, \
                       preimage, fee_msat, updated_at";

impl Store {
    /// The payment journal (and, through it, budget reservations).
    pub fn journal(&self) -> PaymentJournal<'_> {
        PaymentJournal { store: self }
    }
}

impl PaymentJournal<'_> {
    /// In one `BEGIN IMMEDIATE` transaction: sums spending for `query`, lets `check` (the budget)
    /// decide, and only if it agrees reserves `amount + max_fee` and writes the payment
    /// `pending`. Concurrent reservations, in any process, are serialized, so two payments can
    /// never both fit into room for one.
    ///
    /// Returns `Ok(Err(e))` when `check` refused (nothing written), and
    /// [`StoreError::DuplicatePayment`] when this hash is already pending or succeeded. A
    /// failed payment of the same hash may be retried.
    pub fn reserve<E>(
        &self,
        payment: &NewPayment,
        query: &SpendQuery,
        check: impl FnOnce(&SpendTotals) -> Result<(), E>,
    ) -> Result<Result<(), E>, StoreError> {
        self.store.immediate(|tx| {
            let existing = status_of(tx, &payment.payment_hash).map_err(|e| self.store.err(e))?;
            if matches!(
                existing,
                Some(PaymentStatus::Pending | PaymentStatus::Succeeded)
            ) {
                return Err(StoreError::DuplicatePayment(payment.payment_hash));
            }
            let sums = totals(tx, query).map_err(|e| self.store.err(e))?;
            if let Err(e) = check(&sums) {
                return Ok(Err(e));
            }
            insert_pending(tx, payment).map_err(|e| self.store.err(e))?;
            Ok(Ok(()))
        })
    }

    /// Records a success: the journal row `succeeded`, the reservation settled to amount plus
    /// the actual fee, the token cached and a receipt written, all in one transaction.
    ///
    /// Idempotent: returns `false` (changing nothing) when the payment was already recorded as
    /// succeeded, for instance by another process resolving the same journal row. A row marked
    /// `failed` is corrected to `succeeded`: the wallet's word wins.
    pub fn succeed(&self, s: &PaymentSuccess<'_>) -> Result<bool, StoreError> {
        let outcome = self.store.write(|tx| {
            let Some(row) = get(tx, &s.payment_hash)? else {
                return Ok(None);
            };
            if row.status == PaymentStatus::Succeeded {
                return Ok(Some(false));
            }
            record_success(tx, &row, s)?;
            Ok(Some(true))
        })?;
        outcome.ok_or(StoreError::UnknownPayment(s.payment_hash))
    }

    /// Records a failure: the row `failed` and its reservation released. Only a `pending` row
    /// changes; returns whether one did.
    pub fn fail(&self, payment_hash: &PaymentHash, at: u64) -> Result<bool, StoreError> {
        self.store.write(|tx| {
            let n = tx.execute(
                "UPDATE payments SET state = 'failed', updated_at = ?2
                 WHERE payment_hash = ?1 AND state = 'pending'",
                params![hash(payment_hash), int(at)],
            )?;
            if n > 0 {
                tx.execute(
                    "UPDATE spend SET status = 'released' WHERE payment_hash = ?1",
                    [hash(payment_hash)],
                )?;
            }
            Ok(n > 0)
        })
    }

    /// The payment with this hash, if journaled.
    pub fn get(&self, payment_hash: &PaymentHash) -> Result<Option<PaymentRecord>, StoreError> {
        self.store.with_conn(|c| get(c, payment_hash))
    }

    /// Every payment still `pending`, oldest first.
    pub fn pending(&self) -> Result<Vec<PaymentRecord>, StoreError> {
        self.query(
            "WHERE state = 'pending' ORDER BY created_at, payment_hash",
            None,
        )
    }

    /// The `pending` payments for one scope, oldest first.
    pub fn pending_for_scope(&self, scope: &str) -> Result<Vec<PaymentRecord>, StoreError> {
        self.query(
            "WHERE state = 'pending' AND scope = ?1 ORDER BY created_at, payment_hash",
            Some(scope),
        )
    }

    /// The latest `limit` payments, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<PaymentRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM payments ORDER BY created_at DESC, payment_hash LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit], read_payment)?;
            rows.collect()
        })
    }

    fn query(&self, tail: &str, arg: Option<&str>) -> Result<Vec<PaymentRecord>, StoreError> {
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM payments {tail}"))?;
            match arg {
                Some(a) => stmt.query_map([a], read_payment)?.collect(),
                None => stmt.query_map([], read_payment)?.collect(),
            }
        })
    }
}

fn status_of(
    tx: &Transaction<'_>,
    payment_hash: &PaymentHash,
) -> rusqlite::Result<Option<PaymentStatus>> {
    tx.query_row(
        "SELECT state FROM payments WHERE payment_hash = ?1",
        [hash(payment_hash)],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(|s| PaymentStatus::parse(&s))
    .transpose()
}

fn insert_pending(tx: &Transaction<'_>, p: &NewPayment) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT OR REPLACE INTO payments ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending', NULL, NULL, ?12)"
        ),
        params![
            hash(&p.payment_hash),
            p.url,
            p.origin,
            p.scope,
            p.domain,
            scheme_str(p.scheme),
            p.bolt11,
            p.macaroon,
            int(p.amount.0),
            int(p.max_fee.0),
            int(p.invoice_expires_at),
            int(p.created_at),
        ],
    )?;
    let reserve = p.amount.0.saturating_add(p.max_fee.0);
    tx.execute(
        "INSERT OR REPLACE INTO spend (at, origin, domain, amount_msat, status, payment_hash)
         VALUES (?1, ?2, ?3, ?4, 'reserved', ?5)",
        params![
            int(p.created_at),
            p.origin,
            p.domain,
            int(reserve),
            hash(&p.payment_hash)
        ],
    )?;
    Ok(())
}

fn record_success(
    tx: &Transaction<'_>,
    row: &PaymentRecord,
    s: &PaymentSuccess<'_>,
) -> rusqlite::Result<()> {
    let h = hash(&s.payment_hash);
    tx.execute(
        "UPDATE payments SET state = 'succeeded', preimage = ?2, fee_msat = ?3, updated_at = ?4
         WHERE payment_hash = ?1",
        params![h, s.preimage.0.as_slice(), int(s.fee.0), int(s.at)],
    )?;
    let p = &row.payment;
    let spent = p.amount.0.saturating_add(s.fee.0);
    tx.execute(
        "INSERT INTO spend (at, origin, domain, amount_msat, status, payment_hash)
         VALUES (?1, ?2, ?3, ?4, 'spent', ?5)
         ON CONFLICT (payment_hash) DO UPDATE SET amount_msat = excluded.amount_msat,
                                                  status = 'spent'",
        params![
            int(p.created_at),
            p.origin,
            p.domain,
            int(spent),
            hash(&s.payment_hash)
        ],
    )?;
    if let Some(token) = s.token {
        put_token(tx, token)?;
    }
    tx.execute(
        "INSERT OR IGNORE INTO receipts
             (paid_at, url, origin, scope, amount_msat, fee_msat, payment_hash, token_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            int(s.at),
            p.url,
            p.origin,
            p.scope,
            int(p.amount.0),
            int(s.fee.0),
            h,
            s.token_id.as_ref().map(token_id),
        ],
    )?;
    Ok(())
}

fn get(
    c: &rusqlite::Connection,
    payment_hash: &PaymentHash,
) -> rusqlite::Result<Option<PaymentRecord>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM payments WHERE payment_hash = ?1"),
        [hash(payment_hash)],
        read_payment,
    )
    .optional()
}

fn read_payment(r: &Row<'_>) -> rusqlite::Result<PaymentRecord> {
    let payment_hash: Hex32 = r.get(0)?;
    let scheme: String = r.get(5)?;
    let state: String = r.get(12)?;
    let preimage: Option<Vec<u8>> = r.get(13)?;
    Ok(PaymentRecord {
        payment: NewPayment {
            payment_hash: PaymentHash(payment_hash.0),
            url: r.get(1)?,
            origin: r.get(2)?,
            scope: r.get(3)?,
            domain: r.get(4)?,
            scheme: scheme_from(&scheme)?,
            bolt11: r.get(6)?,
            macaroon: r.get(7)?,
            amount: msat(r.get(8)?)?,
            max_fee: msat(r.get(9)?)?,
            invoice_expires_at: uint(r.get(10)?)?,
            created_at: uint(r.get(11)?)?,
        },
        status: PaymentStatus::parse(&state)?,
        preimage: preimage.as_deref().map(preimage_from_blob).transpose()?,
        fee: r.get::<_, Option<i64>>(14)?.map(msat).transpose()?,
        updated_at: uint(r.get(15)?)?,
    })
}
