//! The workspace's one home for TLS.
//!
//! Every TLS client and listener in the workspace gets its configuration here, so there is one
//! crypto provider, one set of trust choices and one place to read when a handshake fails:
//!
//! - [`provider`] / [`install_default_provider`]: rustls with `ring`, installed as the process
//!   default once. Anything built through this crate works whatever else the build turned on
//!   (reqwest's `rustls-no-provider` panics on a client built before a provider is installed;
//!   every builder here installs it first).
//! - [`Trust`]: how a client verifies a server: the Mozilla web PKI roots, a CA file (curl's
//!   `--cacert`, `SSL_CERT_FILE`), certificates pinned byte for byte or as a private CA (LND's
//!   `tls.cert`, CLN's `ca.pem`, names not checked), or no verification at all, which logs a
//!   warning every time a configuration is built.
//! - [`server_config`]: a listener's certificate chain and key from PEM files.
//! - [`explain`]: a one-line hint for the TLS failure inside an error chain.
//! - `leaf_validity` (feature `inspect`): a certificate file's subject and validity period.
//! - `reqwest_builder` (feature `reqwest`) and `https_connector` (feature `hyper`): clients
//!   with the configuration already applied.
//!
//! File IO only (PEM files); no sockets.
//!
//! ```
//! use l402_tls::Trust;
//!
//! // The default: the web PKI, or the bundle named by SSL_CERT_FILE.
//! let trust = Trust::from_env();
//! let config = trust.http_client_config().unwrap();
//! assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
//!
//! // A missing CA file is a clear error, not a panic.
//! let err = Trust::CaFile("/nonexistent/ca.pem".into()).client_config().unwrap_err();
//! assert!(err.to_string().contains("/nonexistent/ca.pem"));
//! ```

mod diagnose;
mod error;
#[cfg(feature = "inspect")]
mod inspect;
mod pem;
mod provider;
mod server;
mod trust;
mod verifiers;

#[cfg(feature = "hyper")]
mod hyper_client;
#[cfg(feature = "reqwest")]
mod reqwest_client;

pub use diagnose::{explain, find_tls_error};
pub use error::TlsError;
#[cfg(feature = "inspect")]
pub use inspect::{CertificateValidity, leaf_validity};
pub use pem::{certs_from_pem, certs_from_pem_or_der, load_certs};
pub use provider::{install_default_provider, provider};
pub use server::{server_config, server_config_requiring_client_certs};
pub use trust::{ClientIdentity, Trust};

#[cfg(feature = "hyper")]
pub use hyper_client::{GrpcTlsConnector, grpc_tls_connector, https_connector};
#[cfg(feature = "reqwest")]
pub use reqwest_client::{reqwest_builder, reqwest_builder_with_identity};

/// Re-exported so callers name the same rustls types as this crate.
pub use rustls;

#[cfg(feature = "test-ca")]
pub mod test_ca;
