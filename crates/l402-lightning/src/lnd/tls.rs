//! TLS to LND: the node's self-signed `tls.cert` is pinned.
//!
//! LND's certificate is its own CA (`IsCA: true`), which web PKI validation refuses as an end
//! entity, and it names `localhost` and the node's interface addresses, which rarely match the
//! address a remote client dials. So instead of chain and name validation the server must
//! present exactly the pinned certificate; the handshake signatures are still checked with
//! rustls' `ring` provider. Without a pinned certificate, the Mozilla roots validate the server as
//! for any HTTPS site (an LND behind a reverse proxy with a public certificate).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::LndSetupError;
use super::credentials::PinnedCert;

/// Accepts exactly the pinned certificate(s).
#[derive(Debug)]
struct PinnedVerifier {
    pinned: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
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

/// The rustls client configuration for one LND node (hyper-rustls sets the ALPN protocols).
pub(crate) fn client_config(pinned: Option<&PinnedCert>) -> Result<ClientConfig, LndSetupError> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| LndSetupError::Tls(e.to_string()))?;
    let config = match pinned {
        Some(pinned) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                pinned: pinned.certs().to_vec(),
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        None => builder
            .with_root_certificates(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth(),
    };
    Ok(config)
}

/// A human hint for a TLS failure found in an error's source chain, if there is one.
pub(crate) fn explain(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(match tls {
                rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ) => "TLS: the node presented a certificate other than the pinned tls.cert \
                     (did LND regenerate it? copy the current tls.cert)"
                    .to_owned(),
                other => format!("TLS handshake failed: {other}"),
            });
        }
        // io::Error hides a wrapped error from `source()`: look inside.
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(hint) = explain(inner)
        {
            return Some(hint);
        }
        cur = e.source();
    }
    None
}
