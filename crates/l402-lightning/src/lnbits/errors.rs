//! LNbits' HTTP answers and transport failures as [`BackendError`]s.
//!
//! LNbits reports payment and invoice failures as HTTP 520 with a `detail` sentence (e.g.
//! `Insufficient balance.`); the sentences below are the ones lnbits 1.6.2 uses
//! (`lnbits/core/services/payments.py`, `lnbits/wallets/*.py`).

use l402_core::PaymentHash;

use super::BACKEND_NAME;
use crate::error::BackendError;

/// Which call an answer belongs to (the same status means different things per call).
#[derive(Debug, Clone, Copy)]
pub(super) enum Call {
    /// `GET /api/v1/wallet`.
    Wallet,
    /// `POST /api/v1/payments` with `out: false`.
    CreateInvoice,
    /// `GET /api/v1/payments/{hash}` for an invoice of this wallet.
    InvoiceState(PaymentHash),
    /// `GET /api/v1/payments/fee-reserve`.
    FeeReserve,
    /// `POST /api/v1/payments` with `out: true`.
    Pay,
    /// `GET /api/v1/payments/{hash}` for a payment of this wallet.
    PaymentState(PaymentHash),
}

/// The error for an HTTP error `status` with `detail` (see [`super::wire::error_detail`]).
pub(super) fn from_status(status: u16, detail: &str, call: Call, base_url: &str) -> BackendError {
    let d = detail.to_ascii_lowercase();
    match status {
        401 => return BackendError::Unauthorized,
        // LNbits answers 403 `Invoice (or Admin) key required.` when an invoice key tries to
        // pay, and 403 for keys of disabled users.
        403 => return BackendError::Unauthorized,
        // An unknown key reads as `404 Wallet not found.`
        404 if d.contains("wallet not found") || d.contains("wallet does not exist") => {
            return BackendError::Unauthorized;
        }
        404 => {
            return match call {
                // `Payment does not exist.`; any other 404 is more likely a wrong URL.
                Call::InvoiceState(hash) | Call::PaymentState(hash) if d.contains("not exist") => {
                    BackendError::UnknownInvoice(hash)
                }
                _ => BackendError::Other(format!(
                    "LNbits at {base_url} answered 404 ({detail}): is the URL the root of the \
                     LNbits instance (scheme, host and port only)?"
                )),
            };
        }
        408 | 504 => return BackendError::Timeout,
        502 | 503 => {
            return BackendError::Unreachable {
                backend: BACKEND_NAME.into(),
                address: base_url.into(),
                detail: format!(
                    "HTTP {status} (LNbits or a proxy in front of it is down) {detail}"
                )
                .trim_end()
                .to_owned(),
                source: None,
            };
        }
        _ => {}
    }
    if let Some(e) = from_detail(&d, detail) {
        return e;
    }
    if detail.is_empty() {
        BackendError::Other(format!("LNbits answered HTTP {status}"))
    } else {
        BackendError::Other(format!("LNbits answered HTTP {status}: {detail}"))
    }
}

/// The typed error an LNbits failure sentence stands for, if any. `lower` is `detail` in lower
/// case.
fn from_detail(lower: &str, detail: &str) -> Option<BackendError> {
    let has = |needle: &str| lower.contains(needle);
    Some(if has("already paid") {
        BackendError::AlreadyPaid
    } else if has("insufficient balance") || has("must reserve at least") {
        BackendError::InsufficientBalance
    } else if has("expired") {
        BackendError::InvoiceExpired
    } else if has("bolt11 decoding failed")
        || has("amountless invoice")
        || has("invalid bolt11")
        || has("invalid invoice")
        || has("bolt11 changed")
    {
        BackendError::InvalidInvoice(detail.to_owned())
    } else if has("only internal invoices")
        || has("no route")
        || has("unable to find a path")
        || has("unable to route")
    {
        BackendError::NoRoute
    } else if has("fee") && (has("exceed") || has("too high") || has("insufficient")) {
        BackendError::FeeTooHigh
    } else {
        return None;
    })
}

/// The error for a request that got no HTTP answer.
pub(super) fn from_transport(e: reqwest::Error, base_url: &str) -> BackendError {
    if e.is_timeout() {
        return BackendError::Timeout;
    }
    // The innermost cause says what happened ("Connection refused (os error 111)").
    let mut cause: &dyn std::error::Error = &e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let cause_text = cause.to_string();
    if e.is_connect() {
        let hint = l402_tls::explain(&e).unwrap_or_else(|| {
            format!(
                "{cause_text}; is LNbits running there, and are the scheme, host and port of \
                 the URL right?"
            )
        });
        return BackendError::unreachable(BACKEND_NAME, base_url, hint, e);
    }
    BackendError::Other(format!(
        "request to LNbits at {base_url} failed: {cause_text}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:5000";

    fn map(status: u16, detail: &str, call: Call) -> BackendError {
        from_status(status, detail, call, URL)
    }

    #[test]
    fn lnbits_sentences_map_to_typed_errors() {
        let hash = PaymentHash([7; 32]);
        let cases = [
            (
                520,
                "Internal invoice already paid.",
                BackendError::AlreadyPaid,
            ),
            (520, "Payment already paid.", BackendError::AlreadyPaid),
            (
                520,
                "Insufficient balance.",
                BackendError::InsufficientBalance,
            ),
            (
                520,
                "You must reserve at least (2  sat) to cover potential routing fees.",
                BackendError::InsufficientBalance,
            ),
            (
                520,
                "Payment failed: Only internal invoices can be used!",
                BackendError::NoRoute,
            ),
            (
                520,
                "Payment failed: invoice expired",
                BackendError::InvoiceExpired,
            ),
            (401, "No Api Key provided.", BackendError::Unauthorized),
            (
                403,
                "Invoice (or Admin) key required.",
                BackendError::Unauthorized,
            ),
            (404, "Wallet not found.", BackendError::Unauthorized),
            (504, "", BackendError::Timeout),
        ];
        for (status, detail, want) in cases {
            assert_eq!(map(status, detail, Call::Pay), want, "{status} {detail}");
        }
        assert_eq!(
            map(520, "Bolt11 decoding failed.", Call::Pay),
            BackendError::InvalidInvoice("Bolt11 decoding failed.".into())
        );
        assert_eq!(
            map(404, "Payment does not exist.", Call::InvoiceState(hash)),
            BackendError::UnknownInvoice(hash)
        );
        assert!(matches!(
            map(503, "", Call::Wallet),
            BackendError::Unreachable { ref address, .. } if address == URL
        ));
        let other = map(520, "Something odd.", Call::CreateInvoice).to_string();
        assert!(
            other.contains("520") && other.contains("Something odd."),
            "{other}"
        );
        assert_eq!(
            map(404, "Payment does not exist.", Call::PaymentState(hash)),
            BackendError::UnknownInvoice(hash)
        );
        for call in [Call::Wallet, Call::InvoiceState(hash)] {
            let wrong_path = map(404, "Not Found", call).to_string();
            assert!(
                wrong_path.contains("root of the LNbits instance"),
                "{wrong_path}"
            );
        }
    }
}
