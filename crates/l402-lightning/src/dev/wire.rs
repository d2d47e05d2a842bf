//! JSON bodies of the dev wallet's HTTP API, shared by the server and the client, and the
//! mapping of [`BackendError`] to and from error codes.
//!
//! Amounts are millisatoshis, times are Unix seconds, hashes and preimages lower-case hex.

use l402_core::PaymentHash;
use serde::{Deserialize, Serialize};

use crate::error::BackendError;

/// `POST /v1/invoices` request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateInvoiceBody {
    pub amount_msat: u64,
    pub memo: String,
    pub expiry_secs: u64,
}

/// `POST /v1/invoices` response.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CreatedInvoiceBody {
    pub bolt11: String,
    pub payment_hash: String,
    pub expires_at_unix: u64,
}

/// `GET /v1/invoices/{hash}` response.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum InvoiceStateBody {
    Open,
    Settled {
        amount_received_msat: u64,
        settled_at_unix: u64,
    },
    Expired,
    Canceled,
}

/// `POST /v1/payments` request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayBody {
    pub bolt11: String,
    /// The amount to send (`pay_amount`); absent: the invoice's own amount (`pay_invoice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_msat: Option<u64>,
    pub max_fee_msat: u64,
    pub timeout_ms: u64,
}

/// `POST /v1/payments` response. Holds the preimage: no `Debug`.
#[derive(Serialize, Deserialize)]
pub(crate) struct PaymentBody {
    pub preimage: String,
    pub fee_msat: u64,
    pub amount_msat: u64,
    pub payment_hash: String,
}

/// `GET /v1/payments/{hash}` response. May hold the preimage: no `Debug`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum PaymentStateBody {
    Succeeded { preimage: String, fee_msat: u64 },
    InFlight,
    Failed,
    Unknown,
}

/// `GET /v1/info` response.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct InfoBody {
    pub network: String,
    pub alias: String,
    pub pubkey: String,
}

/// Every error response: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error's machine-readable code and human-readable message.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// The HTTP status and code for a backend error.
pub(crate) fn error_code(e: &BackendError) -> (u16, &'static str) {
    match e {
        BackendError::Unreachable { .. } => (503, "unreachable"),
        BackendError::Unauthorized => (401, "unauthorized"),
        BackendError::NoRoute => (422, "no_route"),
        BackendError::InsufficientBalance => (422, "insufficient_balance"),
        BackendError::Timeout => (504, "timeout"),
        BackendError::InvoiceExpired => (410, "invoice_expired"),
        BackendError::AlreadyPaid => (409, "already_paid"),
        BackendError::InvalidInvoice(_) => (400, "invalid_invoice"),
        BackendError::FeeTooHigh => (422, "fee_too_high"),
        BackendError::UnknownInvoice(_) => (404, "unknown_invoice"),
        // `Other`, and any kind a newer l402-backend adds.
        _ => (500, "other"),
    }
}

/// The detail that travels with an error code (the rest is implied by the code).
pub(crate) fn error_message(e: &BackendError) -> String {
    match e {
        BackendError::Unreachable { detail, .. } => detail.clone(),
        BackendError::InvalidInvoice(m) | BackendError::Other(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Rebuilds a backend error from a server's answer. `address` is the server's URL (used for
/// `Unreachable`), `hash` the payment hash the request was about, if any.
pub(crate) fn error_from_code(
    code: &str,
    message: String,
    address: &str,
    hash: Option<PaymentHash>,
) -> BackendError {
    match code {
        "unreachable" => BackendError::Unreachable {
            backend: super::BACKEND_NAME.into(),
            address: address.into(),
            detail: message,
            source: None,
        },
        "unauthorized" => BackendError::Unauthorized,
        "no_route" => BackendError::NoRoute,
        "insufficient_balance" => BackendError::InsufficientBalance,
        "timeout" => BackendError::Timeout,
        "invoice_expired" => BackendError::InvoiceExpired,
        "already_paid" => BackendError::AlreadyPaid,
        "invalid_invoice" => BackendError::InvalidInvoice(message),
        "fee_too_high" => BackendError::FeeTooHigh,
        "unknown_invoice" => match hash {
            Some(h) => BackendError::UnknownInvoice(h),
            None => BackendError::Other(message),
        },
        _ => BackendError::Other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_survives_the_wire() {
        let hash = PaymentHash([3; 32]);
        let addr = "http://127.0.0.1:9";
        let all = [
            BackendError::Unreachable {
                backend: super::super::BACKEND_NAME.into(),
                address: addr.into(),
                detail: "down".into(),
                source: None,
            },
            BackendError::Unauthorized,
            BackendError::NoRoute,
            BackendError::InsufficientBalance,
            BackendError::Timeout,
            BackendError::InvoiceExpired,
            BackendError::AlreadyPaid,
            BackendError::InvalidInvoice("bad".into()),
            BackendError::FeeTooHigh,
            BackendError::UnknownInvoice(hash),
            BackendError::Other("boom".into()),
        ];
        for e in all {
            let (_, code) = error_code(&e);
            assert_eq!(
                error_from_code(code, error_message(&e), addr, Some(hash)),
                e
            );
        }
    }
}
