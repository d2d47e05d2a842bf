//! The listener's TLS configuration, from the workspace's TLS home (ALPN `h2` and `http/1.1`).

use std::path::Path;

use crate::error::TlsError;

/// Loads a PEM certificate chain and private key into a server configuration.
pub(crate) fn load_server_config(
    cert: &Path,
    key: &Path,
) -> Result<rustls::ServerConfig, TlsError> {
    l402_tls::server_config(cert, key)
}
