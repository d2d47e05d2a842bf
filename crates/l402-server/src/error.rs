//! Errors of building and running the proxy.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::ConfigError;

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
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// The listener's certificate or key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("cannot load {}: {message}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The certificate file holds no certificate.
    #[error("no certificate found in {}", .0.display())]
    NoCertificate(PathBuf),
    /// rustls refused the certificate/key pair.
    #[error("invalid TLS certificate or key: {0}")]
    Rustls(#[source] rustls::Error),
}

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
    /// A CA file could not be used.
    #[error("cannot load CA certificates from {}: {message}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// rustls could not build a client configuration.
    #[error("TLS client configuration: {0}")]
    Tls(#[source] rustls::Error),
}
