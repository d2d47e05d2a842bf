//! The seller's revoked token ids. The proxy loads them all into memory at start and after each
//! change; the paid-request path never reads the database.

use std::collections::HashSet;

use l402_core::TokenId;

use crate::codec::int;
use crate::engine::{Decode, Param, Row};
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
            .transact(|sql| {
                sql.execute(
                    "INSERT INTO revocations (token_id, revoked_at, reason)
                     VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    &[
                        Param::text(id.to_hex()),
                        Param::int(int(at)),
                        Param::text(reason),
                    ],
                )
            })
            .map(|n| n > 0)
    }

    /// Lifts the revocation of `id`. Returns whether it was revoked.
    pub fn unrevoke(&self, id: &TokenId) -> Result<bool, StoreError> {
        self.store
            .transact(|sql| {
                sql.execute(
                    "DELETE FROM revocations WHERE token_id = ?1",
                    &[Param::text(id.to_hex())],
                )
            })
            .map(|n| n > 0)
    }

    /// Every revocation, oldest first.
    pub fn load_all(&self) -> Result<Vec<Revocation>, StoreError> {
        self.store.read(|sql| {
            let rows = sql.query(
                "SELECT token_id, revoked_at, reason FROM revocations
                 ORDER BY revoked_at, token_id",
                &[],
            )?;
            Ok(rows.iter().map(read_revocation).collect::<Result<_, _>>()?)
        })
    }

    /// Every revoked token id, as the verifier's in-memory set
    /// (`l402_core::verify::Revocations` is implemented for `HashSet<TokenId>`).
    pub fn load_set(&self) -> Result<HashSet<TokenId>, StoreError> {
        Ok(self.load_all()?.into_iter().map(|r| r.token_id).collect())
    }
}

fn read_revocation(r: &Row) -> Result<Revocation, Decode> {
    Ok(Revocation {
        token_id: TokenId(r.hex32(0)?),
        revoked_at: r.uint(1)?,
        reason: r.text(2)?,
    })
}
