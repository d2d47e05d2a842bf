//! TLS to CLNRest: trust CLN's own CA (`ca.pem`, "cln Root REST CA"), not the web PKI.
//!
//! CLN signs its REST certificate with a private CA and names it `cln rest server`, `cln`,
//! `localhost` and the `clnrest-host` IP, so the chain is validated against the pinned CA only and
//! names are not checked ([`l402_tls::Trust::Pinned`]): only someone holding that CA's key can pass.
//! A pinned certificate that is the server's own is accepted byte for byte.

use rustls::{CertificateError, ClientConfig};

use super::{ClnSetupError, PinnedCa};

/// The rustls client configuration for one CLNRest server (hyper-rustls sets ALPN).
pub(crate) fn client_config(ca: Option<&PinnedCa>) -> Result<ClientConfig, ClnSetupError> {
    let certs = ca.map_or_else(Vec::new, |c| c.certs().to_vec());
    l402_tls::Trust::Pinned { certs, as_ca: true }
        .client_config()
        .map_err(|e| ClnSetupError::Tls(e.to_string()))
}

/// A human hint for a TLS failure found in an error's source chain, if there is one. `pinned`:
/// whether a CA is configured.
pub(crate) fn explain(err: &(dyn std::error::Error + 'static), pinned: bool) -> Option<String> {
    l402_tls::find_tls_error(err).map(|tls| match tls {
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
    })
}
