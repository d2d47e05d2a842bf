//! Deletes the store's unpaid challenge rows once their invoice has expired, so an unpaid flood
//! cannot grow the database without bound. Paid rows are kept (they are the seller's records).

use std::time::Duration;

use l402_core::env::now_unix;
use l402_store::Store;
use tokio::task::JoinHandle;

/// How often expired unpaid rows are deleted.
pub(crate) const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How long after its expiry an unpaid row is kept: a settlement the node reports late (paid
/// just before expiry) still finds its row.
pub(crate) const GRACE_SECS: u64 = 300;

/// Every `every`, deletes the unpaid rows whose invoice expired more than [`GRACE_SECS`] ago.
pub(crate) fn expired_unpaid(store: Store, every: Duration) -> JoinHandle<()> {
    crate::refresh::poll(
        store,
        every,
        "expired unpaid invoices",
        |s| {
            s.invoices()
                .prune_unpaid(now_unix().saturating_sub(GRACE_SECS))
        },
        |pruned| {
            if pruned > 0 {
                tracing::debug!(pruned, "deleted expired unpaid invoices");
            }
        },
    )
}
