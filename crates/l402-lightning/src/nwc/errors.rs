//! NIP-47 error codes (and the free-text messages wallets put next to them) mapped onto
//! [`BackendError`].

use l402_core::PaymentHash;
use nostr::nips::nip47::{ErrorCode, NIP47Error};

use super::BACKEND_NAME;
use crate::error::BackendError;

/// Longest wallet message quoted in an error.
const MAX_MESSAGE: usize = 200;

/// Which call a NIP-47 error answers: the same code means different things per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Call {
    /// `get_info`.
    GetInfo,
    /// `get_balance`.
    GetBalance,
    /// `make_invoice`.
    MakeInvoice,
    /// `lookup_invoice` of this hash (for either side).
    Lookup(PaymentHash),
    /// `pay_invoice`.
    Pay,
}

impl Call {
    fn method(self) -> &'static str {
        match self {
            Call::GetInfo => "get_info",
            Call::GetBalance => "get_balance",
            Call::MakeInvoice => "make_invoice",
            Call::Lookup(_) => "lookup_invoice",
            Call::Pay => "pay_invoice",
        }
    }
}

/// The wallet's message, cut to a sane length (it is quoted in errors and logs).
pub(super) fn quote(message: &str) -> String {
    let trimmed = message.trim();
    match trimmed.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// What a wallet's free-text message says, when it says something the trait has a variant for.
/// Wallets disagree on codes (an already-paid invoice is `PAYMENT_FAILED` in one, `OTHER` or
/// `INTERNAL` in another), so the message decides where it is clear.
fn from_message(message: &str) -> Option<BackendError> {
    let m = message.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if any(&[
        "already paid",
        "already been paid",
        "already settled",
        "is paid",
    ]) {
        Some(BackendError::AlreadyPaid)
    } else if any(&["expired"]) {
        Some(BackendError::InvoiceExpired)
    } else if any(&[
        "insufficient balance",
        "insufficient funds",
        "not enough balance",
    ]) {
        Some(BackendError::InsufficientBalance)
    } else if m.contains("fee") && any(&["exceed", "too high", "limit"]) {
        Some(BackendError::FeeTooHigh)
    } else if any(&[
        "no route",
        "unable to find a path",
        "route not found",
        "no_route",
    ]) {
        Some(BackendError::NoRoute)
    } else if any(&["invalid invoice", "failed to decode", "malformed invoice"]) {
        Some(BackendError::InvalidInvoice(quote(message)))
    } else {
        None
    }
}

/// The [`BackendError`] for a NIP-47 error answering `call`. `relay` names the relay in the
/// transient case (rate limiting).
pub(super) fn from_nip47(err: &NIP47Error, call: Call, relay: &str) -> BackendError {
    let method = call.method();
    let message = quote(&err.message);
    match err.code {
        ErrorCode::Unauthorized | ErrorCode::Restricted => {
            tracing::warn!(
                method,
                code = ?err.code,
                message = %message,
                "the NWC wallet service refused this connection; check that the connection \
                 (its secret) still exists in the wallet and has the permission for {method}"
            );
            BackendError::Unauthorized
        }
        // Transient: retrying later may succeed, which is what `Unreachable` tells callers
        // (a proxy answers 503 with Retry-After).
        ErrorCode::RateLimited => BackendError::Unreachable {
            backend: BACKEND_NAME.into(),
            address: relay.to_owned(),
            detail: format!(
                "the wallet service is rate limiting this connection (RATE_LIMITED: {message}); \
                 retry later"
            ),
            source: None,
        },
        ErrorCode::InsufficientBalance => BackendError::InsufficientBalance,
        // The connection's spending budget (set in the wallet) is used up: for the caller this
        // is a balance it cannot spend.
        ErrorCode::QuotaExceeded => {
            tracing::warn!(
                message = %message,
                "the NWC connection's spending budget is exhausted (QUOTA_EXCEEDED); raise it in \
                 the wallet"
            );
            BackendError::InsufficientBalance
        }
        ErrorCode::NotFound => match call {
            Call::Lookup(hash) => BackendError::UnknownInvoice(hash),
            Call::Pay => from_message(&message).unwrap_or(BackendError::NoRoute),
            Call::GetInfo | Call::GetBalance | Call::MakeInvoice => BackendError::Other(format!(
                "the NWC wallet service answered {method} with NOT_FOUND: {message}"
            )),
        },
        ErrorCode::PaymentFailed => from_message(&message).unwrap_or(BackendError::NoRoute),
        ErrorCode::NotImplemented => BackendError::Other(format!(
            "the NWC wallet service does not implement {method} (NOT_IMPLEMENTED: {message})"
        )),
        ErrorCode::Internal | ErrorCode::Other => from_message(&message).unwrap_or_else(|| {
            BackendError::Other(format!(
                "the NWC wallet service failed {method} ({:?}): {message}",
                err.code
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: ErrorCode, message: &str) -> NIP47Error {
        NIP47Error {
            code,
            message: message.into(),
        }
    }

    #[test]
    fn codes_map_to_typed_errors() {
        let hash = PaymentHash([7; 32]);
        let relay = "ws://127.0.0.1:1";
        let cases = [
            (
                err(ErrorCode::InsufficientBalance, "x"),
                Call::Pay,
                BackendError::InsufficientBalance,
            ),
            (
                err(ErrorCode::QuotaExceeded, "budget"),
                Call::Pay,
                BackendError::InsufficientBalance,
            ),
            (
                err(ErrorCode::Unauthorized, "no wallet"),
                Call::GetInfo,
                BackendError::Unauthorized,
            ),
            (
                err(ErrorCode::Restricted, "no pay permission"),
                Call::Pay,
                BackendError::Unauthorized,
            ),
            (
                err(ErrorCode::NotFound, "no such invoice"),
                Call::Lookup(hash),
                BackendError::UnknownInvoice(hash),
            ),
            (
                err(ErrorCode::PaymentFailed, "something broke"),
                Call::Pay,
                BackendError::NoRoute,
            ),
            (
                err(ErrorCode::PaymentFailed, "invoice is already paid"),
                Call::Pay,
                BackendError::AlreadyPaid,
            ),
            (
                err(ErrorCode::Other, "The invoice has expired"),
                Call::Pay,
                BackendError::InvoiceExpired,
            ),
            (
                err(ErrorCode::Internal, "fee exceeds the limit"),
                Call::Pay,
                BackendError::FeeTooHigh,
            ),
        ];
        for (e, call, want) in cases {
            assert_eq!(from_nip47(&e, call, relay), want, "{e:?}");
        }
        let limited = from_nip47(&err(ErrorCode::RateLimited, "slow"), Call::Pay, relay);
        assert!(limited.is_transient(), "{limited:?}");
        assert!(limited.to_string().contains("RATE_LIMITED"), "{limited}");
        let other = from_nip47(
            &err(ErrorCode::Internal, "db down"),
            Call::MakeInvoice,
            relay,
        );
        assert_eq!(
            other.to_string(),
            "Lightning backend error: the NWC wallet service failed make_invoice (Internal): \
             db down"
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(1000);
        assert_eq!(quote(&long).chars().count(), MAX_MESSAGE + 1);
        assert_eq!(quote(" short "), "short");
    }
}
