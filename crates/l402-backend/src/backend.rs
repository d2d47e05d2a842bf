//! The [`LightningBackend`] trait and the values it takes and returns.
//!
//! The trait is object-safe (`Arc<dyn LightningBackend>`), so the proxy and the client pick a
//! backend at run time from configuration.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use l402_core::Network;
use l402_core::{Msat, PaymentHash, Preimage};
use tokio::sync::broadcast;

use crate::error::BackendError;

/// What the seller asks its node for when it issues a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInvoice {
    /// The price. `Msat(0)` asks for an *amountless* invoice (no amount field; the payer picks
    /// the amount, see [`LightningBackend::pay_amount`]). Backends that cannot issue one refuse
    /// it with [`BackendError::Unsupported`] or [`BackendError::InvalidInvoice`].
    pub amount: Msat,
    /// The invoice description (`d` field).
    pub memo: String,
    /// Seconds until the invoice expires.
    pub expiry_secs: u64,
}

/// A freshly issued invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedInvoice {
    /// The BOLT11 string to hand to the payer.
    pub bolt11: String,
    /// Its payment hash (bound into the macaroon identifier).
    pub payment_hash: PaymentHash,
    /// When it expires, seconds since the Unix epoch.
    pub expires_at_unix: u64,
}

/// The seller-side state of an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceState {
    /// Issued, not paid, not expired.
    Open,
    /// Paid.
    Settled {
        /// What was received.
        amount_received: Msat,
        /// When, seconds since the Unix epoch.
        settled_at_unix: u64,
    },
    /// Not paid before its expiry.
    Expired,
    /// Canceled by the seller's node.
    Canceled,
}

/// One settled invoice, as delivered by [`LightningBackend::subscribe_settlements`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The settled invoice's payment hash.
    pub payment_hash: PaymentHash,
    /// What was received.
    pub amount_received: Msat,
    /// When, seconds since the Unix epoch.
    pub settled_at_unix: u64,
}

/// Limits for one payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayOptions {
    /// The most the payer accepts to spend on routing fees.
    pub max_fee: Msat,
    /// How long to wait for the payment to resolve before giving up with
    /// [`BackendError::Timeout`] (the payment may still complete; see
    /// [`LightningBackend::payment_state`]).
    pub timeout: Duration,
}

/// A successful payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentResult {
    /// The proof of payment (secret; redacted in `Debug`).
    pub preimage: Preimage,
    /// The routing fee paid.
    pub fee: Msat,
    /// The amount paid to the payee, fee excluded.
    pub amount: Msat,
    /// The payment hash of the paid invoice.
    pub payment_hash: PaymentHash,
}

/// The payer-side state of a payment, used to resolve a pending-payment journal after a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentState {
    /// Paid.
    Succeeded {
        /// The proof of payment.
        preimage: Preimage,
        /// The routing fee paid.
        fee: Msat,
    },
    /// Still being routed.
    InFlight,
    /// Failed for good; paying again is safe.
    Failed,
    /// The node has no record of a payment for this hash.
    Unknown,
}

/// Node identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The network the node runs on.
    pub network: Network,
    /// The node's alias.
    pub alias: String,
    /// The node's compressed public key, lower-case hex.
    pub pubkey_hex: String,
}

/// What a wallet can spend now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// What can be paid over Lightning right now: the outbound liquidity of the node's active
    /// channels, or a custodial wallet's balance. `None` for a wallet with no limit (the dev
    /// wallet, whose payments are entries in a regtest ledger).
    pub spendable: Option<Msat>,
}

/// The `operation` of the [`BackendError::Unsupported`] that
/// [`LightningBackend::pay_amount`] returns where a backend cannot pay an amountless invoice.
pub const PAY_AMOUNT_OPERATION: &str = "pay an amountless invoice with an explicit amount";

/// The `operation` of the [`BackendError::Unsupported`] with which a backend that cannot issue
/// amountless invoices refuses [`CreateInvoice`] with an amount of zero.
pub const AMOUNTLESS_INVOICE_OPERATION: &str = "issue an amountless invoice (an amount of 0)";

/// A Lightning node as L402 uses it: the seller creates invoices and watches them settle, the
/// buyer pays invoices with a fee cap and can ask what became of a payment.
#[async_trait]
pub trait LightningBackend: Send + Sync {
    /// Issues an invoice. With `req.amount` of zero the invoice is *amountless* (it carries no
    /// amount; it settles with whatever the payer sends, which [`InvoiceState::Settled`] and
    /// [`Settlement`] report). Backends that cannot issue amountless invoices refuse a zero
    /// amount with [`BackendError::Unsupported`] or [`BackendError::InvalidInvoice`].
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError>;

    /// Looks up the state of an invoice this node issued.
    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError>;

    /// A stream of settlements, or `None` where the node cannot stream (then poll
    /// [`invoice_state`](Self::invoice_state)).
    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError>;

    /// Pays a BOLT11 invoice, spending at most `opts.max_fee` on fees. An amountless invoice is
    /// refused with [`BackendError::InvalidInvoice`] (pay those with
    /// [`pay_amount`](Self::pay_amount)).
    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError>;

    /// Pays a BOLT11 invoice that names no amount, sending `amount` (fee excluded) and spending
    /// at most `opts.max_fee` on fees: how a seller refunds to a "return invoice" its buyer
    /// supplied without an amount.
    ///
    /// * An amountless invoice is paid with `amount`; [`PaymentResult::amount`] is `amount` and
    ///   the payee's invoice settles with it.
    /// * An invoice that names an amount is refused with [`BackendError::InvalidInvoice`] unless
    ///   its amount equals `amount`; then it is paid as [`pay_invoice`](Self::pay_invoice)
    ///   would pay it.
    /// * An `amount` of zero is refused with [`BackendError::InvalidInvoice`].
    ///
    /// Expired, already paid and malformed invoices fail as with `pay_invoice`. Nothing is sent
    /// when the call is refused.
    ///
    /// The default implementation, for backends whose API cannot send an amount of the payer's
    /// choosing, fails with [`BackendError::Unsupported`] (operation
    /// [`PAY_AMOUNT_OPERATION`]) without looking at the invoice.
    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let _ = (bolt11, amount, opts);
        Err(BackendError::Unsupported {
            backend: std::any::type_name::<Self>().to_owned(),
            operation: PAY_AMOUNT_OPERATION,
        })
    }

    /// What became of a payment to `hash` made by this node.
    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError>;

    /// The node's network, alias and public key.
    async fn node_info(&self) -> Result<NodeInfo, BackendError>;

    /// What the wallet can spend now. Needs the payer's permissions (a seller's invoice-only
    /// credential is refused with [`BackendError::Unauthorized`]).
    async fn balance(&self) -> Result<Balance, BackendError>;
}

#[async_trait]
impl<T: LightningBackend + ?Sized> LightningBackend for Arc<T> {
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        (**self).create_invoice(req).await
    }

    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        (**self).invoice_state(hash).await
    }

    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        (**self).subscribe_settlements().await
    }

    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        (**self).pay_invoice(bolt11, opts).await
    }

    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        (**self).pay_amount(bolt11, amount, opts).await
    }

    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        (**self).payment_state(hash).await
    }

    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        (**self).node_info().await
    }

    async fn balance(&self) -> Result<Balance, BackendError> {
        (**self).balance().await
    }
}
