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
//! A batch the store cannot take because it is unavailable (a database restarting) is retried,
//! for up to two minutes, while later updates queue behind it.

use std::sync::Arc;

use l402_lightning::LightningBackend;
use l402_store::{InvoiceRecord, InvoiceUpdate, Store};
use l402_tower::{ChallengeObserver, MintedChallenge, Offer};
use tokio::sync::mpsc;
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

/// Starts the writer task and returns the observer to give the paywall, the queue's sender for
/// [`watch_settlements`], and the task (it ends once every sender is dropped and the queue is
/// written). Each minted challenge and each batch written is counted in `metrics`.
pub(crate) fn start(
    store: Store,
    metrics: Arc<SellerMetrics>,
) -> (
    ChallengeObserver,
    mpsc::Sender<InvoiceUpdate>,
    JoinHandle<()>,
) {
    let (tx, mut rx) = mpsc::channel::<InvoiceUpdate>(QUEUE);
    let writer_metrics = metrics.clone();
    let writer = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            if batch.len() < BATCH
                && !batch.iter().any(InvoiceUpdate::moves_money)
                && !rx.is_closed()
            {
                tokio::time::sleep(LINGER).await;
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(update) => batch.push(update),
                        Err(_) => break,
                    }
                }
            }
            let updates = Arc::new(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            let count = updates.len();
            let mut retry = RETRY_FIRST;
            let give_up = std::time::Instant::now() + RETRY_FOR;
            loop {
                let (store, batch) = (store.clone(), updates.clone());
                let started = std::time::Instant::now();
                let result =
                    tokio::task::spawn_blocking(move || store.invoices().apply(&batch)).await;
                writer_metrics.store_write(started.elapsed(), matches!(result, Ok(Ok(_))));
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
    });
    let challenges = tx.clone();
    let observer: ChallengeObserver =
        Arc::new(move |offer: &Offer, challenge: &MintedChallenge| {
            let now = now_unix();
            let expires_at = now.saturating_add(offer.invoice_expiry_secs);
            metrics.challenge(&offer.service, challenge.payment_hash, expires_at);
            let record = InvoiceRecord {
                payment_hash: challenge.payment_hash,
                service: offer.service.clone(),
                amount: challenge.amount,
                bolt11: challenge.bolt11.clone(),
                created_at: now,
                settled_at: None,
                token_id: challenge.token_id,
                expires_at: Some(expires_at),
            };
            if challenges
                .try_send(InvoiceUpdate::Challenge(record))
                .is_err()
            {
                tracing::warn!("challenge record queue full; dropping a record");
            }
        });
    (observer, tx, writer)
}

/// Queues the settlements the backend reports for the writer [`start`] runs (and counts them in
/// `metrics`), resubscribing with backoff, until the returned task is aborted.
pub(crate) fn watch_settlements(
    backend: Arc<dyn LightningBackend>,
    queue: mpsc::Sender<InvoiceUpdate>,
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
                                if queue.send(update).await.is_err() {
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
