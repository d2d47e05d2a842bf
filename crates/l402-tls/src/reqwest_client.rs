//! A reqwest client builder with this crate's TLS configuration.

use crate::{ClientIdentity, TlsError, Trust, install_default_provider};

/// A `reqwest::ClientBuilder` that verifies servers as `trust` says (ALPN `h2`, `http/1.1`).
///
/// Every reqwest client of the workspace starts here: the provider is installed first, so no
/// client in the process can panic for lack of one.
pub fn reqwest_builder(trust: &Trust) -> Result<reqwest::ClientBuilder, TlsError> {
    install_default_provider();
    Ok(reqwest::Client::builder().tls_backend_preconfigured(trust.http_client_config()?))
}

/// [`reqwest_builder`] that also presents `identity` to servers requiring a client certificate
/// (mutual TLS).
pub fn reqwest_builder_with_identity(
    trust: &Trust,
    identity: &ClientIdentity,
) -> Result<reqwest::ClientBuilder, TlsError> {
    install_default_provider();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(trust.http_client_config_with_identity(identity)?))
}
