//! The L402 buyer (does network and file IO): an HTTP client that pays Lightning invoices by
//! itself within hard budgets. It drives `l402_core`'s pure decision machine, pays through any
//! [`LightningBackend`](l402_lightning::LightningBackend), caches tokens per scope, and keeps a
//! crash-safe payment journal, a spend ledger and receipts in an [`l402_store::Store`].
//!
//! HTTPS needs the `tls` feature (rustls with `ring`); read its note in `Cargo.toml` before
//! turning it on in a build that also builds other `reqwest` clients. gRPC calls pay through
//! the same client with the `grpc` feature: `grpc::L402GrpcLayer` wraps a tonic `Channel`.
//!
//! ```no_run
//! # async fn demo(wallet: std::sync::Arc<dyn l402_lightning::LightningBackend>) -> Result<(), l402_client::ClientError> {
//! use l402_client::{Budget, L402Client};
//! use l402_core::Msat;
//!
//! let client = L402Client::builder()
//!     .wallet(wallet)
//!     .store_path("/tmp/l402/client.db")
//!     .budget(Budget { daily: Some(Msat::from_sat(5_000)), ..Budget::default() })
//!     .build()?;
//! let paid = client.get("https://api.example.com/weather/today").await?;
//! println!("{} (paid: {:?})", paid.response.status(), paid.payment.map(|r| r.amount));
//! # Ok(()) }
//! ```

mod blocking;
pub mod budget;
mod builder;
mod client;
pub mod clock;
pub mod config;
mod error;
mod execute;
#[cfg(feature = "grpc")]
pub mod grpc;
mod pay;
mod recover;
mod request;
pub mod scope;
mod single_flight;
pub use single_flight::ScopeLocks;
pub mod token;

pub use budget::{Budget, BudgetError, BudgetStatus, Limit, WindowStatus};
pub use builder::{
    CRASH_AFTER_PAY_ENV, DEFAULT_HTTP_TIMEOUT, DEFAULT_MAX_COST, DEFAULT_PAYMENT_TIMEOUT,
    L402ClientBuilder,
};
pub use client::L402Client;
pub use config::{ClientConfig, ConfigError};
pub use error::{ClientError, ErrorCategory};
pub use execute::{ChallengePaid, HeldToken, PaidResponse};
pub use l402_store::{Receipt, Store, StoreError};
pub use recover::{RecoveryReport, UnresolvedPayment};
pub use request::{IntoRequestSpec, RequestSpec};
pub use scope::{ScopeRule, Target};
pub use token::TokenInfo;
