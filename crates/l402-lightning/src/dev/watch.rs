//! Settlement fan-out for one [`DevWallet`](super::DevWallet) value: settlements it makes itself
//! are sent at once; settlements made by other values or processes sharing the ledger are found
//! by polling the ledger file while anyone is subscribed. Each settlement is sent once.

use std::collections::HashSet;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use l402_core::{Msat, PaymentHash};
use tokio::sync::broadcast;

use super::ledger::{InvoiceRecordState, Ledger, LedgerData};
use crate::backend::Settlement;

/// How often the ledger file is checked for settlements made elsewhere.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How many settlements a slow subscriber may fall behind before it sees `Lagged`.
const CHANNEL_CAPACITY: usize = 1024;

/// The broadcast channel plus what has been announced already.
#[derive(Debug)]
pub(crate) struct SettlementHub {
    sender: broadcast::Sender<Settlement>,
    /// Hashes announced, or already settled when watching started: never announced (again).
    seen: Mutex<HashSet<PaymentHash>>,
    /// Whether a watcher task runs.
    watching: AtomicBool,
}

impl SettlementHub {
    pub(crate) fn new() -> Arc<Self> {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        Arc::new(Self {
            sender,
            seen: Mutex::new(HashSet::new()),
            watching: AtomicBool::new(false),
        })
    }

    /// Announces `s` unless it was announced before.
    pub(crate) fn announce(&self, s: Settlement) {
        let fresh = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(s.payment_hash);
        if fresh {
            // No subscribers is not an error.
            let _ = self.sender.send(s);
        }
    }

    /// A new receiver. Call [`ensure_watching`](Self::ensure_watching) after it.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Settlement> {
        self.sender.subscribe()
    }

    /// Claims the right to start a watcher; true when the caller must start one.
    pub(crate) fn claim_watch(&self) -> bool {
        !self.watching.swap(true, Ordering::AcqRel)
    }

    /// Undoes [`claim_watch`](Self::claim_watch) when starting failed.
    pub(crate) fn release_watch(&self) {
        self.watching.store(false, Ordering::Release);
    }

    /// Marks every invoice settled in `data` as seen (taken when watching starts, so old
    /// settlements are not replayed to new subscribers).
    pub(crate) fn mark_settled_seen(&self, data: &LedgerData) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.extend(settlements(data).map(|s| s.payment_hash));
    }

    /// Polls `ledger` in a background task until nobody is subscribed.
    pub(crate) fn spawn_watcher(self: Arc<Self>, ledger: Ledger) {
        tokio::spawn(async move {
            let mut last_stamp = None;
            loop {
                tokio::time::sleep(POLL_INTERVAL).await;
                if self.sender.receiver_count() == 0 {
                    self.release_watch();
                    // A subscriber may have arrived between the count and the release.
                    if self.sender.receiver_count() == 0 || !self.claim_watch() {
                        return;
                    }
                }
                let stamp = fs::metadata(ledger.path())
                    .ok()
                    .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
                if stamp.is_none() || stamp == last_stamp {
                    continue;
                }
                last_stamp = stamp;
                let reader = ledger.clone();
                match tokio::task::spawn_blocking(move || reader.read_unlocked()).await {
                    Ok(Ok(data)) => settlements(&data).for_each(|s| self.announce(s)),
                    Ok(Err(e)) => tracing::warn!("dev wallet settlement watcher: {e}"),
                    Err(e) => tracing::warn!("dev wallet settlement watcher task failed: {e}"),
                }
            }
        });
    }
}

/// Every settled invoice in `data` as a settlement.
fn settlements(data: &LedgerData) -> impl Iterator<Item = Settlement> + '_ {
    data.invoices
        .iter()
        .filter_map(|(hash, rec)| match rec.state {
            InvoiceRecordState::Settled {
                amount_received_msat,
                settled_at_unix,
            } => Some(Settlement {
                payment_hash: PaymentHash::from_hex(hash).ok()?,
                amount_received: Msat(amount_received_msat),
                settled_at_unix,
            }),
            _ => None,
        })
}
