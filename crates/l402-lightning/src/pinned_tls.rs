//! TLS to a Lightning node that signs its own certificates (LND's `tls.cert`, CLN's `ca.pem`):
//! trust the pinned certificates, not the web PKI, and never check names.
//!
//! A node's certificate names `localhost` and its interface addresses, which rarely match what a
//! remote client dials, and LND's certificate is its own CA, which web PKI validation refuses as
//! an end entity. So the server must present a pinned certificate byte for byte, or (when the
//! pinned certificates are trusted as a CA) one that chains to them. Handshake signatures are
//! always checked with rustls' `ring` provider. With nothing pinned, the Mozilla roots validate
//! the server as for any HTTPS site (a node behind a reverse proxy with a public certificate).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// Accepts a pinned certificate, or one that chains to `roots` when that is not empty.
#[derive(Debug)]
struct PinnedVerifier {
    pinned: Vec<CertificateDer<'static>>,
    roots: RootCertStore,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
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
                CertificateError::ApplicationVerificationFailure,
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

/// A rustls client configuration trusting `pinned` byte for byte, and also as CAs when
/// `trust_as_ca`; with nothing pinned, the Mozilla roots. hyper-rustls sets ALPN. The error is
/// rustls' own message.
pub(crate) fn client_config(
    pinned: &[CertificateDer<'static>],
    trust_as_ca: bool,
) -> Result<ClientConfig, String> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if pinned.is_empty() {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        return Ok(builder.with_root_certificates(roots).with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    if trust_as_ca {
        // A certificate that is not a usable trust anchor stays pinned byte for byte.
        let (_added, _ignored) = roots.add_parsable_certificates(pinned.iter().cloned());
    }
    let verifier = PinnedVerifier {
        pinned: pinned.to_vec(),
        roots,
        algorithms: provider.signature_verification_algorithms,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The first rustls error in an error's source chain, looking inside `io::Error`s too (they hide
/// what they wrap from `source()`).
pub(crate) fn find_tls_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = find_tls_error(inner)
        {
            return Some(tls);
        }
        cur = e.source();
    }
    None
}
