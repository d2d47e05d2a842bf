//! The L402 seller as a library: a paywalled reverse proxy that sells an HTTP or gRPC API per
//! call over Lightning. It owns the seller's configuration model (services, routes, prices,
//! token terms, the Lightning backend), the store and key ring, the pricer, the challenge
//! recorder, settlement watching, revocation refresh, pruning of expired unpaid invoices and
//! readiness, around the generic proxy of `l402-server` with the paywall of `l402-tower`
//! plugged in as its layer.
//!
//! One call starts it in this process and returns a handle:
//!
//! ```
//! # async fn run() -> Result<(), l402_seller::SellerError> {
//! use l402_seller::{Seller, SellerOptions};
//!
//! // Zero-config dev mode: the built-in sample API sold through the embedded dev wallet.
//! let data = tempfile::tempdir().unwrap();
//! let seller = Seller::start(
//!     SellerOptions::new()
//!         .listen("127.0.0.1:0".parse().unwrap())
//!         .data_dir(data.path()),
//! )
//! .await?;
//! println!("selling on http://{}", seller.proxy_addr());
//! assert!(seller.sample_addr().is_some() && seller.dev_wallet_url().is_some());
//! seller.shutdown().await?;
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```

pub mod admin;
pub mod config;
pub mod discovery;
mod error;
mod lease;
mod mcp;
pub mod metrics;
mod mpp;
pub mod openapi;
pub mod pricing;
mod prune;
mod readiness;
mod recorder;
mod refresh;
mod reload;
mod seller;
mod sessions;
mod zero_config;

pub use config::{SellerConfig, SellerOverrides};
pub use error::SellerError;
/// The `[backend]` section: one specification shared with the buyer's `[wallet]`.
pub use l402_lightning::spec::{BackendKind, BackendSpec, SetupError};
pub use reload::ReloadReport;
pub use seller::{CheckReport, Seller, SellerHandle, SellerOptions};
