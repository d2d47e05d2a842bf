//! How a client decides to trust a server: [`Trust`].

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

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
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?;
        let config = match self {
            Self::WebPki => builder
                .with_root_certificates(web_pki_roots())
                .with_no_client_auth(),
            Self::Pinned { certs, .. } if certs.is_empty() => builder
                .with_root_certificates(web_pki_roots())
                .with_no_client_auth(),
            Self::CaFile(path) => {
                let mut roots = RootCertStore::empty();
                for cert in load_certs(path)? {
                    roots.add(cert).map_err(|source| TlsError::BadCa {
                        path: path.clone(),
                        source,
                    })?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Self::Pinned { certs, as_ca } => {
                let verifier = PinnedVerifier::new(certs.clone(), *as_ca, &provider);
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth()
            }
            Self::Insecure => {
                tracing::warn!(
                    "TLS certificate verification is OFF (insecure mode): any server can \
                     impersonate the one you meant to reach"
                );
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(NoVerification::new(&provider)))
                    .with_no_client_auth()
            }
        };
        Ok(config)
    }

    /// [`Trust::client_config`] with ALPN `h2` then `http/1.1`, for HTTP clients that
    /// negotiate the version over TLS.
    pub fn http_client_config(&self) -> Result<ClientConfig, TlsError> {
        let mut config = self.client_config()?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

fn web_pki_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}
