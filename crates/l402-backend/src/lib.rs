//! The seam between L402 and Lightning: the [`LightningBackend`] trait that every payment
//! backend implements (invoices for sellers, payments for buyers, settlement streams), its
//! request and result types, the one [`BackendError`], and the conformance suite every
//! backend must pass (feature `conformance`).
//!
//! The paywall and the buyer's libraries depend on this crate alone; the implementations (dev
//! wallet, LND, LNbits, NWC, Core Lightning) live in `l402-lightning`, each behind a feature
//! that the binary turns on. No IO here.
//!
//! ```
//! use l402_backend::{BackendError, PayOptions};
//! use l402_core::Msat;
//!
//! let options = PayOptions { max_fee: Msat::from_sat(10), timeout: std::time::Duration::from_secs(30) };
//! assert_eq!(options.max_fee, Msat(10_000));
//! assert!(BackendError::Timeout.is_transient());
//! ```

pub mod backend;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;

pub use backend::{
    AMOUNTLESS_INVOICE_OPERATION, Balance, CreateInvoice, CreatedInvoice, InvoiceState,
    LightningBackend, NodeInfo, PAY_AMOUNT_OPERATION, PayOptions, PaymentResult, PaymentState,
    Settlement,
};
pub use error::{BackendError, ErrorSource};
pub use l402_core::Network;
pub use l402_core::{Msat, PaymentHash, Preimage};
