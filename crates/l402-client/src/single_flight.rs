//! Single-flight per scope: requests that need to pay for the same scope take turns, and each
//! one re-reads the token cache after acquiring its turn, so concurrent requests that all got a
//! challenge share the first one's payment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, PoisonError, Weak};

use tokio::sync::{Mutex, OwnedMutexGuard};

/// One async lock per scope key, created on demand and dropped when nobody holds or awaits it.
#[derive(Debug, Default)]
pub struct ScopeLocks {
    locks: StdMutex<HashMap<String, Weak<Mutex<()>>>>,
}

impl ScopeLocks {
    /// Waits for the turn of `scope`; the turn ends when the guard is dropped.
    pub async fn lock(&self, scope: &str) -> OwnedMutexGuard<()> {
        let lock = {
            // The map only holds weak pointers; a panic while holding it leaves it consistent.
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

    /// How many scopes have a live lock (for tests).
    #[cfg(test)]
    fn live(&self) -> usize {
        let map = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        map.values().filter(|w| w.strong_count() > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_scope_waits_other_scope_does_not() {
        let locks = Arc::new(ScopeLocks::default());
        let a = locks.lock("a").await;
        let _b = locks.lock("b").await;
        let locks2 = locks.clone();
        let waiter = tokio::spawn(async move {
            let _g = locks2.lock("a").await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(a);
        waiter.await.unwrap();
        assert_eq!(locks.live(), 1, "only b is still held");
    }
}
