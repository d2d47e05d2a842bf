//! Records challenges and settlements in the store, off the request path: the paywall hands
//! challenge records to a queue, the settlement watcher hands settlements to the same queue, and
//! one background task writes what is queued in batches (one transaction, one commit per batch),
//! in order. A settlement is therefore written after its challenge's row, even when the buyer
//! pays before a backlog is written.
//!
//! A short batch of challenges waits [`LINGER`] for more before it is written (a settlement
//! arriving meanwhile joins it, so it may wait as long); challenges alone move no money, and
//! their commit is not flushed to the disk by itself (see
//! [`InvoiceTable::apply`](l402_store::InvoiceTable::apply)).
//!
//! An admin read that must see every challenge already answered (the invoice list, the
//! stats) asks the writer to [`Recorded::flush`] first: the queue is written at once, without
//! the wait, and the read goes on once it is.
//!
//! A batch the store cannot take because it is unavailable (a database restarting) is retried,
//! for up to two minutes, while later updates queue behind it.

use std::sync::Arc;

use l402_lightning::LightningBackend;
use l402_store::{InvoiceRecord, InvoiceUpdate, Store};
use l402_tower::{ChallengeObserver, MintedChallenge, Offer};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use l402_core::env::now_unix;

use crate::metrics::SellerMetrics;

/// Most updates waiting to be written; beyond this, challenge records are dropped (and logged)
/// rather than slowing down challenges. Settlements wait for room instead: they are never
/// dropped.
const QUEUE: usize = 10_000;
/// Most updates written in one transaction.
const BATCH: usize = 1_000;
/// How long a short batch of challenge records waits for more before it is written: in a flood
/// of fresh challenges, one commit for what 50 ms bring rather than one for every few (a commit
/// writes the same index pages again however few rows it holds). A batch with a settlement in it
/// is written at once; a settlement that arrives during the wait is written with the batch, at
/// most this much later.
const LINGER: std::time::Duration = std::time::Duration::from_millis(50);
/// How long a batch is retried while the store is unavailable (a database restart) before it is
/// dropped.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(120);
/// The first pause between tries (doubled each time).
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(200);
/// The longest pause between tries.
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// What the writer's queue carries: an update to write, or a reader waiting for everything
/// queued before it to be written.
enum Queued {
    Update(InvoiceUpdate),
    Flush(oneshot::Sender<()>),
}

impl Queued {
    /// Whether this entry is to be written at once rather than after [`LINGER`].
    fn is_urgent(&self) -> bool {
        match self {
            Queued::Update(update) => update.moves_money(),
            Queued::Flush(_) => true,
        }
    }
}

/// The writer's queue, for those who add to it or wait for it: settlements
/// ([`watch_settlements`]) and readers that must see what is queued ([`Recorded::flush`]).
#[derive(Clone)]
pub(crate) struct Recorded {
    queue: mpsc::Sender<Queued>,
}

impl Recorded {
    /// Waits, at most `within`, until every update queued before this call is written (or
    /// given up on: the store refused it). Returns whether it was; `false` also when the writer
    /// has stopped. A read of the store after `true` sees every challenge already answered.
    pub(crate) async fn flush(&self, within: std::time::Duration) -> bool {
        let (done, written) = oneshot::channel();
        tokio::time::timeout(within, async {
            self.queue.send(Queued::Flush(done)).await.is_ok() && written.await.is_ok()
        })
        .await
        .unwrap_or(false)
    }

    /// A handle that flushes without keeping the queue open: the writer ends once every
    /// [`Recorded`] is dropped, whatever [`WeakRecorded`]s remain.
    pub(crate) fn downgrade(&self) -> WeakRecorded {
        WeakRecorded {
            queue: self.queue.downgrade(),
        }
    }

    /// Queues one update, waiting for room; `false` once the writer is gone.
    async fn send(&self, update: InvoiceUpdate) -> bool {
        self.queue.send(Queued::Update(update)).await.is_ok()
    }
}

/// A [`Recorded`] that does not keep the writer's queue open (the admin API's).
#[derive(Clone)]
pub(crate) struct WeakRecorded {
    queue: mpsc::WeakSender<Queued>,
}

impl WeakRecorded {
    /// [`Recorded::flush`], or `false` at once when the queue is closed.
    pub(crate) async fn flush(&self, within: std::time::Duration) -> bool {
        match self.queue.upgrade() {
            Some(queue) => Recorded { queue }.flush(within).await,
            None => false,
        }
    }
}

/// Starts the writer task and returns the observer to give the paywall, the queue (for
/// [`watch_settlements`] and for readers that flush it), and the task (it ends once every
/// sender is dropped and the queue is written). Each minted challenge and each batch written is
/// counted in `metrics`.
pub(crate) fn start(
    store: Store,
    metrics: Arc<SellerMetrics>,
) -> (ChallengeObserver, Recorded, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Queued>(QUEUE);
    let writer_metrics = metrics.clone();
    let writer = tokio::spawn(async move {
        let mut queued = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut queued, BATCH).await > 0 {
            if queued.len() < BATCH && !queued.iter().any(Queued::is_urgent) && !rx.is_closed() {
                tokio::time::sleep(LINGER).await;
                while queued.len() < BATCH {
                    match rx.try_recv() {
                        Ok(entry) => queued.push(entry),
                        Err(_) => break,
                    }
                }
            }
            let mut batch = Vec::with_capacity(queued.len());
            let mut waiting = Vec::new();
            for entry in queued.drain(..) {
                match entry {
                    Queued::Update(update) => batch.push(update),
                    Queued::Flush(done) => waiting.push(done),
                }
            }
            if !batch.is_empty() {
                write(&store, batch, &writer_metrics).await;
            }
            for done in waiting {
                let _ = done.send(());
            }
        }
    });
    let challenges = tx.clone();
    let observer: ChallengeObserver =
        Arc::new(move |offer: &Offer, challenge: &MintedChallenge| {
            let now = now_unix();
            let expires_at = now.saturating_add(offer.invoice_expiry_secs);
            metrics.challenge(&offer.service, challenge.payment_hash, expires_at);
            let record = InvoiceRecord {
                payment_hash: challenge.payment_hash,
                service: offer.service.to_string(),
                amount: challenge.amount,
                bolt11: challenge.bolt11.clone(),
                created_at: now,
                settled_at: None,
                token_id: challenge.token_id,
                expires_at: Some(expires_at),
            };
            if challenges
                .try_send(Queued::Update(InvoiceUpdate::Challenge(record)))
                .is_err()
            {
                tracing::warn!("challenge record queue full; dropping a record");
            }
        });
    (observer, Recorded { queue: tx }, writer)
}

/// Writes one batch in one transaction, retrying while the store is unavailable (for up to
/// [`RETRY_FOR`]); a batch the store refuses otherwise is logged and dropped.
async fn write(store: &Store, batch: Vec<InvoiceUpdate>, metrics: &SellerMetrics) {
    let updates = Arc::new(batch);
    let count = updates.len();
    let mut retry = RETRY_FIRST;
    let give_up = std::time::Instant::now() + RETRY_FOR;
    loop {
        let (store, batch) = (store.clone(), updates.clone());
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || store.invoices().apply(&batch)).await;
        metrics.store_write(started.elapsed(), matches!(result, Ok(Ok(_))));
        match result {
            // A database that is down or busy (a PostgreSQL restart): the batch waits,
            // and what arrives meanwhile queues behind it.
            Ok(Err(e)) if e.is_transient() && std::time::Instant::now() < give_up => {
                tracing::warn!(error = %e, count, "store unavailable; retrying the batch");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, count, "could not record challenges and settlements");
                break;
            }
            _ => break,
        }
    }
}

/// Queues the settlements the backend reports for the writer [`start`] runs (and counts them in
/// `metrics`), resubscribing with backoff, until the returned task is aborted.
pub(crate) fn watch_settlements(
    backend: Arc<dyn LightningBackend>,
    queue: Recorded,
    metrics: Arc<SellerMetrics>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = std::time::Duration::from_millis(500);
        loop {
            match backend.subscribe_settlements().await {
                Ok(None) => return,
                Ok(Some(mut rx)) => {
                    backoff = std::time::Duration::from_millis(500);
                    loop {
                        match rx.recv().await {
                            Ok(s) => {
                                metrics.settled(&s.payment_hash, s.amount_received);
                                let update = InvoiceUpdate::Settled {
                                    payment_hash: s.payment_hash,
                                    at: s.settled_at_unix,
                                };
                                if !queue.send(update).await {
                                    // The writer is gone: the seller is shutting down.
                                    return;
                                }
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                                tracing::warn!(missed = n, "settlement stream lagged");
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "settlement subscription failed; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use l402_core::{Msat, PaymentHash, TokenId};
    use std::time::Duration;

    fn challenge(n: u8) -> MintedChallenge {
        MintedChallenge {
            header_values: [String::new(), String::new()],
            bolt11: format!("lnbcrt10n1{n}"),
            payment_hash: PaymentHash([n; 32]),
            token_id: TokenId([n; 32]),
            amount: Msat::from_sat(1),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flush_returns_once_the_challenges_queued_before_it_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("l402.db")).unwrap();
        let config = crate::SellerConfig::zero_config("127.0.0.1:9".parse().unwrap()).unwrap();
        let metrics = Arc::new(SellerMetrics::new(&config, "dev"));
        let (observer, recorded, writer) = start(store.clone(), metrics);
        let offer = Offer::new("weather", Msat::from_sat(1));

        observer(&offer, &challenge(1));
        observer(&offer, &challenge(2));
        assert!(recorded.flush(Duration::from_secs(5)).await);
        for n in [1, 2] {
            let row = store.invoices().get(&PaymentHash([n; 32])).unwrap();
            assert_eq!(
                row.map(|r| r.service).as_deref(),
                Some("weather"),
                "row {n}"
            );
        }

        // A weak handle flushes too, but does not keep the writer alive: once the observer
        // and the queue's senders are gone, the writer ends, and a flush says so at once.
        let weak = recorded.downgrade();
        observer(&offer, &challenge(3));
        assert!(weak.flush(Duration::from_secs(5)).await);
        assert!(
            store
                .invoices()
                .get(&PaymentHash([3; 32]))
                .unwrap()
                .is_some()
        );
        drop((observer, recorded));
        tokio::time::timeout(Duration::from_secs(5), writer)
            .await
            .expect("the writer ends with its last sender, whatever weak handles remain")
            .unwrap();
        let started = std::time::Instant::now();
        assert!(!weak.flush(Duration::from_secs(5)).await);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
