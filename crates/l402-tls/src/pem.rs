//! Reading certificates from PEM files and text.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::TlsError;

/// Every certificate in a PEM file, in order. A file with none is an error.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Pem {
            what: "certificates",
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

/// Every certificate in PEM text (`what` names the text in the error, e.g. "tls.cert").
pub fn certs_from_pem(
    pem: &[u8],
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsError::NoInlineCertificate(what))?;
    if certs.is_empty() {
        return Err(TlsError::NoInlineCertificate(what));
    }
    Ok(certs)
}

/// Every certificate in PEM text, or the one certificate of DER bytes (an ASN.1 SEQUENCE), as
/// a node's `tls.cert` or `ca.pem` may come either way. `what` names it in the error.
pub fn certs_from_pem_or_der(
    bytes: &[u8],
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let looks_pem = bytes
        .windows(b"-----BEGIN".len())
        .any(|w| w == b"-----BEGIN");
    if looks_pem {
        certs_from_pem(bytes, what)
    } else if bytes.first() == Some(&0x30) {
        Ok(vec![CertificateDer::from(bytes.to_vec())])
    } else {
        Err(TlsError::NoInlineCertificate(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = load_certs(&path).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate(_)), "{err}");
        assert!(err.to_string().contains("empty.pem"));
    }

    #[test]
    fn inline_text_without_certificates_is_refused() {
        let err = certs_from_pem(b"garbage", "tls.cert").unwrap_err();
        assert_eq!(err.to_string(), "no PEM certificate in the given tls.cert");
    }

    #[test]
    fn pem_or_der() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let der = cert.cert.der().to_vec();
        assert_eq!(
            certs_from_pem_or_der(&der, "x").unwrap()[0].as_ref(),
            &der[..]
        );
        let pem = cert.cert.pem();
        assert_eq!(
            certs_from_pem_or_der(pem.as_bytes(), "x").unwrap()[0].as_ref(),
            &der[..]
        );
        assert!(certs_from_pem_or_der(b"hello", "x").is_err());
    }

    #[test]
    fn reads_a_generated_certificate() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let certs = certs_from_pem(cert.cert.pem().as_bytes(), "test").unwrap();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].as_ref(), cert.cert.der().as_ref());
    }
}
