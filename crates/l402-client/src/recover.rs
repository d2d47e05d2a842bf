//! Crash safety: journal rows still `pending` (the process died between paying and recording,
//! or the outcome was unknown) are resolved by asking the wallet, never by paying again.

use l402_core::client::StopReason;
use l402_core::{Msat, PaymentHash};
use l402_lightning::PaymentState;
use l402_store::PaymentRecord;

use crate::blocking::on_store;
use crate::client::L402Client;
use crate::error::ClientError;
use crate::scope::Target;

/// How long past the payment timeout a payment the wallet has never heard of may still be
/// starting (another process may have journaled it and not yet called its wallet).
const UNKNOWN_GRACE_SECS: u64 = 60;

/// What [`L402Client::recover_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Paid after all: the token and the receipt are now stored (nothing was paid again).
    pub completed: Vec<PaymentHash>,
    /// Failed (or never started): the budget reservation was released.
    pub failed: Vec<PaymentHash>,
    /// Still unknown: left `pending` with its reservation; nothing more is paid for its scope
    /// until it resolves.
    pub unresolved: Vec<UnresolvedPayment>,
}

/// A journaled payment whose outcome is not known yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedPayment {
    /// The payment hash.
    pub payment_hash: PaymentHash,
    /// The URL it paid for.
    pub url: String,
    /// The scope.
    pub scope: String,
    /// The invoice amount.
    pub amount: Msat,
    /// Why it is unresolved.
    pub reason: String,
}

/// The outcome of resolving one row.
enum Resolved {
    Completed,
    Failed,
    Unresolved(String),
}

impl L402Client {
    /// Resolves every `pending` journal row through the wallet's `payment_state`: succeeded →
    /// store the token and receipt (so the paid token is used, not paid again); failed → mark
    /// failed and release the reservation; in flight or unknown → leave it and report it (a
    /// payment unknown to the wallet whose invoice expired, or older than the payment timeout
    /// plus a minute, never started and is released).
    ///
    /// The client runs this once before its first payment; call it at startup to also get the
    /// report.
    pub async fn recover_pending(&self) -> Result<RecoveryReport, ClientError> {
        let pending = on_store(&self.inner.store, |s| s.journal().pending()).await?;
        let mut report = RecoveryReport::default();
        for row in pending {
            let hash = row.payment.payment_hash;
            match self.resolve(&row).await? {
                Resolved::Completed => report.completed.push(hash),
                Resolved::Failed => report.failed.push(hash),
                Resolved::Unresolved(reason) => {
                    tracing::warn!(payment_hash = %hash, url = %row.payment.url, %reason, "unresolved L402 payment");
                    report.unresolved.push(UnresolvedPayment {
                        payment_hash: hash,
                        url: row.payment.url.clone(),
                        scope: row.payment.scope.clone(),
                        amount: row.payment.amount,
                        reason,
                    });
                }
            }
        }
        if !report.completed.is_empty() || !report.failed.is_empty() {
            tracing::info!(
                completed = report.completed.len(),
                failed = report.failed.len(),
                "resolved pending L402 payments from the journal"
            );
        }
        Ok(report)
    }

    /// Before paying for `target`: resolve the journal once per client, then refuse to pay while
    /// a payment for the same scope is unresolved.
    pub(crate) async fn resolve_before_paying(&self, target: &Target) -> Result<(), ClientError> {
        {
            let mut recovered = self.inner.recovered.lock().await;
            if !*recovered {
                self.recover_pending().await?;
                *recovered = true;
            }
        }
        let scope = target.scope.clone();
        let pending = on_store(&self.inner.store, move |s| {
            s.journal().pending_for_scope(&scope)
        })
        .await?;
        for row in pending {
            if let Resolved::Unresolved(detail) = self.resolve(&row).await? {
                return Err(ClientError::PaymentPending {
                    payment_hash: row.payment.payment_hash,
                    detail,
                });
            }
        }
        Ok(())
    }

    /// Resolves one pending row.
    async fn resolve(&self, row: &PaymentRecord) -> Result<Resolved, ClientError> {
        let p = &row.payment;
        let hash = p.payment_hash;
        let now = self.now();
        let wallet = match self.inner.wallet.get().await {
            Ok(wallet) => wallet,
            Err(e) => {
                return Ok(Resolved::Unresolved(format!(
                    "the wallet cannot be opened: {e}"
                )));
            }
        };
        let state = match wallet.payment_state(&hash).await {
            Ok(state) => state,
            Err(e) => {
                return Ok(Resolved::Unresolved(format!(
                    "the wallet cannot be asked: {e}"
                )));
            }
        };
        let never_started = now >= p.invoice_expires_at
            || now
                >= p.created_at
                    .saturating_add(self.inner.payment_timeout.as_secs())
                    .saturating_add(UNKNOWN_GRACE_SECS);
        match state {
            PaymentState::Succeeded { preimage, fee } => {
                match self.record_paid(p, preimage, fee).await {
                    Ok(_) => Ok(Resolved::Completed),
                    Err(ClientError::Refused(StopReason::PreimageMismatch)) => {
                        Ok(Resolved::Unresolved(
                            "the wallet's preimage does not pay the invoice".into(),
                        ))
                    }
                    Err(e) => Err(e),
                }
            }
            PaymentState::Failed => {
                on_store(&self.inner.store, move |s| s.journal().fail(&hash, now)).await?;
                Ok(Resolved::Failed)
            }
            PaymentState::Unknown if never_started => {
                on_store(&self.inner.store, move |s| s.journal().fail(&hash, now)).await?;
                Ok(Resolved::Failed)
            }
            PaymentState::Unknown => Ok(Resolved::Unresolved(
                "the wallet has no record of it yet; it may still be starting".into(),
            )),
            PaymentState::InFlight => Ok(Resolved::Unresolved("the payment is in flight".into())),
        }
    }
}
