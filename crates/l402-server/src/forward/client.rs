//! Upstream HTTP clients: hyper-util's pooled legacy client over rustls (ring provider).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::body::Body;
use crate::error::ClientBuildError;

/// The client type used for every upstream.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Body>;

/// How an upstream's certificate is verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TlsTrust {
    /// Mozilla's web PKI roots (webpki-roots).
    WebPki,
    /// Only the CA certificates in this PEM file.
    CustomCa(PathBuf),
    /// No verification (`insecure_skip_verify = true`).
    Insecure,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the CA certificates of a PEM file into a root store.
pub(crate) fn load_roots(path: &Path) -> Result<RootCertStore, ClientBuildError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ClientBuildError::CaFile {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(ClientBuildError::CaFile {
            path: path.to_owned(),
            message: "no certificate found".to_owned(),
        });
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| ClientBuildError::CaFile {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    }
    Ok(roots)
}

fn tls_config(trust: &TlsTrust) -> Result<rustls::ClientConfig, ClientBuildError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(ClientBuildError::Tls)?;
    Ok(match trust {
        TlsTrust::WebPki => {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsTrust::CustomCa(path) => builder
            .with_root_certificates(load_roots(path)?)
            .with_no_client_auth(),
        TlsTrust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth(),
    })
}

/// Builds clients, sharing one pool between services with the same settings.
pub(crate) struct ClientFactory {
    connect_timeout: Duration,
    cache: HashMap<(TlsTrust, bool), HttpClient>,
}

impl ClientFactory {
    pub(crate) fn new(connect_timeout: Duration) -> Self {
        Self {
            connect_timeout,
            cache: HashMap::new(),
        }
    }

    /// A client for `trust`; `h2_only` selects HTTP/2 prior knowledge (h2c).
    pub(crate) fn client(
        &mut self,
        trust: TlsTrust,
        h2_only: bool,
    ) -> Result<HttpClient, ClientBuildError> {
        let key = (trust, h2_only);
        if let Some(client) = self.cache.get(&key) {
            return Ok(client.clone());
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(&key.0)?)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .http2_only(h2_only)
            .build(connector);
        self.cache.insert(key, client.clone());
        Ok(client)
    }
}

/// Accepts any certificate but still checks handshake signatures.
/// Used only with `insecure_skip_verify = true`.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
