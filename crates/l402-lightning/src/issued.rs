//! What a backend reports for an invoice it issued and parsed back from the node's answer.

use l402_backend::CreatedInvoice;
use l402_core::invoice::ParsedInvoice;

/// The [`CreatedInvoice`] for an issued invoice: its BOLT11 string, hash and expiry, as parsed.
pub(crate) fn created(parsed: ParsedInvoice) -> CreatedInvoice {
    CreatedInvoice {
        expires_at_unix: parsed.expires_at_unix(),
        payment_hash: parsed.payment_hash,
        bolt11: parsed.bolt11,
    }
}
