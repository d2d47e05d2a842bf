//! Revoked token ids, held in memory for the paid-request path, with a watch for the long-lived
//! streams that must end when their token is revoked.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use l402_core::TokenId;
use l402_core::verify::Revocations;
use tokio::sync::watch;

/// A shared, in-memory set of revoked token ids. The owner loads it from and saves it to a
/// store; the paid-request path only reads it. Every change wakes the
/// [`RevocationSet::subscribe`] receivers (a [`TokenLease`](crate::TokenLease) re-checks its
/// token then).
#[derive(Debug, Clone, Default)]
pub struct RevocationSet(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    ids: RwLock<HashSet<TokenId>>,
    changed: watch::Sender<()>,
}

impl RevocationSet {
    /// A set holding `ids`.
    pub fn from_ids(ids: impl IntoIterator<Item = TokenId>) -> Self {
        let set = Self::default();
        set.replace_all(ids.into_iter().collect());
        set
    }

    /// Applies `change` to the set under the write lock; wakes the watchers if it reports a
    /// change.
    fn update<T>(&self, change: impl FnOnce(&mut HashSet<TokenId>) -> (T, bool)) -> T {
        let (out, changed) = {
            let mut set = self.0.ids.write().unwrap_or_else(|p| p.into_inner());
            change(&mut set)
        };
        if changed {
            self.0.changed.send_replace(());
        }
        out
    }

    /// Revokes `id`. Returns true if it was not already revoked.
    pub fn revoke(&self, id: TokenId) -> bool {
        self.update(|set| {
            let added = set.insert(id);
            (added, added)
        })
    }
    /// Un-revokes `id`.
    pub fn unrevoke(&self, id: &TokenId) -> bool {
        self.update(|set| {
            let removed = set.remove(id);
            (removed, removed)
        })
    }
    /// Replaces the whole set (e.g. with what the store holds now). Watchers are woken only
    /// when the set differs.
    pub fn replace_all(&self, ids: HashSet<TokenId>) {
        self.update(|set| {
            let changed = *set != ids;
            if changed {
                *set = ids;
            }
            ((), changed)
        });
    }
    /// Number of revoked ids.
    pub fn len(&self) -> usize {
        self.0
            .ids
            .read()
            .map_or_else(|p| p.into_inner().len(), |s| s.len())
    }
    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A receiver that sees a change each time the set changes (from now on).
    pub fn subscribe(&self) -> watch::Receiver<()> {
        self.0.changed.subscribe()
    }
}

impl Revocations for RevocationSet {
    fn is_revoked(&self, token_id: &TokenId) -> bool {
        match self.0.ids.read() {
            Ok(set) => set.contains(token_id),
            Err(poisoned) => poisoned.into_inner().contains(token_id),
        }
    }
}
