//! LND as a [`LightningBackend`](crate::LightningBackend) (feature `lnd`), over its REST API
//! ([`LndRest`], `lnd --restlisten`) or gRPC ([`LndGrpc`], `lnd --rpclisten`).
//!
//! Both pin the node's self-signed `tls.cert` (rustls, `ring`; see [`PinnedCert`]) and send a
//! macaroon with every call (REST: the `Grpc-Metadata-macaroon` header; gRPC: `macaroon`
//! metadata). Credentials come from a file, hex, base64 or bytes ([`CredentialSource`]). What
//! each side needs:
//!
//! * a **seller** (`l402 serve`) only creates and watches invoices: give it `invoice.macaroon`
//!   (it lacks `info:read`, so `node_info` learns the network and key from an invoice);
//! * a **payer** pays invoices: give it `admin.macaroon` (or a baked macaroon with
//!   `offchain:write` and `offchain:read`).
//!
//! | trait method | LND REST call | gRPC |
//! |---|---|---|
//! | `create_invoice` | `POST /v1/invoices` (`value_msat` 0: amountless) | `Lightning.AddInvoice` |
//! | `invoice_state` | `GET /v1/invoice/{r_hash_str}` | `Lightning.LookupInvoice` |
//! | `subscribe_settlements` | `GET /v1/invoices/subscribe` (streamed) | `Lightning.SubscribeInvoices` |
//! | `pay_invoice` | `POST /v2/router/send` (streamed until `SUCCEEDED` or `FAILED`) | `Router.SendPaymentV2` |
//! | `pay_amount` | the same, with `amt_msat` for an amountless invoice | `Router.SendPaymentV2` |
//! | `payment_state` | `GET /v2/router/track/{payment_hash}` (first update) | `Router.TrackPaymentV2` |
//! | `node_info` | `GET /v1/getinfo` | `Lightning.GetInfo` |
//! | `balance` | `GET /v1/balance/channels` | `Lightning.ChannelBalance` |
//!
//! The settlement stream reconnects with backoff and resumes from the last `settle_index`, so
//! settlements made while the node was unreachable are delivered once it is back. LND v0.21
//! removed `SendPaymentSync` (`POST /v1/channels/transactions`), so payments go through the
//! router's streaming `SendPaymentV2`, which older releases have too. Failed payments map
//! `failure_reason` to typed errors (`FAILURE_REASON_NO_ROUTE` → [`BackendError::NoRoute`],
//! `…_INSUFFICIENT_BALANCE` → [`BackendError::InsufficientBalance`], `…_TIMEOUT` →
//! [`BackendError::Timeout`], …); a refused macaroon is [`BackendError::Unauthorized`]; a node
//! that is down, starting or behind another certificate is [`BackendError::Unreachable`] with
//! the address and a hint.
//!
//! [`BackendError::NoRoute`]: crate::BackendError::NoRoute
//! [`BackendError::InsufficientBalance`]: crate::BackendError::InsufficientBalance
//! [`BackendError::Timeout`]: crate::BackendError::Timeout
//! [`BackendError::Unauthorized`]: crate::BackendError::Unauthorized
//! [`BackendError::Unreachable`]: crate::BackendError::Unreachable
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use l402_lightning::LightningBackend;
//! use l402_lightning::lnd::{CredentialSource, LndConfig, LndGrpc, LndRest};
//!
//! let tls_cert = Some(CredentialSource::Path("/home/me/.lnd/tls.cert".into()));
//! let macaroon = CredentialSource::Path(
//!     "/home/me/.lnd/data/chain/bitcoin/mainnet/invoice.macaroon".into(),
//! );
//! let rest = LndRest::new(LndConfig::new("127.0.0.1:8080", tls_cert.clone(), macaroon.clone()))?;
//! let grpc = LndGrpc::new(LndConfig::new("127.0.0.1:10009", tls_cert, macaroon))?;
//! println!("{} {}", rest.node_info().await?.alias, grpc.node_info().await?.pubkey_hex);
//! # Ok(())
//! # }
//! ```

mod api;
mod core;
mod credentials;
mod grpc;
mod rest;
mod tls;
mod transport;
mod wire;

use std::path::PathBuf;
use std::time::Duration;

/// Defines an LND client type over a [`Core`](core::Core): the struct (cheap to clone: it holds
/// `core: Arc<Core>`), a `Debug` showing the address and hiding the macaroon, `address()`, and
/// [`LightningBackend`](crate::LightningBackend). REST and gRPC differ only in the transport
/// inside the core, which each type's `new` builds.
macro_rules! lnd_client {
    ($(#[$attr:meta])* $ty:ident, address: $address_doc:literal) => {
        $(#[$attr])*
        #[derive(Clone)]
        pub struct $ty {
            core: std::sync::Arc<$crate::lnd::core::Core>,
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("address", &self.core.address())
                    .field("macaroon", &"<redacted>")
                    .finish()
            }
        }

        impl $ty {
            #[doc = $address_doc]
            pub fn address(&self) -> &str {
                self.core.address()
            }
        }

        #[async_trait::async_trait]
        impl $crate::LightningBackend for $ty {
            async fn create_invoice(
                &self,
                req: $crate::CreateInvoice,
            ) -> Result<$crate::CreatedInvoice, $crate::BackendError> {
                self.core.create_invoice(req).await
            }
            async fn invoice_state(
                &self,
                hash: &l402_core::PaymentHash,
            ) -> Result<$crate::InvoiceState, $crate::BackendError> {
                self.core.invoice_state(hash).await
            }
            async fn subscribe_settlements(
                &self,
            ) -> Result<
                Option<tokio::sync::broadcast::Receiver<$crate::Settlement>>,
                $crate::BackendError,
            > {
                self.core.subscribe_settlements().await.map(Some)
            }
            async fn pay_invoice(
                &self,
                bolt11: &str,
                opts: $crate::PayOptions,
            ) -> Result<$crate::PaymentResult, $crate::BackendError> {
                self.core.pay_invoice(bolt11, opts).await
            }
            async fn pay_amount(
                &self,
                bolt11: &str,
                amount: $crate::Msat,
                opts: $crate::PayOptions,
            ) -> Result<$crate::PaymentResult, $crate::BackendError> {
                self.core.pay_amount(bolt11, amount, opts).await
            }
            async fn payment_state(
                &self,
                hash: &l402_core::PaymentHash,
            ) -> Result<$crate::PaymentState, $crate::BackendError> {
                self.core.payment_state(hash).await
            }
            async fn node_info(&self) -> Result<$crate::NodeInfo, $crate::BackendError> {
                self.core.node_info().await
            }
            async fn balance(&self) -> Result<$crate::Balance, $crate::BackendError> {
                self.core.balance().await
            }
        }
    };
}
pub(crate) use lnd_client;

pub use credentials::{CredentialSource, Macaroon, PinnedCert};
pub use grpc::LndGrpc;
pub use rest::LndRest;

/// The name this backend uses in errors and logs.
pub const BACKEND_NAME: &str = "lnd";

/// How [`LndRest`] or [`LndGrpc`] reaches and authenticates to a node.
#[derive(Debug, Clone)]
pub struct LndConfig {
    /// `https://host:port`, or `host:port` (HTTPS is implied): for [`LndRest`] the REST
    /// address (`--restlisten`, default port 8080; `http://` is accepted for a node run with
    /// `--no-rest-tls`), for [`LndGrpc`] the gRPC address (`--rpclisten`, default port 10009).
    pub address: String,
    /// The node's `tls.cert` to pin. `None`: the server must present a certificate valid under
    /// the Mozilla root set (an LND behind a reverse proxy with a public certificate).
    pub tls_cert: Option<CredentialSource>,
    /// The macaroon: `invoice.macaroon` for a seller, `admin.macaroon` for a payer.
    pub macaroon: CredentialSource,
    /// How long to wait for a TCP connection. Default 5 s.
    pub connect_timeout: Duration,
    /// How long a unary call may take. Default 30 s.
    pub request_timeout: Duration,
}

impl LndConfig {
    /// A configuration with the default timeouts.
    pub fn new(
        address: impl Into<String>,
        tls_cert: Option<CredentialSource>,
        macaroon: CredentialSource,
    ) -> Self {
        Self {
            address: address.into(),
            tls_cert,
            macaroon,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Why an [`LndRest`] or [`LndGrpc`] could not be set up (before any call to the node).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LndSetupError {
    /// A credential file could not be read.
    #[error("cannot read the LND {what} at {}: {source}", path.display())]
    ReadFile {
        /// `macaroon` or `TLS certificate`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A credential is not in a recognised encoding.
    #[error("invalid LND {what}: {detail}")]
    Encoding {
        /// `macaroon` or `TLS certificate`.
        what: &'static str,
        /// What is wrong with it (never the secret itself).
        detail: String,
    },
    /// The REST address is not usable.
    #[error("invalid LND REST address {address:?}: {detail}")]
    Address {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The TLS configuration could not be built.
    #[error("LND TLS setup failed: {0}")]
    Tls(String),
}
