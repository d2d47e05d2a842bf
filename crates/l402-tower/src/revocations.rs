//! Revoked token ids, held in memory for the paid-request path.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use l402_core::TokenId;
use l402_core::verify::Revocations;

/// A shared, in-memory set of revoked token ids. The owner loads it from and saves it to a
/// store; the paid-request path only reads it.
#[derive(Debug, Clone, Default)]
pub struct RevocationSet(Arc<RwLock<HashSet<TokenId>>>);

impl RevocationSet {
    /// A set holding `ids`.
    pub fn from_ids(ids: impl IntoIterator<Item = TokenId>) -> Self {
        Self(Arc::new(RwLock::new(ids.into_iter().collect())))
    }
    /// Revokes `id`. Returns true if it was not already revoked.
    pub fn revoke(&self, id: TokenId) -> bool {
        match self.0.write() {
            Ok(mut set) => set.insert(id),
            Err(poisoned) => poisoned.into_inner().insert(id),
        }
    }
    /// Un-revokes `id`.
    pub fn unrevoke(&self, id: &TokenId) -> bool {
        match self.0.write() {
            Ok(mut set) => set.remove(id),
            Err(poisoned) => poisoned.into_inner().remove(id),
        }
    }
    /// Replaces the whole set (e.g. with what the store holds now).
    pub fn replace_all(&self, ids: HashSet<TokenId>) {
        match self.0.write() {
            Ok(mut set) => *set = ids,
            Err(poisoned) => *poisoned.into_inner() = ids,
        }
    }
    /// Number of revoked ids.
    pub fn len(&self) -> usize {
        self.0
            .read()
            .map_or_else(|p| p.into_inner().len(), |s| s.len())
    }
    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Revocations for RevocationSet {
    fn is_revoked(&self, token_id: &TokenId) -> bool {
        match self.0.read() {
            Ok(set) => set.contains(token_id),
            Err(poisoned) => poisoned.into_inner().contains(token_id),
        }
    }
}
