//! The one error type every Lightning backend returns.

use std::fmt;
use std::sync::Arc;

use l402_core::PaymentHash;

/// The underlying error of a [`BackendError`], kept for its source chain (the IO, TLS or HTTP
/// error behind an unreachable node). Cheap to clone; two are equal when their messages are.
#[derive(Clone)]
pub struct ErrorSource(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl ErrorSource {
    /// Keeps `error`.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// Keeps an already boxed `error`.
    pub fn from_boxed(error: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        Self(Arc::from(error))
    }
}

impl fmt::Debug for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for ErrorSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl PartialEq for ErrorSource {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for ErrorSource {}

/// Why a Lightning backend call failed.
///
/// Messages never contain secrets (preimages, keys, access tokens): only addresses, hashes and
/// amounts, which are public.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The backend could not be reached (connection refused, node down). Transient.
    #[error("{backend} is unreachable at {address}: {detail}")]
    Unreachable {
        /// Which backend, e.g. `dev-wallet`, `lnd`.
        backend: String,
        /// Where we tried to reach it (URL, socket path or data directory).
        address: String,
        /// What happened, with a hint for the operator when one helps.
        detail: String,
        /// The error behind it (connection refused, a TLS failure, ...), when there is one.
        #[source]
        source: Option<ErrorSource>,
    },
    /// The backend rejected our credentials.
    #[error("the Lightning backend rejected our credentials")]
    Unauthorized,
    /// No route to the payee was found (or the payee is unknown to this backend).
    #[error("no route to the payee")]
    NoRoute,
    /// The wallet cannot afford the payment.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// The call did not finish in time. Transient; for payments the outcome is unknown, so ask
    /// [`LightningBackend::payment_state`](crate::LightningBackend::payment_state).
    #[error("the Lightning backend timed out")]
    Timeout,
    /// The invoice has expired.
    #[error("the invoice has expired")]
    InvoiceExpired,
    /// The invoice has already been paid.
    #[error("the invoice has already been paid")]
    AlreadyPaid,
    /// The invoice is malformed, for another network, amountless where an amount is needed, or
    /// otherwise unusable.
    #[error("invalid invoice: {0}")]
    InvalidInvoice(String),
    /// Every route costs more than the fee limit.
    #[error("the routing fee would exceed the limit")]
    FeeTooHigh,
    /// The backend knows no invoice with this payment hash.
    #[error("unknown invoice {0}")]
    UnknownInvoice(PaymentHash),
    /// The backend cannot do this operation at all (its API has no way to), whatever the
    /// arguments. Permanent: the operator must configure a backend that can (the message says
    /// which backend and what it cannot do).
    #[error(
        "the {backend} Lightning backend cannot {operation}; configure a backend that supports it"
    )]
    Unsupported {
        /// Which backend, e.g. `lnbits`.
        backend: String,
        /// What it cannot do, as a phrase completing "cannot ...", e.g. "pay an amountless
        /// invoice with an explicit amount".
        operation: &'static str,
    },
    /// Anything else the backend reported.
    #[error("Lightning backend error: {0}")]
    Other(String),
}

impl BackendError {
    /// [`BackendError::Unreachable`] keeping `source` in the chain: `detail` is the hint for the
    /// operator, `source` what failed.
    pub fn unreachable(
        backend: impl Into<String>,
        address: impl Into<String>,
        detail: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        BackendError::Unreachable {
            backend: backend.into(),
            address: address.into(),
            detail: detail.into(),
            source: Some(ErrorSource::new(source)),
        }
    }

    /// True when retrying later may succeed (the backend is down or slow). A proxy answers such
    /// errors with `503 Service Unavailable` and `Retry-After`.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BackendError::Unreachable { .. } | BackendError::Timeout
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_keeps_its_source_in_the_chain() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = BackendError::unreachable("lnd", "https://n:8080", "is LND running?", io);
        let source = e.source().expect("a source");
        assert_eq!(source.to_string(), "refused");
        let inner = source.source().expect("the io error itself");
        assert!(inner.downcast_ref::<std::io::Error>().is_some());
        assert_eq!(e.clone(), e);
    }

    #[test]
    fn only_unreachable_and_timeout_are_transient() {
        let transient = [
            BackendError::Unreachable {
                backend: "dev-wallet".into(),
                address: "http://127.0.0.1:1".into(),
                detail: "connection refused".into(),
                source: None,
            },
            BackendError::Timeout,
        ];
        let permanent = [
            BackendError::Unauthorized,
            BackendError::NoRoute,
            BackendError::InsufficientBalance,
            BackendError::InvoiceExpired,
            BackendError::AlreadyPaid,
            BackendError::InvalidInvoice("x".into()),
            BackendError::FeeTooHigh,
            BackendError::UnknownInvoice(PaymentHash([0; 32])),
            BackendError::Unsupported {
                backend: "lnbits".into(),
                operation: "pay an amountless invoice with an explicit amount",
            },
            BackendError::Other("x".into()),
        ];
        assert!(transient.iter().all(BackendError::is_transient));
        assert!(!permanent.iter().any(BackendError::is_transient));
    }

    #[test]
    fn unsupported_message_names_backend_and_operation() {
        let e = BackendError::Unsupported {
            backend: "lnbits".into(),
            operation: "pay an amountless invoice with an explicit amount",
        };
        assert_eq!(
            e.to_string(),
            "the lnbits Lightning backend cannot pay an amountless invoice with an explicit \
             amount; configure a backend that supports it"
        );
    }

    #[test]
    fn unreachable_message_names_backend_and_address() {
        let e = BackendError::Unreachable {
            backend: "lnd".into(),
            address: "https://127.0.0.1:8080".into(),
            detail: "connection refused".into(),
            source: None,
        };
        assert_eq!(
            e.to_string(),
            "lnd is unreachable at https://127.0.0.1:8080: connection refused"
        );
    }
}
