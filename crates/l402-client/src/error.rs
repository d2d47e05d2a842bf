//! [`ClientError`] and the process exit codes the CLI maps it to.

use l402_core::client::StopReason;
use l402_core::invoice::InvoiceCheckError;
use l402_core::{Msat, PaymentHash};
use l402_lightning::BackendError;
use l402_store::StoreError;

use crate::budget::BudgetError;
use crate::config::ConfigError;

/// Success.
pub const EXIT_OK: i32 = 0;
/// A local failure that is not the caller's input: storage, an internal error.
pub const EXIT_LOCAL: i32 = 1;
/// Bad input: an invalid URL, request, token or configuration.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Over budget: a budget limit, a domain rule or the maximum cost refused the payment; nothing
/// was paid. Also used when automatic payment is off and the resource needs payment.
pub const EXIT_OVER_BUDGET: i32 = 3;
/// The payment failed, is unresolved, or the server's challenge could not be paid (or was not
/// honoured after payment).
pub const EXIT_PAYMENT_FAILED: i32 = 4;
/// An HTTP or network error talking to the server.
pub const EXIT_NETWORK: i32 = 5;

/// Every exit code with its meaning, for `--help` texts and documentation.
pub const EXIT_CODES: &[(i32, &str)] = &[
    (EXIT_OK, "success"),
    (EXIT_LOCAL, "local error (storage or internal)"),
    (
        EXIT_BAD_INPUT,
        "bad input (URL, request, token or configuration)",
    ),
    (
        EXIT_OVER_BUDGET,
        "over budget or maximum cost (nothing was paid), or payment needed with auto-pay off",
    ),
    (
        EXIT_PAYMENT_FAILED,
        "payment failed or unresolved, or the server's challenge could not be honoured",
    ),
    (EXIT_NETWORK, "HTTP or network error"),
];

/// Why a request (or a client operation) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The budget refused the payment. Nothing was paid.
    #[error("{0}")]
    Budget(#[from] BudgetError),
    /// The wallet could not pay. Nothing was paid and the reservation was released.
    #[error("payment failed: {0}")]
    PaymentFailed(#[source] BackendError),
    /// A payment's outcome is not known yet (in flight, or the wallet cannot be asked). It stays
    /// in the journal, its budget reservation is kept, and nothing more is paid for its scope
    /// until it resolves.
    #[error(
        "the payment {payment_hash} is unresolved ({detail}); it stays in the journal and \
         nothing more will be paid for this scope until it resolves"
    )]
    PaymentPending {
        /// The payment hash.
        payment_hash: PaymentHash,
        /// Why it is unresolved.
        detail: String,
    },
    /// The client stopped without the resource (unusable challenge, invoice refused by the
    /// pre-payment checks, or still asked to pay after paying).
    #[error("{0}")]
    Refused(#[from] StopReason),
    /// Payment is required, and automatic payment is off.
    #[error("payment required: {amount} for {scope} (automatic payment is off)")]
    PaymentRequired {
        /// The invoice amount.
        amount: Msat,
        /// The scope the token would cover.
        scope: String,
        /// The invoice's payment hash.
        payment_hash: PaymentHash,
    },
    /// The server could not be reached, or the HTTP exchange failed.
    #[error("network error: {0}")]
    Http(#[from] reqwest::Error),
    /// The wallet could not be asked something other than a payment (its network, say).
    #[error("wallet error: {0}")]
    Wallet(#[source] BackendError),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The configuration is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The request cannot be sent (bad URL, header, streaming body).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// No token is held for this scope.
    #[error("no token is held for {0}")]
    NoToken(String),
    /// A token given to import is not a usable L402 credential.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The client could not be built.
    #[error("cannot build the L402 client: {0}")]
    Build(String),
    /// A bug or a crashed background task.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ClientError {
    /// The process exit code for this error (see [`EXIT_CODES`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Budget(_) | ClientError::PaymentRequired { .. } => EXIT_OVER_BUDGET,
            ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax {
                ..
            })) => EXIT_OVER_BUDGET,
            ClientError::PaymentFailed(_)
            | ClientError::PaymentPending { .. }
            | ClientError::Refused(_)
            | ClientError::Wallet(_) => EXIT_PAYMENT_FAILED,
            ClientError::Http(_) => EXIT_NETWORK,
            ClientError::Config(_)
            | ClientError::InvalidRequest(_)
            | ClientError::NoToken(_)
            | ClientError::InvalidToken(_)
            | ClientError::Build(_) => EXIT_BAD_INPUT,
            ClientError::Store(_) | ClientError::Internal(_) => EXIT_LOCAL,
        }
    }

    /// True when nothing was paid for sure (budget or policy refusals, invalid input).
    pub fn nothing_paid(&self) -> bool {
        matches!(
            self,
            ClientError::Budget(_)
                | ClientError::PaymentRequired { .. }
                | ClientError::PaymentFailed(_)
                | ClientError::InvalidRequest(_)
                | ClientError::Config(_)
        ) || matches!(self, ClientError::Refused(r) if *r != StopReason::StillRequiredAfterPayment
            && *r != StopReason::PreimageMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Limit;

    #[test]
    fn exit_codes() {
        let budget = ClientError::Budget(BudgetError::Exceeded {
            limit: Limit::Daily,
            would_spend: Msat(1),
            limit_value: Msat(0),
            already_spent: Msat(0),
        });
        assert_eq!(budget.exit_code(), 3);
        let over = ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax {
            amount: Msat(2),
            max: Msat(1),
        }));
        assert_eq!(over.exit_code(), 3);
        assert_eq!(
            ClientError::Refused(StopReason::StillRequiredAfterPayment).exit_code(),
            4
        );
        assert_eq!(
            ClientError::PaymentFailed(BackendError::NoRoute).exit_code(),
            4
        );
        assert_eq!(ClientError::InvalidRequest("x".into()).exit_code(), 2);
        assert_eq!(ClientError::Internal("x".into()).exit_code(), 1);
        let codes: Vec<i32> = EXIT_CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4, 5]);
    }
}
