//! Paying one challenge: budget check and reservation with the journal entry (one durable
//! transaction), the wallet call, then the outcome recorded with the token and the receipt
//! (another). Nothing is paid before the budget agreed and the journal holds the payment.

use l402_core::client::{PaymentPlan, StopReason};
use l402_core::{Msat, Preimage};
use l402_lightning::{BackendError, PayOptions, PaymentState};
use l402_store::{NewPayment, PaymentSuccess, Receipt, TokenRecord};

use crate::blocking::on_store;
use crate::budget::{check_amounts, check_domain, spend_query};
use crate::client::L402Client;
use crate::error::ClientError;
use crate::scope::Target;
use crate::token::{self, paid_token};

/// How long past the payment timeout the client waits for the wallet's own answer.
const PAY_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The exit status of the crash test hook (what `kill -9` gives a shell: 128 + 9).
const CRASH_EXIT_STATUS: i32 = 137;

impl L402Client {
    /// Pays `plan` for `target`, within the budget. Returns the token to retry with and the
    /// receipt.
    pub(crate) async fn pay(
        &self,
        target: &Target,
        url: &str,
        plan: &PaymentPlan,
    ) -> Result<(TokenRecord, Receipt), ClientError> {
        let budget = self.inner.budget.clone();
        check_domain(&budget, &target.domain)?;
        let now = self.now();
        let max_fee = budget.max_fee;
        let cost = Msat(plan.amount.0.saturating_add(max_fee.0));
        let payment = NewPayment {
            payment_hash: plan.payment_hash,
            url: url.to_owned(),
            origin: target.origin.clone(),
            scope: target.scope.clone(),
            domain: target.domain.clone(),
            scheme: plan.challenge.scheme,
            bolt11: plan.invoice.bolt11.clone(),
            macaroon: plan.challenge.macaroon.clone(),
            amount: plan.amount,
            max_fee,
            invoice_expires_at: plan.invoice.expires_at_unix(),
            created_at: now,
        };
        // The wallet opens now, before anything is reserved: a wallet that cannot be opened
        // leaves nothing in the journal.
        let wallet = self.inner.wallet.get().await?;
        let query = spend_query(now, Some(&target.domain));
        let (journaled, host) = (payment.clone(), target.domain.clone());
        on_store(&self.inner.store, move |s| {
            s.journal().reserve(&journaled, &query, |spent| {
                check_amounts(&budget, &host, cost, spent)
            })
        })
        .await??;

        tracing::info!(
            payment_hash = %payment.payment_hash,
            amount = %payment.amount,
            max_fee = %max_fee,
            scope = %payment.scope,
            "paying L402 invoice"
        );
        let opts = PayOptions {
            max_fee,
            timeout: self.inner.payment_timeout,
        };
        // The backend is asked to honour the timeout; this bound holds even if it does not, and
        // its expiry is handled like the backend's own timeout (the wallet is asked).
        let bound = self.inner.payment_timeout.saturating_add(PAY_GRACE);
        let outcome = tokio::time::timeout(bound, wallet.pay_invoice(&payment.bolt11, opts))
            .await
            .unwrap_or(Err(BackendError::Timeout));
        match outcome {
            Ok(result) => {
                if self.inner.crash_after_pay {
                    tracing::warn!("crash_after_pay_for_tests: exiting before storing the payment");
                    std::process::exit(CRASH_EXIT_STATUS);
                }
                self.record_paid(&payment, result.preimage, result.fee)
                    .await
            }
            Err(err) => self.after_failed_pay(&payment, err).await,
        }
    }

    /// Records a payment the wallet made: journal `succeeded`, spend settled, token cached,
    /// receipt written, in one transaction. A wallet preimage that does not pay the hash is
    /// recorded as money spent, without a token.
    pub(crate) async fn record_paid(
        &self,
        payment: &NewPayment,
        preimage: Preimage,
        fee: Msat,
    ) -> Result<(TokenRecord, Receipt), ClientError> {
        let now = self.now();
        let valid = preimage.pays(&payment.payment_hash);
        let token = paid_token(payment, preimage.clone(), fee, now);
        let token_id = token::token_id(&payment.macaroon);
        let hash = payment.payment_hash;
        let stored = token.clone();
        let receipt = on_store(&self.inner.store, move |s| {
            s.journal().succeed(&PaymentSuccess {
                payment_hash: hash,
                preimage,
                fee,
                at: now,
                // A `Payment` charge (no macaroon) buys one request: no token to keep.
                token: (valid && !stored.macaroon.is_empty()).then_some(&stored),
                token_id,
            })?;
            s.receipts().get(&hash)
        })
        .await?;
        if !valid {
            tracing::error!(payment_hash = %hash, "the wallet returned a preimage that does not pay the invoice");
            return Err(ClientError::Refused(StopReason::PreimageMismatch));
        }
        let receipt = receipt.ok_or_else(|| {
            ClientError::Internal(format!("the receipt of {hash} was not stored"))
        })?;
        tracing::info!(payment_hash = %hash, fee = %fee, scope = %token.scope, "L402 payment recorded");
        Ok((token, receipt))
    }

    /// The wallet reported an error. Errors that prove nothing was paid release the
    /// reservation; otherwise the wallet is asked what became of the payment.
    async fn after_failed_pay(
        &self,
        payment: &NewPayment,
        err: BackendError,
    ) -> Result<(TokenRecord, Receipt), ClientError> {
        let hash = payment.payment_hash;
        let nothing_paid = matches!(
            err,
            BackendError::NoRoute
                | BackendError::InsufficientBalance
                | BackendError::FeeTooHigh
                | BackendError::InvoiceExpired
                | BackendError::InvalidInvoice(_)
                | BackendError::Unauthorized
        );
        if !nothing_paid {
            match self.inner.wallet.get().await?.payment_state(&hash).await {
                Ok(PaymentState::Succeeded { preimage, fee }) => {
                    return self.record_paid(payment, preimage, fee).await;
                }
                Ok(PaymentState::Failed) => {}
                Ok(PaymentState::Unknown) if !err.is_transient() => {}
                Ok(state) => {
                    return Err(ClientError::PaymentPending {
                        payment_hash: hash,
                        detail: format!("{err}; the wallet reports it as {state:?}"),
                    });
                }
                Err(asking) => {
                    return Err(ClientError::PaymentPending {
                        payment_hash: hash,
                        detail: format!("{err}; asking the wallet failed: {asking}"),
                    });
                }
            }
        }
        let at = self.now();
        on_store(&self.inner.store, move |s| s.journal().fail(&hash, at)).await?;
        tracing::warn!(payment_hash = %hash, error = %err, "L402 payment failed; reservation released");
        Err(ClientError::PaymentFailed(err))
    }
}
