//! A wallet wrapper whose calls forward to an inner wallet unless a hook overrides them: the one
//! place test doubles (counting, crashing, deliberately broken wallets) get their forwarding.

use std::sync::Arc;

use async_trait::async_trait;
use l402_lightning::{
    BackendError, Balance, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, Msat,
    NodeInfo, PayOptions, PaymentHash, PaymentResult, PaymentState, Settlement,
};
use tokio::sync::broadcast;

/// What a [`Hooked`] wallet does on each call; every default forwards to `inner`. Implement
/// only the calls a test double changes.
#[async_trait]
pub trait WalletHook: Send + Sync {
    /// `create_invoice`.
    async fn create_invoice(
        &self,
        inner: &dyn LightningBackend,
        req: CreateInvoice,
    ) -> Result<CreatedInvoice, BackendError> {
        inner.create_invoice(req).await
    }
    /// `invoice_state`.
    async fn invoice_state(
        &self,
        inner: &dyn LightningBackend,
        hash: &PaymentHash,
    ) -> Result<InvoiceState, BackendError> {
        inner.invoice_state(hash).await
    }
    /// `subscribe_settlements`.
    async fn subscribe_settlements(
        &self,
        inner: &dyn LightningBackend,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        inner.subscribe_settlements().await
    }
    /// `pay_invoice`.
    async fn pay_invoice(
        &self,
        inner: &dyn LightningBackend,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        inner.pay_invoice(bolt11, opts).await
    }
    /// `pay_amount`.
    async fn pay_amount(
        &self,
        inner: &dyn LightningBackend,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        inner.pay_amount(bolt11, amount, opts).await
    }
    /// `payment_state`.
    async fn payment_state(
        &self,
        inner: &dyn LightningBackend,
        hash: &PaymentHash,
    ) -> Result<PaymentState, BackendError> {
        inner.payment_state(hash).await
    }
    /// `node_info`.
    async fn node_info(&self, inner: &dyn LightningBackend) -> Result<NodeInfo, BackendError> {
        inner.node_info().await
    }
}

/// `inner` with `hook` in front of it.
pub struct Hooked<H> {
    /// The wallet that does the work.
    pub inner: Arc<dyn LightningBackend>,
    /// What changes.
    pub hook: H,
}

impl<H: WalletHook> Hooked<H> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn LightningBackend>, hook: H) -> Arc<Self> {
        Arc::new(Self { inner, hook })
    }
}

#[async_trait]
impl<H: WalletHook> LightningBackend for Hooked<H> {
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        self.hook.create_invoice(&*self.inner, req).await
    }
    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        self.hook.invoice_state(&*self.inner, hash).await
    }
    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        self.hook.subscribe_settlements(&*self.inner).await
    }
    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        self.hook.pay_invoice(&*self.inner, bolt11, opts).await
    }
    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        self.hook
            .pay_amount(&*self.inner, bolt11, amount, opts)
            .await
    }
    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        self.hook.payment_state(&*self.inner, hash).await
    }
    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        self.hook.node_info(&*self.inner).await
    }
    async fn balance(&self) -> Result<Balance, BackendError> {
        self.inner.balance().await
    }
}
