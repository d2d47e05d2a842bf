//! Errors of building and running the proxy.

use std::net::SocketAddr;

use crate::config::ConfigError;
use crate::forward::target::UpstreamError;
use crate::routing::pattern::PatternError;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is not acceptable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS certificate or key could not be loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An upstream client could not be built.
    #[error(transparent)]
    Client(#[from] ClientBuildError),
    /// The listening socket could not be opened (the IO error is the source, printed once by
    /// whoever prints the chain).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A reload asked to change a setting only a restart can change; nothing was changed.
    #[error(
        "{0} cannot change while running: restart to apply it (the running configuration is unchanged)"
    )]
    NeedsRestart(&'static str),
    /// A reload came after the server stopped.
    #[error("the server has stopped; nothing to reload")]
    Stopped,
}

/// A certificate, key or CA file could not be used (from the workspace's TLS home).
pub use l402_tls::TlsError;

/// An upstream client could not be built for a service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientBuildError {
    /// A service's settings cannot be used.
    #[error("service `{service}`: {message}")]
    Service {
        /// The service name.
        service: String,
        /// What is wrong.
        message: String,
    },
    /// A service's `upstream` is not a usable URL.
    #[error("service `{service}`: {source}")]
    Upstream {
        /// The service name.
        service: String,
        /// What is wrong with the URL.
        #[source]
        source: UpstreamError,
    },
    /// A service's `path_prefix` cannot be compiled.
    #[error("service `{service}`: {source}")]
    PathPrefix {
        /// The service name.
        service: String,
        /// What is wrong with the prefix.
        #[source]
        source: PatternError,
    },
    /// The TLS configuration (a CA file, for instance) could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}
