//! How a client decides to trust a server: [`Trust`].

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WantsClientCert;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, ConfigBuilder, RootCertStore};

use crate::server::load_chain_and_key;
use crate::verifiers::{NoVerification, PinnedVerifier};
use crate::{TlsError, load_certs, provider};

/// The environment variable naming a CA bundle that replaces the web PKI roots, as for curl
/// and OpenSSL.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// How a TLS client verifies the server it connects to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Trust {
    /// The Mozilla root set (webpki-roots), names checked: any public HTTPS site.
    #[default]
    WebPki,
    /// Only the CA certificates in this PEM file, names checked (curl's `--cacert`).
    CaFile(PathBuf),
    /// A node that signs its own certificates (LND's `tls.cert`, CLN's `ca.pem`): the server
    /// must present one of `certs` byte for byte or, when `as_ca`, a chain to one of them.
    /// Names are not checked, since a node's certificate rarely names the address a remote
    /// client dials. With `certs` empty this is [`Trust::WebPki`].
    Pinned {
        /// The pinned certificates.
        certs: Vec<CertificateDer<'static>>,
        /// Also accept certificates signed by the pinned ones.
        as_ca: bool,
    },
    /// No certificate verification at all (handshake signatures are still checked). Every
    /// configuration built with it logs a warning.
    Insecure,
}

impl Trust {
    /// [`Trust::CaFile`] when `SSL_CERT_FILE` names a file, else [`Trust::WebPki`].
    pub fn from_env() -> Self {
        match std::env::var_os(SSL_CERT_FILE) {
            Some(path) if !path.is_empty() => Self::CaFile(path.into()),
            _ => Self::WebPki,
        }
    }

    /// Whether certificates go unverified.
    pub fn is_insecure(&self) -> bool {
        matches!(self, Self::Insecure)
    }

    /// A rustls client configuration without ALPN (for WebSockets and connectors that set
    /// their own protocols).
    pub fn client_config(&self) -> Result<ClientConfig, TlsError> {
        Ok(self.verifying_builder()?.with_no_client_auth())
    }

    /// [`Trust::client_config`] presenting `identity` to servers that ask for a client
    /// certificate (mutual TLS).
    pub fn client_config_with_identity(
        &self,
        identity: &ClientIdentity,
    ) -> Result<ClientConfig, TlsError> {
        let (chain, key) = load_chain_and_key(&identity.cert, &identity.key)?;
        Ok(self
            .verifying_builder()?
            .with_client_auth_cert(chain, key)?)
    }

    /// A client configuration builder that verifies servers as `self` says.
    fn verifying_builder(&self) -> Result<ConfigBuilder<ClientConfig, WantsClientCert>, TlsError> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?;
        let config = match self {
            Self::WebPki => builder.with_root_certificates(web_pki_roots()),
            Self::Pinned { certs, .. } if certs.is_empty() => {
                builder.with_root_certificates(web_pki_roots())
            }
            Self::CaFile(path) => {
                let mut roots = RootCertStore::empty();
                for cert in load_certs(path)? {
                    roots.add(cert).map_err(|source| TlsError::BadCa {
                        path: path.clone(),
                        source,
                    })?;
                }
                builder.with_root_certificates(roots)
            }
            Self::Pinned { certs, as_ca } => {
                let verifier = PinnedVerifier::new(certs.clone(), *as_ca, &provider);
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
            }
            Self::Insecure => {
                tracing::warn!(
                    "TLS certificate verification is OFF (insecure mode): any server can \
                     impersonate the one you meant to reach"
                );
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(NoVerification::new(&provider)))
            }
        };
        Ok(config)
    }

    /// [`Trust::client_config`] with ALPN `h2` then `http/1.1`, for HTTP clients that
    /// negotiate the version over TLS.
    pub fn http_client_config(&self) -> Result<ClientConfig, TlsError> {
        Ok(with_http_alpn(self.client_config()?))
    }

    /// [`Trust::client_config_with_identity`] with ALPN `h2` then `http/1.1`.
    pub fn http_client_config_with_identity(
        &self,
        identity: &ClientIdentity,
    ) -> Result<ClientConfig, TlsError> {
        Ok(with_http_alpn(self.client_config_with_identity(identity)?))
    }
}

fn with_http_alpn(mut config: ClientConfig) -> ClientConfig {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// A client certificate chain and its private key (PEM files), presented to servers that
/// require mutual TLS.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientIdentity {
    /// The PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// The PEM private key of the leaf.
    pub key: PathBuf,
}

impl ClientIdentity {
    /// The identity in `cert` and `key`.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
        }
    }
}

fn web_pki_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}
