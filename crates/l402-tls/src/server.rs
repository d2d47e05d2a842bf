//! A listener's TLS configuration.

use std::path::Path;

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::{TlsError, load_certs, provider};

/// A PEM certificate chain and the PEM private key of its leaf.
pub(crate) fn load_chain_and_key(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let chain = load_certs(cert)?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Pem {
        what: "private key",
        path: key.to_owned(),
        source,
    })?;
    Ok((chain, key_der))
}

/// Loads a PEM certificate chain and private key into a server configuration with ALPN `h2`
/// and `http/1.1`.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let (chain, key_der) = load_chain_and_key(cert, key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// [`server_config`] that also requires every client to present a certificate chaining to one
/// of the CA certificates in `client_ca` (mutual TLS): a client without one, or with another,
/// fails the handshake.
pub fn server_config_requiring_client_certs(
    cert: &Path,
    key: &Path,
    client_ca: &Path,
) -> Result<rustls::ServerConfig, TlsError> {
    let (chain, key_der) = load_chain_and_key(cert, key)?;
    let mut roots = RootCertStore::empty();
    for ca in load_certs(client_ca)? {
        roots.add(ca).map_err(|source| TlsError::BadCa {
            path: client_ca.to_owned(),
            source,
        })?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_chain_and_key_and_refuses_a_missing_key() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
        let config = server_config(&cert_path, &key_path).unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");

        let err = server_config(&cert_path, &dir.path().join("missing.pem")).unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");
        assert!(err.to_string().contains("missing.pem"), "{err}");
    }
}
