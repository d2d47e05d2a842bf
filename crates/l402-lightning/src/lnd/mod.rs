//! LND as a [`LightningBackend`](crate::LightningBackend), over its REST API (feature `lnd`).
//!
//! [`LndRest`] talks to `lnd --restlisten` over HTTPS, pinning the node's self-signed
//! `tls.cert`, and authenticates every call with a macaroon in the `Grpc-Metadata-macaroon`
//! header. What each side needs:
//!
//! * a **seller** (`l402 serve`) only creates and watches invoices: give it `invoice.macaroon`;
//! * a **payer** pays invoices: give it `admin.macaroon` (or a baked macaroon with
//!   `offchain:write` and `offchain:read`).
//!
//! | trait method | LND REST call |
//! |---|---|
//! | `create_invoice` | `POST /v1/invoices` |
//! | `invoice_state` | `GET /v1/invoice/{r_hash_str}` |
//! | `subscribe_settlements` | `GET /v1/invoices/subscribe` (streamed; reconnects with backoff and resumes from the last `settle_index`) |
//! | `pay_invoice` | `POST /v2/router/send` (SendPaymentV2, streamed until `SUCCEEDED` or `FAILED`) |
//! | `payment_state` | `GET /v2/router/track/{payment_hash}` (first streamed update) |
//! | `node_info` | `GET /v1/getinfo` |
//!
//! LND v0.21 removed `SendPaymentSync` (`POST /v1/channels/transactions`), so payments go
//! through the router's streaming endpoint, which also works on older releases.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use l402_lightning::LightningBackend;
//! use l402_lightning::lnd::{CredentialSource, LndRest, LndConfig};
//!
//! let lnd = LndRest::new(LndConfig::new(
//!     "https://127.0.0.1:8080",
//!     Some(CredentialSource::Path("/home/me/.lnd/tls.cert".into())),
//!     CredentialSource::Path("/home/me/.lnd/data/chain/bitcoin/mainnet/invoice.macaroon".into()),
//! ))?;
//! println!("{}", lnd.node_info().await?.alias);
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
