//! TLS to LND: the node's self-signed `tls.cert` is pinned byte for byte (see
//! [`crate::pinned_tls`]); without one, the Mozilla roots.

use rustls::{CertificateError, ClientConfig};

use super::LndSetupError;
use super::credentials::PinnedCert;
use crate::pinned_tls;

/// The rustls client configuration for one LND node (hyper-rustls sets the ALPN protocols).
pub(crate) fn client_config(pinned: Option<&PinnedCert>) -> Result<ClientConfig, LndSetupError> {
    pinned_tls::client_config(pinned.map_or(&[][..], |p| p.certs()), false)
        .map_err(LndSetupError::Tls)
}

/// A human hint for a TLS failure found in an error's source chain, if there is one.
pub(crate) fn explain(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    pinned_tls::find_tls_error(err).map(|tls| match tls {
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure) => {
            "TLS: the node presented a certificate other than the pinned tls.cert \
             (did LND regenerate it? copy the current tls.cert)"
                .to_owned()
        }
        other => format!("TLS handshake failed: {other}"),
    })
}
