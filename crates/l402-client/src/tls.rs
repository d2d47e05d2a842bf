//! The TLS configuration: rustls with the `ring` provider and the Mozilla root set, chosen
//! here rather than through a process-wide default provider, so building a client never panics
//! and never depends on what other code installed.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

/// rustls with `ring`, the webpki (Mozilla) roots, safe protocol versions, and ALPN for HTTP/2
/// and HTTP/1.1.
pub fn default_tls_config() -> Result<ClientConfig, rustls::Error> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Makes `ring` the process-wide rustls provider if no provider is installed yet.
///
/// Needed before building a `reqwest::Client` that does not bring its own TLS configuration
/// (for instance `l402_lightning::dev::DevWalletClient`): with reqwest's `rustls-no-provider`
/// feature on anywhere in the build (this crate turns it on), such a client panics without a
/// process default. Idempotent; an already installed provider is kept.
pub fn install_default_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_client_without_a_process_provider() {
        let config = default_tls_config().unwrap();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .build()
            .unwrap();
    }
}
