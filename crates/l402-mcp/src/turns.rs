//! One turn at a time per token scope, across the clients this server uses.
//!
//! A call with a lower `max_cost_sat` goes through a second [`L402Client`](l402_client::L402Client)
//! sharing the store; each client only single-flights its own requests, so without these turns
//! two calls for the same scope through different clients could both pay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, PoisonError, Weak};

use tokio::sync::{Mutex, OwnedMutexGuard};

/// One async lock per scope key, created on demand and dropped when nobody holds or awaits it.
#[derive(Debug, Default)]
pub(crate) struct ScopeTurns {
    locks: StdMutex<HashMap<String, Weak<Mutex<()>>>>,
}

impl ScopeTurns {
    /// Waits for the turn of `scope`; the turn ends when the guard is dropped.
    pub(crate) async fn take(&self, scope: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            map.retain(|_, weak| weak.strong_count() > 0);
            match map.get(scope).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(Mutex::new(()));
                    map.insert(scope.to_owned(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn same_scope_waits_other_scope_does_not() {
        let turns = Arc::new(ScopeTurns::default());
        let held = turns.take("a").await;
        let t2 = turns.clone();
        let waiter = tokio::spawn(async move { drop(t2.take("a").await) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        drop(turns.take("b").await);
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
