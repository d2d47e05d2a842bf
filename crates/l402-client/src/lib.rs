//! The L402 buyer (does network and file IO): an HTTP client that pays Lightning invoices by
//! itself within hard budgets. It drives `l402_core`'s pure decision machine, pays through any
//! [`LightningBackend`](l402_lightning::LightningBackend), caches tokens per scope, and keeps a
//! crash-safe payment journal, a spend ledger and receipts in an [`l402_store::Store`].
//!
//! HTTPS works out of the box through the workspace's TLS home (`l402-tls`): the web PKI
//! roots, or the CA bundle named by `SSL_CERT_FILE`, or whatever
//! [`L402ClientBuilder::trust`] says. gRPC calls pay through the same client with the `grpc`
//! feature: `grpc::channel` opens a TLS (or h2c) channel and `grpc::L402GrpcLayer` wraps it.
//!
//! Buying from a paywalled endpoint: the first `GET` is answered with `402` and an L402
//! challenge, which the client checks against its budget and pays, then it retries with the
//! token and keeps it for the next calls.
//!
//! Transports that carry a `Payment` charge challenge as JSON (the scheme's MCP / JSON-RPC
//! binding) pay it with [`L402Client::pay_json_charge`] ([`json_charge`]): the same checks,
//! budget and bookkeeping, and the credential back as JSON.
//!
//! Redirects are followed by the client itself ([`L402ClientBuilder::max_redirects`]): every hop
//! is checked (the domain lists, an optional [`DestinationGuard`]) before anything is sent to
//! it, a challenge is judged and paid for the origin that sent it, and a token is only ever
//! sent to the origin it was bought from.
//!
//! ```
//! # use std::sync::Arc;
//! # use axum::{Router, routing::get};
//! # use l402_core::keys::{KeyRing, MasterKey};
//! # use l402_lightning::dev::DevWallet;
//! # use l402_tower::{FixedPrice, L402Layer, Offer, OsRandom, Paywall, RevocationSet};
//! use l402_client::{Budget, L402Client};
//! use l402_core::{Msat, invoice::Network};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let dir = tempfile::tempdir()?;
//! # let wallet = Arc::new(DevWallet::open(dir.path().join("wallet"), Network::Regtest)?);
//! # let keys = KeyRing::new(1, &MasterKey::generate(&mut OsRandom));
//! # let paywall = Arc::new(Paywall::new(keys, wallet.clone(), RevocationSet::default()));
//! # let offer = FixedPrice(Offer::new("weather", Msat::from_sat(21)));
//! # let app = Router::new().route("/weather", get(|| async { "sunny" }))
//! #     .route_layer(L402Layer::new(paywall, offer));
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let url = format!("http://{}/weather", listener.local_addr()?);
//! # tokio::spawn(async move { axum::serve(listener, app).await });
//! # let store_path = dir.path().join("client.db");
//! // `url`: an endpoint behind l402-tower's paywall at 21 sat (an axum app on loopback here);
//! // `wallet`: any `LightningBackend` (the embedded dev wallet here, on regtest).
//! let client = L402Client::builder()
//!     .wallet(wallet)
//!     .network(Network::Regtest)
//!     .store_path(store_path)
//!     .budget(Budget { daily: Some(Msat::from_sat(5_000)), ..Budget::default() })
//!     .build()?;
//!
//! let first = client.get(&url).await?;
//! assert_eq!(first.response.status(), 200);
//! assert_eq!(first.payment.map(|receipt| receipt.amount), Some(Msat::from_sat(21)));
//! assert_eq!(first.response.text().await?, "sunny");
//!
//! let again = client.get(&url).await?; // the held token: no second payment
//! assert!(again.reused_token && again.payment.is_none());
//! # Ok(()) }
//! ```

mod auth_header;
mod blocking;
pub mod budget;
mod builder;
mod client;
pub mod clock;
pub mod config;
pub mod discover;
mod error;
mod execute;
#[cfg(feature = "grpc")]
pub mod grpc;
pub mod json_charge;
pub mod mpp;
mod pay;
mod recover;
mod redirect;
mod request;
pub mod scope;
pub mod session;
mod single_flight;
mod status_memo;
mod token_cache;
mod wallet_slot;
pub use single_flight::ScopeLocks;
pub mod token;

pub use budget::{Budget, BudgetError, BudgetStatus, Limit, WindowStatus};
pub use builder::{
    CRASH_AFTER_PAY_ENV, DEFAULT_HTTP_TIMEOUT, DEFAULT_MAX_COST, DEFAULT_PAYMENT_TIMEOUT,
    L402ClientBuilder,
};
pub use client::L402Client;
pub use config::{ClientConfig, ConfigError};
pub use discover::{Discovery, DiscoverySource, Listing, QuoteOutcome};
pub use error::{ClientError, ErrorCategory};
pub use execute::{ChallengePaid, HeldToken, PaidResponse};
pub use json_charge::JsonChargePaid;
pub use l402_discovery as discovery;
pub use l402_store::{Receipt, ReportedStatus, Store, StoreError};
pub use recover::{RecoveryReport, UnresolvedPayment};
pub use redirect::{DEFAULT_MAX_REDIRECTS, DestinationGuard};
pub use request::{IntoRequestSpec, RequestSpec};
pub use scope::{ScopeRule, Target};
pub use session::{ClosedSession, SessionInfo, SessionUse};
pub use token::TokenInfo;
pub use wallet_slot::WalletOpener;
