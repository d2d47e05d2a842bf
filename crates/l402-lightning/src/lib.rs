//! Lightning backends for L402: the [`LightningBackend`] trait, the embedded development wallet
//! (feature `dev`), the LNbits backend (feature `lnbits`), the LND backend
//! (feature `lnd`), the Nostr Wallet Connect backend (feature `nwc`), the Core Lightning backend
//! over CLNRest (feature `cln`) and the conformance suite
//! every backend must pass (feature `conformance`).
//! Does network and file IO.

#![forbid(unsafe_code)]

pub mod backend;
#[cfg(feature = "cln")]
pub mod cln;
#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "dev")]
pub mod dev;
pub mod error;
#[cfg(feature = "lnbits")]
pub mod lnbits;
#[cfg(feature = "lnd")]
pub mod lnd;
#[cfg(any(feature = "lnd", feature = "cln"))]
mod node_http;
#[cfg(feature = "nwc")]
pub mod nwc;

pub use backend::{
    CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, NodeInfo, PayOptions,
    PaymentResult, PaymentState, Settlement,
};
pub use error::BackendError;
pub use l402_core::invoice::Network;
pub use l402_core::{Msat, PaymentHash, Preimage};
