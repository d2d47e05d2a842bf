//! [`ClientError`] and its [`ErrorCategory`].

use l402_core::client::StopReason;
use l402_core::invoice::InvoiceCheckError;
use l402_core::{Msat, PaymentHash};
use l402_lightning::BackendError;
use l402_store::StoreError;

use crate::budget::BudgetError;
use crate::config::ConfigError;

/// What kind of failure a [`ClientError`] is. Callers map it to their own vocabulary: the
/// `l402` CLI to its exit codes, the MCP server to its error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// A local failure that is not the caller's input: storage, an internal error.
    Local,
    /// Bad input: an invalid URL, request, token or configuration.
    BadInput,
    /// A budget limit, a domain rule or the maximum cost refused the payment; nothing was paid.
    /// Also when automatic payment is off and the resource needs payment.
    OverBudget,
    /// The payment failed, is unresolved, or the server's challenge could not be paid (or was
    /// not honoured after payment).
    PaymentFailed,
    /// An HTTP or network error talking to the server (TLS included).
    Network,
}

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
    /// A `Payment` (MPP) charge challenge that cannot be paid as offered (expired, not a sat
    /// charge, or a request object that disagrees with its invoice). Nothing was paid.
    #[error("unusable Payment challenge: {0}")]
    BadPaymentChallenge(String),
    /// The server asked for payment only in schemes this client is configured not to pay
    /// (`[payment] prefer`). Nothing was paid.
    #[error("the server asks for payment only in schemes this client does not pay: {0}")]
    SchemeNotAllowed(String),
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
    /// A redirect was not followed: too many hops, a `Location` that is not an http(s) URL,
    /// or a host the domain lists refuse. Nothing was sent to `to`.
    #[error("redirect from {from} to {to} refused: {reason}")]
    RedirectRefused {
        /// The URL that answered with the redirect.
        from: String,
        /// Where it pointed.
        to: String,
        /// Why it was not followed.
        reason: String,
    },
    /// The client's [`DestinationGuard`](crate::DestinationGuard) refused a URL (the first
    /// one or a redirect hop). Nothing was sent there.
    #[error("request to {url} refused: {reason}")]
    DestinationRefused {
        /// The refused URL.
        url: String,
        /// The guard's reason.
        reason: String,
    },
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
    /// What kind of failure this is.
    pub fn category(&self) -> ErrorCategory {
        match self {
            ClientError::Budget(_) | ClientError::PaymentRequired { .. } => {
                ErrorCategory::OverBudget
            }
            ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax {
                ..
            })) => ErrorCategory::OverBudget,
            ClientError::PaymentFailed(_)
            | ClientError::PaymentPending { .. }
            | ClientError::Refused(_)
            | ClientError::BadPaymentChallenge(_)
            | ClientError::SchemeNotAllowed(_)
            | ClientError::Wallet(_) => ErrorCategory::PaymentFailed,
            ClientError::Http(_) => ErrorCategory::Network,
            ClientError::Config(_)
            | ClientError::InvalidRequest(_)
            | ClientError::RedirectRefused { .. }
            | ClientError::DestinationRefused { .. }
            | ClientError::NoToken(_)
            | ClientError::InvalidToken(_)
            | ClientError::Build(_) => ErrorCategory::BadInput,
            ClientError::Store(_) | ClientError::Internal(_) => ErrorCategory::Local,
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
                | ClientError::RedirectRefused { .. }
                | ClientError::DestinationRefused { .. }
                | ClientError::Config(_)
                | ClientError::BadPaymentChallenge(_)
                | ClientError::SchemeNotAllowed(_)
        ) || matches!(self, ClientError::Refused(r) if *r != StopReason::StillRequiredAfterPayment
            && *r != StopReason::PreimageMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Limit;

    #[test]
    fn categories() {
        let budget = ClientError::Budget(BudgetError::Exceeded {
            limit: Limit::Daily,
            would_spend: Msat(1),
            limit_value: Msat(0),
            already_spent: Msat(0),
        });
        assert_eq!(budget.category(), ErrorCategory::OverBudget);
        let over = ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax {
            amount: Msat(2),
            max: Msat(1),
        }));
        assert_eq!(over.category(), ErrorCategory::OverBudget);
        assert_eq!(
            ClientError::Refused(StopReason::StillRequiredAfterPayment).category(),
            ErrorCategory::PaymentFailed
        );
        assert_eq!(
            ClientError::PaymentFailed(BackendError::NoRoute).category(),
            ErrorCategory::PaymentFailed
        );
        assert_eq!(
            ClientError::InvalidRequest("x".into()).category(),
            ErrorCategory::BadInput
        );
        assert_eq!(
            ClientError::Internal("x".into()).category(),
            ErrorCategory::Local
        );
    }
}
