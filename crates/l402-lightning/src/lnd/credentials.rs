//! LND's two credentials: the macaroon (a bearer secret) and the TLS certificate to pin.
//!
//! Both can come from a file, from hex or base64 text (as in environment variables), or from raw
//! bytes. A certificate may be PEM (what LND writes to `tls.cert`) or DER.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls::pki_types::CertificateDer;

use super::LndSetupError;

/// Where a credential comes from.
///
/// `Debug` shows a file's path but never inline content.
#[derive(Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// A file: a binary macaroon (`admin.macaroon`, `invoice.macaroon`), a PEM or DER
    /// certificate, or a text file holding the hex or base64 of either.
    Path(PathBuf),
    /// Hex of the bytes (what `xxd -p -c0 admin.macaroon` and LND's `--btcd.rawrpccert` use).
    Hex(String),
    /// Base64 (standard or URL-safe alphabet, padded or not) of the bytes.
    Base64(String),
    /// The bytes themselves.
    Bytes(Vec<u8>),
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Hex(_) => f.write_str("Hex(<redacted>)"),
            Self::Base64(_) => f.write_str("Base64(<redacted>)"),
            Self::Bytes(_) => f.write_str("Bytes(<redacted>)"),
        }
    }
}

impl CredentialSource {
    /// Reads a credential given as one string, e.g. from an environment variable: PEM text is
    /// taken as is, a string of hex digits as hex, anything else that decodes as base64 as
    /// base64, and otherwise the string names a file.
    pub fn detect(value: &str) -> Self {
        let v = value.trim();
        if v.starts_with("-----BEGIN") {
            return Self::Bytes(v.as_bytes().to_vec());
        }
        if !v.is_empty() && v.len().is_multiple_of(2) && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Self::Hex(v.to_owned());
        }
        if v.len() >= 16 && decode_base64(v).is_some() && !Path::new(v).exists() {
            return Self::Base64(v.to_owned());
        }
        Self::Path(PathBuf::from(v))
    }

    /// The credential's bytes. A file whose whole content is hex or base64 text is decoded.
    pub fn load(&self, what: &'static str) -> Result<Vec<u8>, LndSetupError> {
        match self {
            Self::Path(path) => {
                let raw = std::fs::read(path).map_err(|source| LndSetupError::ReadFile {
                    what,
                    path: path.clone(),
                    source,
                })?;
                Ok(decode_text_file(raw))
            }
            Self::Hex(h) => hex::decode(h.trim()).map_err(|_| LndSetupError::Encoding {
                what,
                detail: "not valid hex".into(),
            }),
            Self::Base64(b) => decode_base64(b.trim()).ok_or_else(|| LndSetupError::Encoding {
                what,
                detail: "not valid base64".into(),
            }),
            Self::Bytes(b) => Ok(b.clone()),
        }
    }
}

/// A file holding hex or base64 text instead of the binary credential: decode it. PEM and
/// binary content is returned unchanged.
fn decode_text_file(raw: Vec<u8>) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(&raw) else {
        return raw;
    };
    let t = text.trim();
    if t.starts_with("-----BEGIN") || t.is_empty() {
        return raw;
    }
    if t.len().is_multiple_of(2)
        && t.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(bytes) = hex::decode(t)
    {
        return bytes;
    }
    if t.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
        && let Some(bytes) = decode_base64(t)
    {
        return bytes;
    }
    raw
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())
}

/// An LND macaroon, kept as the hex LND expects in the `Grpc-Metadata-macaroon` header.
///
/// A bearer secret: `Debug` is redacted and the value is never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Macaroon {
    hex: String,
}

impl fmt::Debug for Macaroon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Macaroon(<redacted>)")
    }
}

impl Macaroon {
    /// Loads and checks a macaroon: it must be a binary (v1 or v2) macaroon, as LND bakes them.
    pub fn load(source: &CredentialSource) -> Result<Self, LndSetupError> {
        Self::from_bytes(&source.load("macaroon")?)
    }

    /// A macaroon from its binary serialization.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LndSetupError> {
        // Binary v2 macaroons start with the version byte 2; v1 with a packet length in hex.
        let plausible = match bytes.first() {
            Some(2) => bytes.len() > 8,
            Some(b) => b.is_ascii_hexdigit() && bytes.len() > 8,
            None => false,
        };
        if !plausible {
            return Err(LndSetupError::Encoding {
                what: "macaroon",
                detail: "not a binary macaroon (expected the content of e.g. invoice.macaroon, \
                         or its hex or base64)"
                    .into(),
            });
        }
        Ok(Self {
            hex: hex::encode(bytes),
        })
    }

    /// The hex for the `Grpc-Metadata-macaroon` header (a secret).
    pub(crate) fn header_value(&self) -> &str {
        &self.hex
    }
}

/// The certificate(s) to pin: LND's self-signed `tls.cert`.
#[derive(Clone, PartialEq, Eq)]
pub struct PinnedCert {
    certs: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for PinnedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedCert")
            .field("certificates", &self.certs.len())
            .finish()
    }
}

impl PinnedCert {
    /// Loads a PEM (one or more `CERTIFICATE` blocks) or DER certificate.
    pub fn load(source: &CredentialSource) -> Result<Self, LndSetupError> {
        Self::from_bytes(&source.load("TLS certificate")?)
    }

    /// A certificate from PEM or DER bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LndSetupError> {
        l402_tls::certs_from_pem_or_der(bytes, "LND tls.cert (PEM or DER)")
            .map(|certs| Self { certs })
            .map_err(|e| LndSetupError::Encoding {
                what: "TLS certificate",
                detail: e.to_string(),
            })
    }

    /// The pinned certificates, DER.
    pub(crate) fn certs(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: &[u8] = &[2, 1, 3, 108, 110, 100, 2, 4, 49, 50, 51, 52];

    #[test]
    fn detect_and_load_every_encoding() {
        let hex_s = hex::encode(MAC);
        let b64 = base64::engine::general_purpose::STANDARD.encode(MAC);
        assert_eq!(
            CredentialSource::detect(&hex_s),
            CredentialSource::Hex(hex_s.clone())
        );
        assert_eq!(
            CredentialSource::detect(&b64),
            CredentialSource::Base64(b64.clone())
        );
        assert_eq!(
            CredentialSource::detect("/no/such/admin.macaroon"),
            CredentialSource::Path("/no/such/admin.macaroon".into())
        );
        for src in [
            CredentialSource::Hex(hex_s.clone()),
            CredentialSource::Base64(b64.clone()),
            CredentialSource::Bytes(MAC.to_vec()),
        ] {
            assert_eq!(Macaroon::load(&src).unwrap().header_value(), hex_s);
        }
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in [
            ("bin", MAC.to_vec()),
            ("hex", format!("{hex_s}\n").into_bytes()),
            ("b64", b64.clone().into_bytes()),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, content).unwrap();
            let m = Macaroon::load(&CredentialSource::Path(p)).unwrap();
            assert_eq!(m.header_value(), hex_s, "{name}");
        }
    }

    #[test]
    fn secrets_are_redacted_and_errors_name_the_file() {
        let hex_s = hex::encode(MAC);
        let m = Macaroon::load(&CredentialSource::Hex(hex_s.clone())).unwrap();
        assert!(!format!("{m:?}").contains(&hex_s));
        assert!(!format!("{:?}", CredentialSource::Hex(hex_s.clone())).contains(&hex_s));
        let err = Macaroon::load(&CredentialSource::Path("/no/such/invoice.macaroon".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/no/such/invoice.macaroon"), "{err}");
        assert!(Macaroon::from_bytes(b"").is_err());
        assert!(Macaroon::from_bytes(b"\x00\x01garbage-bytes").is_err());
    }

    #[test]
    fn certificates_from_pem_or_der() {
        assert!(PinnedCert::from_bytes(b"not a cert").is_err());
        assert!(
            PinnedCert::from_bytes(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        let der = [0x30u8, 0x03, 0x02, 0x01, 0x01];
        assert_eq!(PinnedCert::from_bytes(&der).unwrap().certs().len(), 1);
    }
}
