//! Records challenges and settlements in the store, off the request path: the paywall hands
//! records to a channel; a background task writes them.

use std::sync::Arc;

use l402_lightning::LightningBackend;
use l402_store::{InvoiceRecord, Store};
use l402_tower::{ChallengeObserver, MintedChallenge, Offer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use l402_core::env::now_unix;

/// Most records waiting to be written; beyond this, records are dropped (and logged) rather
/// than slowing down challenges.
const QUEUE: usize = 10_000;

/// Starts the writer task and returns the observer to give the paywall, and the task (it ends
/// once every copy of the observer is dropped and the queue is written).
pub(crate) fn start(store: Store) -> (ChallengeObserver, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<InvoiceRecord>(QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(record) = rx.recv().await {
            let store = store.clone();
            let result =
                tokio::task::spawn_blocking(move || store.invoices().record_challenge(&record))
                    .await;
            if let Ok(Err(e)) = result {
                tracing::warn!(error = %e, "could not record a challenge");
            }
        }
    });
    let observer: ChallengeObserver =
        Arc::new(move |offer: &Offer, challenge: &MintedChallenge| {
            let now = now_unix();
            let record = InvoiceRecord {
                payment_hash: challenge.payment_hash,
                service: offer.service.clone(),
                amount: challenge.amount,
                bolt11: challenge.bolt11.clone(),
                created_at: now,
                settled_at: None,
                token_id: challenge.token_id,
                expires_at: Some(now.saturating_add(offer.invoice_expiry_secs)),
            };
            if tx.try_send(record).is_err() {
                tracing::warn!("challenge record queue full; dropping a record");
            }
        });
    (observer, writer)
}

/// Marks invoices settled as the backend reports settlements, resubscribing with backoff, until
/// the returned task is aborted.
pub(crate) fn watch_settlements(
    backend: Arc<dyn LightningBackend>,
    store: Store,
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
                                let store = store.clone();
                                let _ = tokio::task::spawn_blocking(move || {
                                    store
                                        .invoices()
                                        .mark_settled(&s.payment_hash, s.settled_at_unix)
                                })
                                .await;
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
