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

/// Every `every`, deletes the consumed `Payment` charges whose challenge expired more than
/// [`GRACE_SECS`] ago (their credentials are refused as expired before the ledger is asked).
pub(crate) fn expired_charges(store: Store, every: Duration) -> JoinHandle<()> {
    crate::refresh::poll(
        store,
        every,
        "expired Payment charges",
        |s| s.mpp_charges().prune(now_unix().saturating_sub(GRACE_SECS)),
        |pruned| {
            if pruned > 0 {
                tracing::debug!(pruned, "deleted expired Payment charges");
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use l402_core::{Msat, PaymentHash, TokenId};
    use l402_store::InvoiceRecord;

    fn row(n: u8, expires_at: u64) -> InvoiceRecord {
        InvoiceRecord {
            payment_hash: PaymentHash([n; 32]),
            service: "weather".into(),
            amount: Msat::from_sat(1),
            bolt11: format!("lnbcrt10n1{n}"),
            created_at: 1,
            settled_at: None,
            token_id: TokenId([n; 32]),
            expires_at: Some(expires_at),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_task_deletes_expired_unpaid_rows_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("l402.db")).unwrap();
        let now = now_unix();
        let long_expired = now - GRACE_SECS - 60;
        let invoices = store.invoices();
        // Expired beyond the grace: unpaid goes, paid stays. Within the grace, or live: stays.
        invoices.record_challenge(&row(1, long_expired)).unwrap();
        invoices.record_challenge(&row(2, long_expired)).unwrap();
        invoices.mark_settled(&PaymentHash([2; 32]), now).unwrap();
        invoices.record_challenge(&row(3, now - 10)).unwrap();
        invoices.record_challenge(&row(4, now + 600)).unwrap();

        let task = expired_unpaid(store.clone(), Duration::from_millis(20));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while invoices.count().unwrap() == 4 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nothing pruned in 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
        assert_eq!(invoices.get(&PaymentHash([1; 32])).unwrap(), None);
        for kept in [2, 3, 4] {
            assert!(
                invoices.get(&PaymentHash([kept; 32])).unwrap().is_some(),
                "row {kept}"
            );
        }
    }
}
