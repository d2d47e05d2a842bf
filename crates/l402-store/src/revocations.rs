//! The seller's revoked token ids. The proxy loads them all into memory at start and after each
//! change; the paid-request path never reads the database.

use std::collections::HashSet;

use l402_core::TokenId;
use rusqlite::{Row, params};

use crate::codec::{Hex32, int, token_id, uint};
use crate::error::StoreError;
use crate::store::Store;

/// One revoked token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The token id.
    pub token_id: TokenId,
    /// When it was revoked, Unix seconds.
    pub revoked_at: u64,
    /// Why (free text for the operator).
    pub reason: String,
}

/// The `revocations` table. Get one with [`Store::revocations`].
#[derive(Debug, Clone, Copy)]
pub struct RevocationTable<'a> {
    store: &'a Store,
}

impl Store {
    /// The seller's revocations.
    pub fn revocations(&self) -> RevocationTable<'_> {
        RevocationTable { store: self }
    }
}

impl RevocationTable<'_> {
    /// Revokes `id`. Returns `false` if it was already revoked (the first reason is kept).
    pub fn revoke(&self, id: &TokenId, reason: &str, at: u64) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "INSERT OR IGNORE INTO revocations (token_id, revoked_at, reason)
                     VALUES (?1, ?2, ?3)",
                    params![token_id(id), int(at), reason],
                )
            })
            .map(|n| n > 0)
    }

    /// Lifts the revocation of `id`. Returns whether it was revoked.
    pub fn unrevoke(&self, id: &TokenId) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "DELETE FROM revocations WHERE token_id = ?1",
                    [token_id(id)],
                )
            })
            .map(|n| n > 0)
    }

    /// Every revocation, oldest first.
    pub fn load_all(&self) -> Result<Vec<Revocation>, StoreError> {
        self.store.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT token_id, revoked_at, reason FROM revocations
                 ORDER BY revoked_at, token_id",
            )?;
            let rows = stmt.query_map([], read_revocation)?;
            rows.collect()
        })
    }

    /// Every revoked token id, as the verifier's in-memory set
    /// (`l402_core::verify::Revocations` is implemented for `HashSet<TokenId>`).
    pub fn load_set(&self) -> Result<HashSet<TokenId>, StoreError> {
        Ok(self.load_all()?.into_iter().map(|r| r.token_id).collect())
    }
}

fn read_revocation(r: &Row<'_>) -> rusqlite::Result<Revocation> {
    let id: Hex32 = r.get(0)?;
    Ok(Revocation {
        token_id: TokenId(id.0),
        revoked_at: uint(r.get(1)?)?,
        reason: r.get(2)?,
    })
}
