//! Keeps in-memory state equal to the store's by re-reading it periodically, so commands run
//! from another process (`l402 revoke`, `l402 keys rotate|retire`) take effect without a
//! restart and without the paid path ever touching the database.

use std::time::Duration;

use l402_store::{Store, StoreError};
use l402_tower::{RevocationSet, SharedKeyRing};
use tokio::task::JoinHandle;

/// Every `every`, runs `load` on the store (off the async threads) and hands what it read to
/// `apply`; a failed read is logged and the last state kept. Runs until the task is aborted.
pub(crate) fn poll<T: Send + 'static>(
    store: Store,
    every: Duration,
    what: &'static str,
    load: fn(&Store) -> Result<T, StoreError>,
    mut apply: impl FnMut(T) + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let store = store.clone();
            match tokio::task::spawn_blocking(move || load(&store)).await {
                Ok(Ok(value)) => apply(value),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not reload {what}; keeping the last")
                }
                Err(_) => {}
            }
        }
    })
}

/// Keeps the revocation set equal to the store's (`l402 revoke`).
pub(crate) fn revocations(store: Store, set: RevocationSet, every: Duration) -> JoinHandle<()> {
    poll(
        store,
        every,
        "revocations",
        |s| s.revocations().load_set(),
        move |ids| set.replace_all(ids),
    )
}

/// Keeps the paywall's key ring equal to the store's master keys (`l402 keys rotate|retire`):
/// new tokens are minted under the stored current epoch, and retired epochs stop verifying.
pub(crate) fn key_ring(store: Store, keys: SharedKeyRing, every: Duration) -> JoinHandle<()> {
    poll(
        store,
        every,
        "master keys",
        |s| s.master_keys().load(),
        move |ring| {
            let Some(ring) = ring else { return };
            let held = keys.snapshot();
            let before = held.keys();
            if before.current_epoch() != ring.current_epoch() || !before.epochs().eq(ring.epochs())
            {
                tracing::info!(
                    current_epoch = ring.current_epoch(),
                    epochs = ?ring.epochs().collect::<Vec<_>>(),
                    retired = ?ring.retired_epochs().collect::<Vec<_>>(),
                    "master keys changed"
                );
                keys.replace(ring);
            }
        },
    )
}
