//! Runnable examples of embedding the L402 paywall (`examples/axum_paywall.rs`,
//! `examples/tonic_paywall.rs`). This library is only the buyer side their self-tests share:
//! check a payment-required answer with [`RequestFlow`] and pay it through a Lightning backend.
//! Does IO only through the backend it is given.
//!
//! Run the examples with `cargo run -p l402-examples --example axum_paywall` (or
//! `tonic_paywall`); add `-- --self-test` to have each one pay itself once and exit.

#![forbid(unsafe_code)]

use std::time::Duration;

use l402_backend::{BackendError, LightningBackend, PayOptions};
use l402_core::Msat;
use l402_core::client::{Decision, PaidToken, PayPolicy, RequestFlow, ResponseView, StopReason};
use l402_core::env::now_unix;
use l402_core::invoice::Network;

/// Why a challenge was not paid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayError {
    /// The answer does not ask for payment (no 402, no gRPC "payment required").
    #[error("the answer does not ask for payment")]
    NotPaymentRequired,
    /// The client's checks refused the challenge or the wallet's preimage.
    #[error("refusing to pay: {0}")]
    Refused(StopReason),
    /// The wallet could not pay.
    #[error("the payment failed: {0}")]
    Payment(BackendError),
}

/// Pays the L402 challenge in `response` through `wallet` and returns the token to retry with.
///
/// [`RequestFlow`] first parses the challenge and checks the invoice before anything is paid:
/// its payment hash must match the macaroon's, it must be a regtest invoice (the dev wallet's
/// network), not expired, and cost at most `max_amount`. The wallet's preimage is checked
/// against the payment hash afterwards.
pub async fn pay_challenge(
    wallet: &dyn LightningBackend,
    response: &ResponseView<'_>,
    max_amount: Msat,
) -> Result<PaidToken, PayError> {
    let mut flow = RequestFlow::new(
        PayPolicy {
            network: Network::Regtest,
            max_amount,
            now_unix: now_unix(),
        },
        false,
    );
    let plan = match flow.on_response(response) {
        Decision::Pay { plan, .. } => plan,
        Decision::Done => return Err(PayError::NotPaymentRequired),
        Decision::Stop(reason) => return Err(PayError::Refused(reason)),
    };
    let paid = wallet
        .pay_invoice(
            &plan.challenge.invoice,
            PayOptions {
                max_fee: Msat(0),
                timeout: Duration::from_secs(10),
            },
        )
        .await
        .map_err(PayError::Payment)?;
    flow.on_paid(paid.preimage).map_err(PayError::Refused)
}
