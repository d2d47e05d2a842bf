//! Settlements from `waitanyinvoice`: long polls that each return the next paid invoice after a
//! `pay_index`, resumed from the last one seen after any error.

use std::sync::Arc;
use std::time::Duration;

use l402_core::{Msat, PaymentHash};
use serde_json::json;
use tokio::sync::broadcast;

use super::errors::{INVOICE_WAIT_TIMED_OUT, map};
use super::transport::{Failure, Transport};
use super::wire::Invoice;
use crate::backend::Settlement;
use crate::error::BackendError;

/// How long one `waitanyinvoice` waits before CLN answers "timed out" and we ask again.
const WAIT_SECS: u64 = 60;
/// Extra time the HTTP call gets beyond [`WAIT_SECS`].
const WAIT_GRACE: Duration = Duration::from_secs(15);
/// First and longest pause before retrying after an error.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

fn wait_params(lastpay_index: u64, timeout: u64) -> serde_json::Value {
    if lastpay_index == 0 {
        json!({ "timeout": timeout })
    } else {
        json!({ "lastpay_index": lastpay_index, "timeout": timeout })
    }
}

/// Whether some invoice has a `pay_index` above `last` (`waitanyinvoice` with `timeout` 0
/// answers at once: the next paid invoice, or error 904).
async fn paid_after(t: &Transport, last: u64) -> Result<bool, BackendError> {
    match t
        .call::<Invoice>("waitanyinvoice", &wait_params(last, 0), t.request_timeout())
        .await
    {
        Ok(_) => Ok(true),
        Err(Failure::Rpc(e)) if e.code == Some(INVOICE_WAIT_TIMED_OUT) => Ok(false),
        Err(f) => Err(map("waitanyinvoice", f, t.base())),
    }
}

/// The highest `pay_index` so far (0 when nothing was ever paid), found with O(log n)
/// zero-timeout `waitanyinvoice` calls rather than listing every invoice.
pub(crate) async fn newest_pay_index(t: &Transport) -> Result<u64, BackendError> {
    if !paid_after(t, 0).await? {
        return Ok(0);
    }
    // paid_after(lo) holds and paid_after(hi) does not: the answer is in (lo, hi].
    let (mut lo, mut hi) = (0u64, 1u64);
    while paid_after(t, hi).await? {
        lo = hi;
        hi = hi
            .checked_mul(2)
            .ok_or_else(|| BackendError::Other("CLN reports an impossible pay_index".into()))?;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if paid_after(t, mid).await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// Delivers every invoice paid after `last` until nobody listens any more.
pub(crate) async fn run(t: Arc<Transport>, tx: broadcast::Sender<Settlement>, mut last: u64) {
    let mut backoff = MIN_BACKOFF;
    loop {
        if tx.receiver_count() == 0 {
            return;
        }
        let answer = t
            .call::<Invoice>(
                "waitanyinvoice",
                &wait_params(last, WAIT_SECS),
                Duration::from_secs(WAIT_SECS) + WAIT_GRACE,
            )
            .await;
        match answer {
            Ok(invoice) => {
                let Some(index) = invoice.pay_index else {
                    tracing::warn!(
                        backend = super::BACKEND_NAME,
                        "waitanyinvoice answered an invoice without pay_index; retrying"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                };
                backoff = MIN_BACKOFF;
                last = last.max(index);
                if invoice.status != "paid" {
                    continue;
                }
                let Ok(payment_hash) = PaymentHash::from_hex(&invoice.payment_hash) else {
                    tracing::warn!(
                        backend = super::BACKEND_NAME,
                        "waitanyinvoice answered a malformed payment_hash; skipped"
                    );
                    continue;
                };
                let amount = invoice
                    .amount_received_msat
                    .or(invoice.amount_msat)
                    .map_or(0, |m| m.0);
                let _ = tx.send(Settlement {
                    payment_hash,
                    amount_received: Msat(amount),
                    settled_at_unix: invoice.paid_at.unwrap_or_else(super::backend::now_unix),
                });
            }
            Err(Failure::Rpc(e)) if e.code == Some(INVOICE_WAIT_TIMED_OUT) => {
                backoff = MIN_BACKOFF;
            }
            Err(f) => {
                let e = map("waitanyinvoice", f, t.base());
                tracing::warn!(
                    backend = super::BACKEND_NAME,
                    error = %e,
                    retry_in_ms = backoff.as_millis() as u64,
                    "settlement stream interrupted; resuming from pay_index {last}"
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
