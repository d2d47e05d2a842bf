//! The buyer's token cache: one paid token per scope (origin plus service scope).

use l402_core::challenge::Scheme;
use l402_core::{Msat, PaymentHash, Preimage};
use rusqlite::{OptionalExtension, Row, params};

use crate::codec::{Hex32, hash, int, msat, preimage_from_blob, scheme_from, scheme_str, uint};
use crate::error::StoreError;
use crate::store::Store;

/// A paid token held for one scope. Holds secrets: `Debug` shows neither macaroon nor preimage.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The scope key, e.g. `https://api.example.com/weather` (the client decides the rule).
    pub scope: String,
    /// The origin, e.g. `https://api.example.com`.
    pub origin: String,
    /// The scheme the server challenged with, used when sending the token.
    pub scheme: Scheme,
    /// The macaroon as minted (V2 bytes). Secret together with the preimage.
    pub macaroon: Vec<u8>,
    /// The proof of payment. Secret.
    pub preimage: Preimage,
    /// The payment hash the token was paid for.
    pub payment_hash: PaymentHash,
    /// What the invoice cost.
    pub amount: Msat,
    /// The routing fee paid.
    pub fee: Msat,
    /// When the token was stored, Unix seconds.
    pub created_at: u64,
    /// When the token expires, Unix seconds, if its caveats say so.
    pub expires_at: Option<u64>,
    /// A free-form label (e.g. where an imported token came from).
    pub label: Option<String>,
    /// What the server last reported about the token (its `L402-Token` header), if it has.
    pub status: Option<ReportedStatus>,
}

/// What a server reported about a held token in a paid response's `L402-Token` header
/// (`l402_core::token_status`), and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportedStatus {
    /// When the client read it, Unix seconds by the client's clock.
    pub at: u64,
    /// When the token expires for the service it was used on, Unix seconds; `None` if never.
    pub expires_at: Option<u64>,
    /// Seconds it had left then, by the server's clock; `None` if it never expires.
    pub ttl_secs: Option<u64>,
    /// What it had left to spend then (metered tokens).
    pub balance_msat: Option<u64>,
}

impl ReportedStatus {
    /// Seconds left at the client's `now`, counted from the server's `ttl_secs` (so the
    /// client's clock only has to measure the time elapsed since `at`); `None` if it never
    /// expires.
    pub fn remaining_secs(&self, now: u64) -> Option<u64> {
        self.ttl_secs
            .map(|ttl| ttl.saturating_sub(now.saturating_sub(self.at)))
    }
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("scope", &self.scope)
            .field("origin", &self.origin)
            .field("scheme", &self.scheme)
            .field("macaroon_len", &self.macaroon.len())
            .field("payment_hash", &self.payment_hash)
            .field("amount", &self.amount)
            .field("fee", &self.fee)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("label", &self.label)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The `tokens` table. Get one with [`Store::tokens`].
#[derive(Debug, Clone, Copy)]
pub struct TokenTable<'a> {
    store: &'a Store,
}

const COLUMNS: &str = "scope, origin, scheme, macaroon, preimage, payment_hash, amount_msat, \
                       fee_msat, created_at, expires_at, label, status_at, status_expires_at, \
                       status_ttl_secs, status_balance_msat";

impl Store {
    /// The buyer's token cache.
    pub fn tokens(&self) -> TokenTable<'_> {
        TokenTable { store: self }
    }
}

impl TokenTable<'_> {
    /// Stores `token` for its scope, replacing any token held for that scope.
    pub fn put(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.store.write(|tx| put_token(tx, token))
    }

    /// The token held for `scope`, if any.
    pub fn get(&self, scope: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.store.with_conn(|c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM tokens WHERE scope = ?1"))?
                .query_row([scope], read_token)
                .optional()
        })
    }

    /// Every token held, ordered by scope.
    pub fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM tokens ORDER BY scope"))?;
            let rows = stmt.query_map([], read_token)?;
            rows.collect()
        })
    }

    /// Removes the token held for `scope`. Returns whether there was one.
    pub fn remove(&self, scope: &str) -> Result<bool, StoreError> {
        self.store
            .write(|tx| tx.execute("DELETE FROM tokens WHERE scope = ?1", [scope]))
            .map(|n| n > 0)
    }

    /// Removes the token held for `scope` only if it is the one paid by `payment_hash`: a
    /// request whose token was refused must not delete a newer token another request stored
    /// meanwhile. Returns whether a token was removed.
    pub fn remove_if(&self, scope: &str, payment_hash: &PaymentHash) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "DELETE FROM tokens WHERE scope = ?1 AND payment_hash = ?2",
                    params![scope, hash(payment_hash)],
                )
            })
            .map(|n| n > 0)
    }

    /// Records what the server reported about the token held for `scope`, only if it is still
    /// the one paid by `payment_hash` (a newer token stored meanwhile keeps its own). Returns
    /// whether a token was updated.
    pub fn record_status(
        &self,
        scope: &str,
        payment_hash: &PaymentHash,
        status: &ReportedStatus,
    ) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "UPDATE tokens SET status_at = ?3, status_expires_at = ?4, \
                     status_ttl_secs = ?5, status_balance_msat = ?6 \
                     WHERE scope = ?1 AND payment_hash = ?2",
                    params![
                        scope,
                        hash(payment_hash),
                        int(status.at),
                        status.expires_at.map(int),
                        status.ttl_secs.map(int),
                        status.balance_msat.map(int),
                    ],
                )
            })
            .map(|n| n > 0)
    }

    /// Removes every token. Returns how many there were.
    pub fn clear(&self) -> Result<usize, StoreError> {
        self.store.write(|tx| tx.execute("DELETE FROM tokens", []))
    }
}

/// Inserts or replaces a token (also used when a payment settles).
pub(crate) fn put_token(tx: &rusqlite::Transaction<'_>, t: &TokenRecord) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT OR REPLACE INTO tokens ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ),
        params![
            t.scope,
            t.origin,
            scheme_str(t.scheme),
            t.macaroon,
            t.preimage.0.as_slice(),
            hash(&t.payment_hash),
            int(t.amount.0),
            int(t.fee.0),
            int(t.created_at),
            t.expires_at.map(int),
            t.label,
            t.status.map(|s| int(s.at)),
            t.status.and_then(|s| s.expires_at).map(int),
            t.status.and_then(|s| s.ttl_secs).map(int),
            t.status.and_then(|s| s.balance_msat).map(int),
        ],
    )?;
    Ok(())
}

fn read_token(r: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    let preimage: Vec<u8> = r.get(4)?;
    let payment_hash: Hex32 = r.get(5)?;
    let scheme: String = r.get(2)?;
    Ok(TokenRecord {
        scope: r.get(0)?,
        origin: r.get(1)?,
        scheme: scheme_from(&scheme)?,
        macaroon: r.get(3)?,
        preimage: preimage_from_blob(&preimage)?,
        payment_hash: PaymentHash(payment_hash.0),
        amount: msat(r.get(6)?)?,
        fee: msat(r.get(7)?)?,
        created_at: uint(r.get(8)?)?,
        expires_at: r.get::<_, Option<i64>>(9)?.map(uint).transpose()?,
        label: r.get(10)?,
        status: match r.get::<_, Option<i64>>(11)? {
            None => None,
            Some(at) => Some(ReportedStatus {
                at: uint(at)?,
                expires_at: r.get::<_, Option<i64>>(12)?.map(uint).transpose()?,
                ttl_secs: r.get::<_, Option<i64>>(13)?.map(uint).transpose()?,
                balance_msat: r.get::<_, Option<i64>>(14)?.map(uint).transpose()?,
            }),
        },
    })
}
