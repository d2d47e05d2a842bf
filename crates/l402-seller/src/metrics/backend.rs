//! The Lightning backend, timed: each call the seller makes is observed into
//! [`SellerMetrics`], and its success or failure sets `l402_backend_up`.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use l402_core::PaymentHash;
use l402_lightning::{
    BackendError, Balance, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, NodeInfo,
    PayOptions, PaymentResult, PaymentState, Settlement,
};
use tokio::sync::broadcast;

use super::{Operation, SellerMetrics};

/// A backend whose calls are counted.
pub struct MeteredBackend {
    inner: Arc<dyn LightningBackend>,
    metrics: Arc<SellerMetrics>,
}

impl std::fmt::Debug for MeteredBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredBackend").finish_non_exhaustive()
    }
}

impl MeteredBackend {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn LightningBackend>, metrics: Arc<SellerMetrics>) -> Self {
        Self { inner, metrics }
    }

    async fn timed<T>(
        &self,
        operation: Operation,
        call: impl std::future::Future<Output = Result<T, BackendError>>,
    ) -> Result<T, BackendError> {
        let started = Instant::now();
        let result = call.await;
        self.metrics
            .backend_call(operation, started.elapsed(), result.is_ok());
        result
    }
}

#[async_trait]
impl LightningBackend for MeteredBackend {
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        self.timed(Operation::CreateInvoice, self.inner.create_invoice(req))
            .await
    }

    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        self.timed(Operation::InvoiceState, self.inner.invoice_state(hash))
            .await
    }

    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        self.timed(
            Operation::SubscribeSettlements,
            self.inner.subscribe_settlements(),
        )
        .await
    }

    /// A session's refund; passed through untimed.
    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: l402_core::Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        self.inner.pay_amount(bolt11, amount, opts).await
    }

    /// A seller's backend pays only refunds; passed through untimed.
    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        self.inner.pay_invoice(bolt11, opts).await
    }

    /// Passed through untimed.
    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        self.inner.payment_state(hash).await
    }

    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        self.timed(Operation::NodeInfo, self.inner.node_info())
            .await
    }

    /// Passed through untimed.
    async fn balance(&self) -> Result<Balance, BackendError> {
        self.inner.balance().await
    }
}
