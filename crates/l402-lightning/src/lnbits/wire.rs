//! The JSON LNbits speaks, reduced to the fields this backend reads. Every field but the payment
//! hash is optional so older and newer LNbits versions parse alike.
//!
//! None of these types implements `Debug`: payment records carry preimages.

use serde::{Deserialize, Serialize};

/// `POST /api/v1/payments` creating an invoice.
#[derive(Serialize)]
pub(super) struct CreateInvoiceBody<'a> {
    /// Always `false` (incoming).
    pub out: bool,
    /// Whole satoshis.
    pub amount: u64,
    /// Always `sat`: without it LNbits may read the amount in the wallet's fiat currency.
    pub unit: &'static str,
    pub memo: &'a str,
    /// Seconds.
    pub expiry: u64,
}

/// `POST /api/v1/payments` paying an invoice.
#[derive(Serialize)]
pub(super) struct PayBody<'a> {
    /// Always `true` (outgoing).
    pub out: bool,
    pub bolt11: &'a str,
}

/// The answer to creating an invoice. LNbits ≥ 1.0 returns its whole `Payment` record (with
/// `bolt11` and `payment_request`); older versions returned `payment_request` only.
#[derive(Deserialize)]
pub(super) struct CreatedBody {
    pub payment_hash: String,
    #[serde(default)]
    pub bolt11: Option<String>,
    #[serde(default)]
    pub payment_request: Option<String>,
}

impl CreatedBody {
    /// The BOLT11 string under either name.
    pub fn invoice(&self) -> Option<&str> {
        self.bolt11
            .as_deref()
            .or(self.payment_request.as_deref())
            .filter(|s| !s.is_empty())
    }
}

/// LNbits' `Payment` record: an incoming invoice (`amount > 0`) or an outgoing payment
/// (`amount < 0`) of one wallet.
#[derive(Deserialize)]
pub(super) struct PaymentRecord {
    #[serde(default)]
    pub payment_hash: Option<String>,
    /// Millisatoshis, negative for outgoing payments.
    #[serde(default)]
    pub amount: Option<i64>,
    /// Millisatoshis; its sign varies between versions and payment kinds.
    #[serde(default)]
    pub fee: Option<i64>,
    /// `pending`, `success` or `failed`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub preimage: Option<String>,
    #[serde(default)]
    pub bolt11: Option<String>,
    /// When the record last changed (for a settled invoice: when it settled).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// LNbits adds `expired` when it marks an unpaid invoice failed at its expiry.
    #[serde(default)]
    pub labels: Vec<String>,
}

impl PaymentRecord {
    /// The status, lower-case, or `""`.
    pub fn status(&self) -> String {
        self.status.as_deref().unwrap_or("").to_ascii_lowercase()
    }
}

/// `GET /api/v1/payments/{hash}`. `details` is present only when the key belongs to the wallet
/// the payment belongs to; without it the answer is LNbits' public view of someone else's
/// payment.
#[derive(Deserialize)]
pub(super) struct LookupBody {
    #[serde(default)]
    pub paid: bool,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub details: Option<PaymentRecord>,
}

/// `GET /api/v1/wallet`.
#[derive(Deserialize)]
pub(super) struct WalletBody {
    #[serde(default)]
    pub name: Option<String>,
    /// Sent only to the admin key.
    #[serde(default)]
    pub id: Option<String>,
    /// The wallet's balance in msat.
    #[serde(default)]
    pub balance: Option<i64>,
}

/// `GET /api/v1/payments/fee-reserve`.
#[derive(Deserialize)]
pub(super) struct FeeReserveBody {
    /// Millisatoshis.
    pub fee_reserve: i64,
}

/// FastAPI's error body: `{"detail": "..."}` (or a list of validation errors).
#[derive(Deserialize)]
pub(super) struct ErrorBody {
    pub detail: serde_json::Value,
}

/// The error detail of a response body, at most 300 characters; `""` when there is none.
pub(super) fn error_detail(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            detail: serde_json::Value::String(s),
        }) => s,
        Ok(ErrorBody { detail }) => detail.to_string(),
        // Not FastAPI's JSON: a reverse proxy's page, say. Its start names the problem.
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(300).collect()
}
