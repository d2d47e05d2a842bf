//! CLN's JSON-RPC errors, as CLNRest relays them, mapped to [`BackendError`].
//!
//! Codes from CLN's `common/jsonrpc_errors.h` and the `errors` sections of
//! `doc/schemas/lightning-pay.json` and `doc/schemas/xpay.json` (xpay answers `pay` when
//! `xpay-handle-pay` is on, the default since v26.06); CLNRest's own statuses from
//! `plugins/rest-plugin` (401/403 when the rune is missing, invalid or does not allow the call,
//! with codes 1501-1503 from `checkrune`; 404 for an unknown method).

use super::transport::{Failure, RpcError};
use crate::error::BackendError;

/// The JSON-RPC "method not found" code.
pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
/// The JSON-RPC "invalid params" code (a `pay` of something that is not an invoice).
const INVALID_PARAMS: i64 = -32602;
/// `waitanyinvoice` reached its `timeout` (INVOICE_WAIT_TIMED_OUT).
pub(crate) const INVOICE_WAIT_TIMED_OUT: i64 = 904;

/// Maps a failure of any call but `pay`.
pub(crate) fn map(method: &str, failure: Failure, base: &str) -> BackendError {
    match failure {
        Failure::Backend(e) => e,
        Failure::Rpc(e) => map_common(method, &e, base).unwrap_or_else(|| other(method, &e)),
    }
}

/// Maps a failure of `pay` (or xpay answering as `pay`).
pub(crate) fn map_pay(failure: Failure, base: &str) -> BackendError {
    let e = match failure {
        Failure::Backend(e) => return e,
        Failure::Rpc(e) => e,
    };
    if let Some(mapped) = map_common("pay", &e, base) {
        return mapped;
    }
    let msg = e.message.to_ascii_lowercase();
    let by_message = || {
        if msg.contains("excessive cost") || msg.contains("fee exceed") {
            Some(BackendError::FeeTooHigh)
        } else if msg.contains("afford")
            || msg.contains("insufficient")
            || msg.contains("not enough funds")
        {
            Some(BackendError::InsufficientBalance)
        } else {
            None
        }
    };
    match e.code {
        // PAY_RHASH_ALREADY_USED (pay) and "Invoice has already been paid" (xpay).
        Some(201 | 219) => BackendError::AlreadyPaid,
        // PAY_IN_PROGRESS: a payment for this hash is in flight; its outcome is unknown.
        Some(200) => BackendError::Timeout,
        // PAY_ROUTE_TOO_EXPENSIVE.
        Some(206) => BackendError::FeeTooHigh,
        // PAY_INVOICE_EXPIRED.
        Some(207) => BackendError::InvoiceExpired,
        // PAY_ROUTE_NOT_FOUND, PAY_TRY_OTHER_ROUTE, PAY_STOPPED_RETRYING (retry_for ran out with
        // no attempt left in flight): failed for good, paying again is safe.
        Some(204 | 205 | 210) => by_message().unwrap_or(BackendError::NoRoute),
        Some(INVALID_PARAMS) => BackendError::InvalidInvoice(e.message.clone()),
        // PAY_DESTINATION_PERM_FAIL (e.g. the payee does not know the invoice), catch-alls.
        _ => by_message().unwrap_or_else(|| other("pay", &e)),
    }
}

/// Errors every method shares: the rune, a missing method, CLNRest without lightningd.
fn map_common(method: &str, e: &RpcError, base: &str) -> Option<BackendError> {
    if e.http == 401 || e.http == 403 || e.code.is_some_and(|c| (1500..1600).contains(&c)) {
        return Some(BackendError::Unauthorized);
    }
    if e.http == 404 || e.code == Some(METHOD_NOT_FOUND) {
        return Some(BackendError::Other(format!(
            "CLN has no `{method}` method ({}); is the plugin that provides it enabled?",
            e.message
        )));
    }
    if e.code.is_none() && e.http >= 500 {
        // CLNRest answered, but could not talk to lightningd over its RPC socket.
        return Some(BackendError::Unreachable {
            backend: super::BACKEND_NAME.into(),
            address: base.to_owned(),
            detail: format!("CLNRest cannot reach lightningd: {}", e.message),
            source: None,
        });
    }
    None
}

fn other(method: &str, e: &RpcError) -> BackendError {
    match e.code {
        Some(code) => BackendError::Other(format!("CLN `{method}` failed ({code}): {}", e.message)),
        None => BackendError::Other(format!("CLN `{method}` failed: {}", e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpc(http: u16, code: Option<i64>, message: &str) -> Failure {
        Failure::Rpc(RpcError {
            http,
            code,
            message: message.into(),
        })
    }

    const BASE: &str = "https://127.0.0.1:3010";

    #[test]
    fn pay_codes() {
        let cases = [
            (
                201,
                "Already paid with this hash",
                BackendError::AlreadyPaid,
            ),
            (
                219,
                "Already paid this invoice successfully",
                BackendError::AlreadyPaid,
            ),
            (200, "In progress", BackendError::Timeout),
            (205, "Ran out of routes to try", BackendError::NoRoute),
            (204, "WIRE_TEMPORARY_CHANNEL_FAILURE", BackendError::NoRoute),
            (210, "Payment timed out", BackendError::NoRoute),
            (206, "Route too expensive", BackendError::FeeTooHigh),
            (
                205,
                "Could not find route without excessive cost",
                BackendError::FeeTooHigh,
            ),
            (
                209,
                "Failed: We couldn't quite afford it",
                BackendError::InsufficientBalance,
            ),
            (207, "Invoice expired", BackendError::InvoiceExpired),
            (
                -32602,
                "Invalid bolt11: Bad bech32 string",
                BackendError::InvalidInvoice("Invalid bolt11: Bad bech32 string".into()),
            ),
        ];
        for (code, msg, want) in cases {
            assert_eq!(
                map_pay(rpc(500, Some(code), msg), BASE),
                want,
                "{code} {msg}"
            );
        }
        match map_pay(
            rpc(500, Some(203), "Destination said it doesn't know invoice"),
            BASE,
        ) {
            BackendError::Other(m) => assert!(m.contains("203") && m.contains("know invoice")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn common_errors() {
        assert_eq!(
            map(
                "getinfo",
                rpc(403, Some(1501), "Not authorized: Missing rune"),
                BASE
            ),
            BackendError::Unauthorized
        );
        assert_eq!(
            map("getinfo", rpc(401, Some(1502), "Rune is not valid"), BASE),
            BackendError::Unauthorized
        );
        assert_eq!(
            map(
                "pay",
                rpc(
                    500,
                    Some(1502),
                    "Not permitted: method is not equal to getinfo"
                ),
                BASE
            ),
            BackendError::Unauthorized
        );
        match map(
            "listpays",
            rpc(404, Some(METHOD_NOT_FOUND), "Unknown command"),
            BASE,
        ) {
            BackendError::Other(m) => assert!(m.contains("`listpays`"), "{m}"),
            other => panic!("{other:?}"),
        }
        match map(
            "getinfo",
            rpc(500, None, "Connection refused (os error 111)"),
            BASE,
        ) {
            BackendError::Unreachable {
                address, detail, ..
            } => {
                assert_eq!(address, BASE);
                assert!(detail.contains("lightningd"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        match map("invoice", rpc(500, Some(900), "Duplicate label"), BASE) {
            BackendError::Other(m) => assert!(m.contains("900") && m.contains("Duplicate label")),
            other => panic!("{other:?}"),
        }
    }
}
