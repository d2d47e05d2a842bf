//! Lightning backends for L402, each behind its own feature and none on by default: the
//! embedded development wallet (`dev`), LNbits (`lnbits`), LND (`lnd`), Nostr Wallet Connect
//! (`nwc`) and Core Lightning over CLNRest (`cln`). Each implements
//! [`LightningBackend`] from `l402-backend` (re-exported here, with the conformance suite under
//! feature `conformance`). Does network and file IO.

#![forbid(unsafe_code)]

#[cfg(feature = "cln")]
pub mod cln;
#[cfg(feature = "dev")]
pub mod dev;
#[cfg(any(feature = "lnbits", feature = "nwc"))]
mod issued;
#[cfg(feature = "lnbits")]
pub mod lnbits;
#[cfg(feature = "lnd")]
pub mod lnd;
#[cfg(any(feature = "dev", feature = "lnd", feature = "cln"))]
mod node_http;
#[cfg(feature = "nwc")]
pub mod nwc;
#[cfg(any(
    feature = "dev",
    feature = "lnbits",
    feature = "lnd",
    feature = "nwc",
    feature = "cln"
))]
mod pay_checks;
#[cfg(feature = "spec")]
pub mod spec;

/// The conformance suite every backend must pass (feature `conformance`), from `l402-backend`.
#[cfg(feature = "conformance")]
pub use l402_backend::conformance;
/// The trait and types every backend here implements, from `l402-backend` (re-exported so
/// `l402_lightning::backend::…` and `l402_lightning::LightningBackend` keep working).
pub use l402_backend::{
    AMOUNTLESS_INVOICE_OPERATION, BackendError, Balance, CreateInvoice, CreatedInvoice,
    InvoiceState, LightningBackend, Msat, Network, NodeInfo, PAY_AMOUNT_OPERATION, PayOptions,
    PaymentHash, PaymentResult, PaymentState, Preimage, Settlement, backend, error,
};
