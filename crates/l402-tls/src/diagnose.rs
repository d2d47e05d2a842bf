//! Finding the TLS failure inside an error chain and saying what to do about it.

use rustls::CertificateError;

/// The first rustls error in an error's source chain, looking inside `io::Error`s too (they
/// hide what they wrap from `source()`).
pub fn find_tls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
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

/// A one-line explanation, with the next step, of the TLS failure in an error chain, if there
/// is one. Backends with their own certificates (LND, CLN) add their own hints first.
pub fn explain(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let tls = find_tls_error(err)?;
    Some(match tls {
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => "TLS: the server's certificate is not signed by a trusted CA (for a private CA \
             pass --cacert FILE or set SSL_CERT_FILE)"
            .to_owned(),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "TLS: the server's certificate has expired".to_owned(),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
        ) => "TLS: the server's certificate is not valid yet (check the clock)".to_owned(),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "TLS: the server's certificate does not name the host in the URL".to_owned(),
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure) => {
            "TLS: the server presented a certificate other than the pinned one".to_owned()
        }
        rustls::Error::InvalidMessage(_) => {
            "TLS handshake failed: the server does not speak TLS here (try http://)".to_owned()
        }
        other => format!("TLS handshake failed: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_tls_error_wrapped_in_io() {
        let io = std::io::Error::other(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        let hint = explain(&io).unwrap();
        assert!(hint.contains("--cacert"), "{hint}");
        assert!(explain(&std::io::Error::other("plain")).is_none());
    }
}
