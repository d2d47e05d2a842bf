//! Prepaid, metered billing (`billing = "metered"`): a buyer holds a balance (a `Payment`
//! Lightning session, or an L402 token whose payment became a balance), each request reserves
//! the most it may cost, and the [`MeterLayer`](crate::MeterLayer) settles what the upstream
//! reports it used.
//!
//! Balances live behind the [`SessionLedger`] trait, which the seller implements over its store
//! (SQLite, or PostgreSQL shared by several instances): one atomic reservation per request, so
//! concurrent requests never spend the same millisatoshi.

use std::sync::Arc;

use l402_core::session::{Close, Credit, Opened, RefundOutcome, Reserve};
use l402_core::{Msat, PaymentHash};

use crate::mpp::LedgerError;

/// How a metered service bills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metering {
    /// The price of one unit.
    pub unit_price: Msat,
    /// What a unit is (`token`, `request`, `result`, …), announced in challenges.
    pub unit: String,
    /// The most units one request may bill: reserved before it is forwarded, and told to the
    /// upstream in `X-L402-Max-Units`.
    pub reserve_units: u64,
    /// The deposit an open or a top-up buys, in units (an L402 token for the service costs
    /// this much too).
    pub deposit_units: u64,
    /// Seconds without use after which the seller may close a session and refund it.
    pub idle_timeout_secs: u64,
}

impl Metering {
    /// What a request reserves: `unit_price × reserve_units`.
    pub fn reservation(&self) -> Msat {
        Msat(self.unit_price.0.saturating_mul(self.reserve_units))
    }

    /// What an open or a top-up deposits: `unit_price × deposit_units`.
    pub fn deposit(&self) -> Msat {
        Msat(self.unit_price.0.saturating_mul(self.deposit_units))
    }

    /// What `units` cost, at most the reservation.
    pub fn cost(&self, units: u64) -> Msat {
        Msat(
            self.unit_price
                .0
                .saturating_mul(units.min(self.reserve_units)),
        )
    }
}

/// A session to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSession<'a> {
    /// Its id: the opening deposit's payment hash.
    pub session_id: PaymentHash,
    /// The service it pays for.
    pub service: &'a str,
    /// The deposit.
    pub deposit: Msat,
    /// Where the rest is refunded on close (`None` for an L402 token's balance).
    pub return_invoice: Option<&'a str>,
    /// Seconds without use after which the seller closes and refunds it; 0: never (an L402
    /// token's balance, which has nowhere to be refunded).
    pub idle_timeout_secs: u64,
}

/// The balances of metered sessions. Blocking (the paywall calls it on a blocking thread),
/// except [`settle`](Self::settle). Each method must be atomic on its own (of two concurrent reservations that together overdraw the
/// balance, one is refused).
pub trait SessionLedger: Send + Sync + 'static {
    /// Whether `bolt11` can take a session's refund (amountless, for the node's network):
    /// `Err` says why not, for the buyer. Called before a session opens; no IO.
    fn check_return_invoice(&self, bolt11: &str) -> Result<(), String>;
    /// Opens a session with its deposit; a repeated open credits nothing.
    fn open(&self, session: &OpenSession<'_>) -> Result<Opened, LedgerError>;
    /// Credits a paid top-up once per payment.
    fn credit(
        &self,
        session_id: &PaymentHash,
        payment_hash: &PaymentHash,
        amount: Msat,
    ) -> Result<Credit, LedgerError>;
    /// Reserves `amount` of an open session of `service`.
    fn reserve(
        &self,
        session_id: &PaymentHash,
        service: &str,
        amount: Msat,
    ) -> Result<Reserve, LedgerError>;
    /// Gives back what a reservation did not use (`used` at most `reserved`). Called inline
    /// when a response body ends, so it must not block: queue the write (a later
    /// [`close`](Self::close) of the session must still see it).
    fn settle(
        &self,
        session_id: &PaymentHash,
        reserved: Msat,
        used: Msat,
    ) -> Result<(), LedgerError>;
    /// Closes an open session; its balance becomes the refund owed.
    fn close(&self, session_id: &PaymentHash) -> Result<Close, LedgerError>;
    /// Records how the refund ended.
    fn record_refund(
        &self,
        session_id: &PaymentHash,
        outcome: RefundOutcome,
    ) -> Result<(), LedgerError>;
}

/// A request's reservation, as a request extension: the paywall puts it there, the
/// [`MeterLayer`](crate::MeterLayer) reads the upstream's usage report and settles it.
#[derive(Clone)]
pub struct BalanceReservation {
    /// The session billed.
    pub session_id: PaymentHash,
    /// What was reserved.
    pub reserved: Msat,
    /// The service's metering.
    pub metering: Arc<Metering>,
    /// Where to settle.
    pub ledger: Arc<dyn SessionLedger>,
}

impl std::fmt::Debug for BalanceReservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BalanceReservation")
            .field("session_id", &self.session_id.to_hex())
            .field("reserved", &self.reserved)
            .finish_non_exhaustive()
    }
}

impl BalanceReservation {
    /// Settles the reservation for `units` used (`None`: the upstream reported nothing, or the
    /// response did not finish: billed in full). Calls [`SessionLedger::settle`] inline.
    pub fn settle(&self, units: Option<u64>) {
        let used = units.map_or(self.reserved, |u| self.metering.cost(u));
        if used >= self.reserved {
            return;
        }
        if let Err(error) = self.ledger.settle(&self.session_id, self.reserved, used) {
            tracing::warn!(session = %self.session_id.to_hex(), %error, "cannot settle a metered request: billed its reservation");
        }
    }
}

/// The `L402-Session` response header of a metered request: the balance left after its
/// reservation and what it reserved, e.g. `balance_msat=18000, reserved_msat=2000`.
pub const SESSION_STATUS_HEADER: &str = "l402-session";

/// The request header telling the upstream the most units it may bill for this request.
pub const MAX_UNITS_HEADER: &str = "x-l402-max-units";

/// The response header (or trailer) in which the upstream reports the units used.
pub const USAGE_HEADER: &str = "l402-usage";

/// The server-sent event in which a streaming upstream reports the units used, as its last
/// event: `event: l402-usage` with `data: {"units": N}`.
pub const USAGE_EVENT: &str = "l402-usage";

/// How a close ended: the refund owed at closing and what became of its payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed {
    /// The balance at closing.
    pub refund: Msat,
    /// Whether it was paid back.
    pub outcome: RefundOutcome,
}

/// How long a refund payment may take.
const REFUND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Closes an open session and pays its balance back to its return invoice through `backend`
/// (the seller pays the routing fee, up to 1 % or 1 sat, whichever is more: the buyer gets the
/// balance to the millisatoshi), then records the outcome. `Ok(None)` when the session is not
/// open (already closed, or unknown). A failed refund stays owed in the ledger.
pub async fn close_session(
    backend: &dyn l402_backend::LightningBackend,
    ledger: &Arc<dyn SessionLedger>,
    session_id: PaymentHash,
) -> Result<Result<Closed, Close>, LedgerError> {
    let closing = {
        let ledger = ledger.clone();
        tokio::task::spawn_blocking(move || ledger.close(&session_id))
            .await
            .map_err(|e| LedgerError(Box::new(e)))??
    };
    let (refund, return_invoice) = match closing {
        Close::Closed {
            refund,
            return_invoice,
        } => (refund, return_invoice),
        other => return Ok(Err(other)),
    };
    let outcome = match (refund, return_invoice) {
        (Msat(0), _) | (_, None) => RefundOutcome::Skipped,
        (amount, Some(invoice)) => {
            let options = l402_backend::PayOptions {
                max_fee: Msat((amount.0 / 100).max(1_000)),
                timeout: REFUND_TIMEOUT,
            };
            match backend.pay_amount(&invoice, amount, options).await {
                Ok(_) => RefundOutcome::Succeeded,
                Err(error) => {
                    tracing::warn!(session = %session_id.to_hex(), %error, "refund failed: the amount stays owed in the session's ledger");
                    RefundOutcome::Failed
                }
            }
        }
    };
    let ledger = ledger.clone();
    tokio::task::spawn_blocking(move || ledger.record_refund(&session_id, outcome))
        .await
        .map_err(|e| LedgerError(Box::new(e)))??;
    Ok(Ok(Closed { refund, outcome }))
}
