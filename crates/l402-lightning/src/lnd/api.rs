//! What the backend logic needs from a transport (REST or gRPC): LND's calls with their answers
//! in one shape ([`wire`](super::wire)), and LND's error statuses unmapped.

use async_trait::async_trait;
use l402_core::PaymentHash;
use serde::Deserialize;

use super::wire::{AddInvoiceResponse, ChannelBalance, GetInfo, Invoice, Payment};
use crate::error::BackendError;

/// An error status from LND: a gRPC status, or its rendering by the REST gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct RpcStatus {
    /// The gRPC code (5 not found, 6 already exists, 14 unavailable, ...).
    #[serde(default)]
    pub code: i32,
    /// LND's message (never contains the macaroon).
    #[serde(default)]
    pub message: String,
    /// The HTTP status it came with (0 over gRPC and inside an already started stream).
    #[serde(skip)]
    pub http: u16,
}

/// Why a call failed: a transport-level failure already mapped, or LND's own error status,
/// which each caller maps in its context (e.g. "not found" means an unknown invoice).
#[derive(Debug)]
pub(crate) enum Failure {
    /// Unreachable, timed out, garbled.
    Backend(BackendError),
    /// LND answered with an error.
    Rpc(RpcStatus),
}

impl From<BackendError> for Failure {
    fn from(e: BackendError) -> Self {
        Failure::Backend(e)
    }
}

/// A server-streaming answer.
#[async_trait]
pub(crate) trait MsgStream<T>: Send {
    /// The next message, an error status inside the stream, or `None` at its end.
    async fn next(&mut self) -> Result<Option<Result<T, RpcStatus>>, BackendError>;
}

/// LND's calls the backend makes. Unary calls are bounded by the transport's request timeout;
/// opening a stream is not (the caller bounds it).
#[async_trait]
pub(crate) trait LndApi: Send + Sync + 'static {
    /// `https://host:port`, for errors.
    fn address(&self) -> &str;
    /// The per-call timeout of unary calls.
    fn request_timeout(&self) -> std::time::Duration;
    /// `GetInfo`.
    async fn get_info(&self) -> Result<GetInfo, Failure>;
    /// `ChannelBalance`.
    async fn channel_balance(&self) -> Result<ChannelBalance, Failure>;
    /// `AddInvoice`.
    async fn add_invoice(
        &self,
        value_msat: u64,
        memo: &str,
        expiry_secs: u64,
    ) -> Result<AddInvoiceResponse, Failure>;
    /// `LookupInvoice`.
    async fn lookup_invoice(&self, hash: &PaymentHash) -> Result<Invoice, Failure>;
    /// The BOLT11 of the newest invoice (`ListInvoices`, reversed, one), if there is one.
    async fn newest_invoice(&self) -> Result<Option<String>, Failure>;
    /// `SubscribeInvoices`, replaying settlements after `settle_index` when it is not 0.
    async fn subscribe_invoices(
        &self,
        settle_index: u64,
    ) -> Result<Box<dyn MsgStream<Invoice>>, Failure>;
    /// `SendPaymentV2` with only final updates; `amt_msat` only for an amountless invoice.
    async fn send_payment(
        &self,
        bolt11: &str,
        amt_msat: Option<u64>,
        fee_limit_msat: u64,
        timeout_seconds: i32,
    ) -> Result<Box<dyn MsgStream<Payment>>, Failure>;
    /// `TrackPaymentV2`, current state first.
    async fn track_payment(
        &self,
        hash: &PaymentHash,
    ) -> Result<Box<dyn MsgStream<Payment>>, Failure>;
}
