//! Why the seller could not start or stop.

use std::path::PathBuf;

use l402_core::invoice::Network;
use l402_lightning::BackendError;
use l402_server::ServerError;
use l402_store::StoreError;

use crate::config::ConfigError;
use l402_lightning::spec::SetupError;

/// Why the seller could not start, or stopped with an error. Every variant keeps its cause as
/// its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SellerError {
    /// The configuration cannot be read or is not acceptable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The built-in sample API (zero-config mode) could not start.
    #[error("cannot start the built-in sample API")]
    Sample(#[source] std::io::Error),
    /// The data directory could not be created.
    #[error("cannot create the data directory {}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The store (database, master keys or revocations) could not be opened or read.
    #[error("{what} in {}", dir.display())]
    Store {
        /// What was being done.
        what: &'static str,
        /// The data directory.
        dir: PathBuf,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The backend `[backend]` selects could not be built or failed its preflight.
    #[error(transparent)]
    Backend(#[from] SetupError),
    /// The backend did not answer the node-info request at start.
    #[error("the Lightning backend did not answer within {0}s")]
    BackendTimeout(u64),
    /// The backend answered the node-info request with an error.
    #[error("asking the Lightning backend for its node info")]
    NodeInfo(#[source] BackendError),
    /// The dev wallet is on another network than regtest.
    #[error("dev mode refuses network {0}: it only runs on regtest")]
    DevOffRegtest(Network),
    /// The proxy could not start.
    #[error("starting the proxy")]
    ProxyStart(#[source] ServerError),
    /// The admin listener could not bind its address.
    #[error("starting the admin listener on {addr} (`[admin] listen`): is the port in use?")]
    AdminStart {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// `[store] url` names an environment variable or file that cannot be read.
    #[error("reading `[store] url`")]
    StoreUrl(#[source] l402_secret::SecretError),
    /// The admin macaroons could not be prepared.
    #[error("preparing the admin macaroons")]
    AdminSetup(#[source] crate::admin::auth::SetupError),
    /// The proxy stopped with an error.
    #[error("the proxy stopped with an error")]
    ProxyRun(#[source] ServerError),
    /// A background task of the seller panicked or was cancelled.
    #[error("the {0} task failed")]
    Task(&'static str, #[source] tokio::task::JoinError),
    /// The admin listener's certificate, key or client CA could not be loaded.
    #[error("loading the admin listener's TLS files (`[admin] tls_cert`, `tls_key`, `client_ca`)")]
    AdminTls(#[source] l402_tls::TlsError),
    /// A reload asked to change a setting only a restart can change (named); the running
    /// configuration is unchanged.
    #[error(
        "{0} cannot change while running: restart to apply it (the running configuration is unchanged)"
    )]
    NeedsRestart(&'static str),
    /// The proxy refused the new configuration; the running one is unchanged.
    #[error("the proxy refused the new configuration (the running configuration is unchanged)")]
    Reload(#[source] ServerError),
    /// A reload from the source was asked of a seller started from a configuration value.
    #[error(
        "this seller was started from a configuration value, not a file: there is nothing to read again"
    )]
    NoSource,
    /// A change could not be made to the configuration file's text.
    #[error("cannot change the configuration file")]
    Edit(#[source] crate::config::edit::EditError),
    /// The configuration file could not be read or replaced.
    #[error("cannot read or replace the configuration file {}", path.display())]
    WriteConfig {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The embedded dev wallet's API did not stop cleanly.
    #[error("stopping the dev wallet API")]
    WalletShutdown(#[source] std::io::Error),
}

impl SellerError {
    /// True when the configuration must change (the binary exits with its "bad input" code).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Config(_) | Self::StoreUrl(_) => true,
            Self::Backend(e) => e.is_bad_input(),
            Self::ProxyStart(ServerError::Config(_)) => true,
            Self::NeedsRestart(_) => true,
            Self::Edit(_) => true,
            Self::Reload(ServerError::Config(_) | ServerError::NeedsRestart(_)) => true,
            _ => false,
        }
    }
}
