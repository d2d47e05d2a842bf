//! What a certificate file says about itself: its subject and validity period, for checks
//! such as `l402 doctor` (feature `inspect`).

use std::path::Path;

use crate::{TlsError, load_certs};

/// The validity period of the first (leaf) certificate of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateValidity {
    /// The subject, as `CN=example.com` (RFC 4514).
    pub subject: String,
    /// Not valid before this instant, Unix seconds.
    pub not_before_unix: i64,
    /// Not valid after this instant, Unix seconds.
    pub not_after_unix: i64,
}

/// The validity of the first certificate in the PEM file `path`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let err = l402_tls::leaf_validity(std::path::Path::new("/nonexistent.pem")).unwrap_err();
/// assert!(err.to_string().contains("/nonexistent.pem"));
/// # Ok(())
/// # }
/// ```
pub fn leaf_validity(path: &Path) -> Result<CertificateValidity, TlsError> {
    let certs = load_certs(path)?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(&certs[0]).map_err(|e| TlsError::BadCertificate {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    let validity = cert.validity();
    Ok(CertificateValidity {
        subject: cert.subject().to_string(),
        not_before_unix: validity.not_before.timestamp(),
        not_after_unix: validity.not_after.timestamp(),
    })
}

#[cfg(all(test, feature = "test-ca"))]
mod tests {
    use super::*;
    use crate::test_ca::TestCa;

    #[test]
    fn reads_valid_and_expired_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let valid = ca.write(dir.path(), &ca.issue(&["localhost"])).unwrap();
        let v = leaf_validity(&valid.cert).unwrap();
        assert!(v.not_before_unix <= now && now < v.not_after_unix, "{v:?}");
        let expired_dir = tempfile::tempdir().unwrap();
        let expired = ca
            .write(expired_dir.path(), &ca.issue_expired(&["localhost"]))
            .unwrap();
        let e = leaf_validity(&expired.cert).unwrap();
        assert!(e.not_after_unix < now, "{e:?}");
    }

    #[test]
    fn garbage_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = leaf_validity(&path).unwrap_err().to_string();
        assert!(err.contains("cert.pem"), "{err}");
    }
}
