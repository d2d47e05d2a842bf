//! TLS to LND: the node's self-signed `tls.cert` is pinned byte for byte
//! ([`l402_tls::Trust::Pinned`]); without one, the Mozilla roots.

use l402_tls::Trust;
use rustls::{CertificateError, ClientConfig};

use super::LndSetupError;
use super::credentials::PinnedCert;

/// How one LND node is trusted: its `tls.cert` pinned, or the web PKI without one.
pub(crate) fn trust(pinned: Option<&PinnedCert>) -> Trust {
    Trust::Pinned {
        certs: pinned.map_or_else(Vec::new, |p| p.certs().to_vec()),
        as_ca: false,
    }
}

/// The rustls client configuration for one LND node (hyper-rustls sets the ALPN protocols).
pub(crate) fn client_config(pinned: Option<&PinnedCert>) -> Result<ClientConfig, LndSetupError> {
    trust(pinned)
        .client_config()
        .map_err(|e| LndSetupError::Tls(e.to_string()))
}

/// A human hint for a TLS failure found in an error's source chain, if there is one.
pub(crate) fn explain(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    match l402_tls::find_tls_error(err)? {
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure) => {
            Some(
                "TLS: the node presented a certificate other than the pinned tls.cert \
             (did LND regenerate it? copy the current tls.cert)"
                    .to_owned(),
            )
        }
        _ => l402_tls::explain(err),
    }
}
