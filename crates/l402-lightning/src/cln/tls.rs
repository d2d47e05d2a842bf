//! TLS to CLNRest: trust CLN's own CA, not the web PKI.
//!
//! CLN generates a private CA (`ca.pem`, "cln Root REST CA") and signs the server certificate
//! with it, naming it `cln rest server`, `cln`, `localhost` and the `clnrest-host` IP. A client
//! dialing the node by another name or address would fail name validation although the
//! certificate is exactly the node's, so the chain is validated against the pinned CA only and
//! names are not checked: only someone holding that CA's key can pass. A pinned certificate that
//! is the server's own certificate is accepted byte for byte. The handshake signatures are always
//! checked with rustls' `ring` provider.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::{ClnSetupError, PinnedCa};

/// Accepts a server certificate that chains to the pinned CA (or is a pinned certificate).
#[derive(Debug)]
struct CaVerifier {
    pinned: Vec<CertificateDer<'static>>,
    roots: RootCertStore,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for CaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        if self.roots.is_empty() {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ));
        }
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The rustls client configuration for one CLNRest server (hyper-rustls sets ALPN).
pub(crate) fn client_config(ca: Option<&PinnedCa>) -> Result<ClientConfig, ClnSetupError> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClnSetupError::Tls(e.to_string()))?;
    let config = match ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            // A certificate that is not a usable trust anchor (e.g. the server's own
            // certificate) is still pinned byte for byte.
            let (_added, _ignored) = roots.add_parsable_certificates(ca.certs().iter().cloned());
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(CaVerifier {
                    pinned: ca.certs().to_vec(),
                    roots,
                    algorithms: provider.signature_verification_algorithms,
                }))
                .with_no_client_auth()
        }
        None => builder
            .with_root_certificates(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth(),
    };
    Ok(config)
}

/// A human hint for a TLS failure found in an error's source chain, if there is one. `pinned`:
/// whether a CA is configured.
pub(crate) fn explain(err: &(dyn std::error::Error + 'static), pinned: bool) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(match tls {
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) if !pinned => {
                    "TLS: the server's certificate is not signed by a public CA; CLN signs it \
                     with its own CA: set `ca_cert_path` to the node's ca.pem (in the \
                     clnrest-certs directory)"
                        .to_owned()
                }
                rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer | CertificateError::BadSignature,
                ) => "TLS: the server's certificate is not signed by the configured CA (is \
                      `ca_cert_path` this node's ca.pem from the clnrest-certs directory? CLN \
                      makes new certificates when that directory is emptied)"
                    .to_owned(),
                rustls::Error::InvalidCertificate(CertificateError::Expired) => {
                    "TLS: the server's certificate has expired".to_owned()
                }
                rustls::Error::InvalidMessage(_) => {
                    "TLS handshake failed: the server does not speak TLS here (is it run with \
                     clnrest-protocol=http? then use an http:// URL)"
                        .to_owned()
                }
                other => format!("TLS handshake failed: {other}"),
            });
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(hint) = explain(inner, pinned)
        {
            return Some(hint);
        }
        cur = e.source();
    }
    None
}
