//! The store's `mpp_sessions` table as the paywall's [`SessionLedger`]: the balances of
//! metered services, shared by every instance on one PostgreSQL.

use l402_core::env::now_unix;
use l402_core::invoice::parse_bolt11;
use l402_core::session::{Close, Credit, Opened, RefundOutcome, Reserve};
use l402_core::{Msat, Network, PaymentHash};
use l402_store::{NewSession, Store};
use l402_tower::{LedgerError, OpenSession, SessionLedger};

use crate::config::SellerConfig;

/// The seller's session ledger.
pub(crate) struct StoreSessions {
    store: Store,
    network: Network,
    settler: Settler,
}

/// How long settlements wait to be written together.
const SETTLE_BATCH: std::time::Duration = std::time::Duration::from_millis(5);
/// The most settlements written in one transaction.
const SETTLE_BATCH_MAX: usize = 1024;

/// Writes settlements in batches on a thread of its own: one transaction (one flush) per
/// [`SETTLE_BATCH`] however many requests ended in it, each session's releases summed into one
/// ledger line. A metered request thus costs one store statement on its way in (the
/// reservation) and a share of one batch on its way out. Settlements still queued when the
/// process is killed are lost: those requests stay billed their reservation, as a request cut
/// short is. Dropping the last sender ends the thread after it wrote what was queued.
#[derive(Clone)]
struct Settler(std::sync::mpsc::Sender<Settle>);

/// What the settlement thread is asked.
enum Settle {
    /// Give `release` back to a session.
    Release(PaymentHash, Msat),
    /// Write what is queued now, then answer (before a session is closed).
    Flush(std::sync::mpsc::SyncSender<()>),
}

/// The longest a close waits for queued settlements to be written.
const FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Settler {
    fn start(store: Store) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Settle>();
        let spawned = std::thread::Builder::new()
            .name("l402-settle".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let deadline = std::time::Instant::now() + SETTLE_BATCH;
                    let mut summed: Vec<(PaymentHash, Msat)> = Vec::new();
                    let mut flushed = Vec::new();
                    let mut next = Some(first);
                    let mut count = 0;
                    while let Some(message) = next.take() {
                        match message {
                            Settle::Release(id, release) => {
                                count += 1;
                                match summed.iter_mut().find(|(s, _)| *s == id) {
                                    Some((_, total)) => {
                                        total.0 = total.0.saturating_add(release.0)
                                    }
                                    None => summed.push((id, release)),
                                }
                            }
                            // Write now: a close is waiting.
                            Settle::Flush(done) => {
                                flushed.push(done);
                                break;
                            }
                        }
                        if count >= SETTLE_BATCH_MAX {
                            break;
                        }
                        let left = deadline.saturating_duration_since(std::time::Instant::now());
                        next = rx.recv_timeout(left).ok();
                    }
                    if let Err(error) = store.sessions().settle_many(&summed, now_unix()) {
                        tracing::warn!(%error, sessions = summed.len(), "cannot settle metered requests: billed their reservations");
                    }
                    for done in flushed {
                        let _ = done.send(());
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the settlement thread");
        }
        Settler(tx)
    }
}

impl StoreSessions {
    /// The ledger over `store`, if any service of `config` is metered; return invoices must be
    /// for `network`.
    pub(crate) fn for_config(
        config: &SellerConfig,
        store: &Store,
        network: Network,
    ) -> Option<Self> {
        config
            .l402
            .services
            .iter()
            .any(|t| t.metered().is_some())
            .then(|| StoreSessions {
                store: store.clone(),
                network,
                settler: Settler::start(store.clone()),
            })
    }
}

fn ledger_err(e: l402_store::StoreError) -> LedgerError {
    LedgerError(Box::new(e))
}

impl SessionLedger for StoreSessions {
    fn check_return_invoice(&self, bolt11: &str) -> Result<(), String> {
        let invoice = parse_bolt11(bolt11).map_err(|e| format!("not a BOLT11 invoice: {e}"))?;
        if let Some(amount) = invoice.amount {
            return Err(format!(
                "it names an amount ({} msat); send an invoice without one, the refund is the balance left",
                amount.0
            ));
        }
        if invoice.network != self.network {
            return Err(format!(
                "it is for {}, this server runs on {}",
                invoice.network.as_str(),
                self.network.as_str()
            ));
        }
        if invoice.is_expired_at(now_unix()) {
            return Err("it has expired".into());
        }
        Ok(())
    }

    fn open(&self, session: &OpenSession<'_>) -> Result<Opened, LedgerError> {
        self.store
            .sessions()
            .open(&NewSession {
                session_id: session.session_id,
                service: session.service,
                deposit: session.deposit,
                return_invoice: session.return_invoice,
                idle_timeout_secs: session.idle_timeout_secs,
                now: now_unix(),
            })
            .map_err(ledger_err)
    }

    fn credit(
        &self,
        session_id: &PaymentHash,
        payment_hash: &PaymentHash,
        amount: Msat,
    ) -> Result<Credit, LedgerError> {
        self.store
            .sessions()
            .credit(session_id, payment_hash, amount, now_unix())
            .map_err(ledger_err)
    }

    fn reserve(
        &self,
        session_id: &PaymentHash,
        service: &str,
        amount: Msat,
    ) -> Result<Reserve, LedgerError> {
        self.store
            .sessions()
            .reserve(session_id, service, amount, now_unix())
            .map_err(ledger_err)
    }

    fn settle(
        &self,
        session_id: &PaymentHash,
        reserved: Msat,
        used: Msat,
    ) -> Result<(), LedgerError> {
        let release = Msat(reserved.0.saturating_sub(used.0));
        if release.0 == 0 {
            return Ok(());
        }
        if self
            .settler
            .0
            .send(Settle::Release(*session_id, release))
            .is_ok()
        {
            return Ok(());
        }
        // No settlement thread: write this one now.
        self.store
            .sessions()
            .settle(session_id, reserved, used, now_unix())
            .map(drop)
            .map_err(ledger_err)
    }

    fn close(&self, session_id: &PaymentHash) -> Result<Close, LedgerError> {
        // What finished before the close is settled before it.
        let (done, flushed) = std::sync::mpsc::sync_channel(1);
        if self.settler.0.send(Settle::Flush(done)).is_ok() {
            let _ = flushed.recv_timeout(FLUSH_WAIT);
        }
        self.store
            .sessions()
            .close(session_id, now_unix())
            .map_err(ledger_err)
    }

    fn record_refund(
        &self,
        session_id: &PaymentHash,
        outcome: RefundOutcome,
    ) -> Result<(), LedgerError> {
        self.store
            .sessions()
            .record_refund(session_id, outcome, now_unix())
            .map_err(ledger_err)
    }
}

/// How often sessions past their idle timeout are looked for: every 15 s, or half the
/// shortest idle timeout of the configuration's metered services (at least 1 s).
pub(crate) fn sweep_every(config: &SellerConfig) -> std::time::Duration {
    let shortest = config
        .l402
        .services
        .iter()
        .filter_map(|t| t.metered())
        .map(|m| m.idle_timeout_secs / 2)
        .min()
        .unwrap_or(15);
    std::time::Duration::from_secs(shortest.clamp(1, 15))
}

/// Every `every`, closes the sessions whose idle timeout has run out and refunds them through
/// `backend` (at most 50 a sweep; one instance or several, each session is closed once: the
/// store's close is conditional).
pub(crate) fn close_idle(
    store: Store,
    backend: std::sync::Arc<dyn l402_lightning::LightningBackend>,
    network: Network,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    let ledger: std::sync::Arc<dyn SessionLedger> = std::sync::Arc::new(StoreSessions {
        store: store.clone(),
        network,
        settler: Settler::start(store.clone()),
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let s = store.clone();
            let idle = tokio::task::spawn_blocking(move || s.sessions().idle(now_unix(), 50)).await;
            let idle = match idle {
                Ok(Ok(idle)) => idle,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "cannot look for idle sessions");
                    continue;
                }
                Err(_) => continue,
            };
            for session in idle {
                let id = session.session_id;
                match l402_tower::close_session(backend.as_ref(), &ledger, id).await {
                    Ok(Ok(closed)) => tracing::info!(
                        session = %id.to_hex(),
                        service = %session.service,
                        refund_msat = closed.refund.0,
                        refund = closed.outcome.as_str(),
                        "closed an idle session"
                    ),
                    Ok(Err(_)) => {}
                    Err(error) => {
                        tracing::warn!(session = %id.to_hex(), %error, "cannot close an idle session")
                    }
                }
            }
        }
    })
}
