//! Receipts: one row per successful payment, written with the journal's success record.

use l402_core::{Msat, PaymentHash, TokenId};
use rusqlite::{OptionalExtension, Row};

use crate::codec::{Hex32, hash, msat, uint};
use crate::error::StoreError;
use crate::store::Store;

/// What was paid, when, for what. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// When the payment was recorded, Unix seconds.
    pub paid_at: u64,
    /// The URL whose request was paid for.
    pub url: String,
    /// Its origin.
    pub origin: String,
    /// The token scope the payment bought.
    pub scope: String,
    /// The invoice amount.
    pub amount: Msat,
    /// The routing fee.
    pub fee: Msat,
    /// The payment hash.
    pub payment_hash: PaymentHash,
    /// The token id of the macaroon bought, if known.
    pub token_id: Option<TokenId>,
}

impl Receipt {
    /// Amount plus fee.
    pub fn total(&self) -> Msat {
        Msat(self.amount.0.saturating_add(self.fee.0))
    }
}

/// The `receipts` table. Get one with [`Store::receipts`].
#[derive(Debug, Clone, Copy)]
pub struct ReceiptLog<'a> {
    store: &'a Store,
}

const COLUMNS: &str = "paid_at, url, origin, scope, amount_msat, fee_msat, payment_hash, token_id";

impl Store {
    /// Receipts of successful payments.
    pub fn receipts(&self) -> ReceiptLog<'_> {
        ReceiptLog { store: self }
    }
}

impl ReceiptLog<'_> {
    /// The latest `limit` receipts, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<Receipt>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM receipts ORDER BY paid_at DESC, id DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit], read_receipt)?;
            rows.collect()
        })
    }

    /// The receipt of the payment with this hash.
    pub fn get(&self, payment_hash: &PaymentHash) -> Result<Option<Receipt>, StoreError> {
        self.store.with_conn(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM receipts WHERE payment_hash = ?1"),
                [hash(payment_hash)],
                read_receipt,
            )
            .optional()
        })
    }

    /// How many receipts there are.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.store
            .with_conn(|c| c.query_row("SELECT COUNT(*) FROM receipts", [], |r| uint(r.get(0)?)))
    }
}

fn read_receipt(r: &Row<'_>) -> rusqlite::Result<Receipt> {
    let payment_hash: Hex32 = r.get(6)?;
    let token_id: Option<Hex32> = r.get(7)?;
    Ok(Receipt {
        paid_at: uint(r.get(0)?)?,
        url: r.get(1)?,
        origin: r.get(2)?,
        scope: r.get(3)?,
        amount: msat(r.get(4)?)?,
        fee: msat(r.get(5)?)?,
        payment_hash: PaymentHash(payment_hash.0),
        token_id: token_id.map(|t| TokenId(t.0)),
    })
}
