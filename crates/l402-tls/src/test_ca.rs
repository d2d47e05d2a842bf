//! A throwaway certificate authority for tests (feature `test-ca`): server certificates for
//! loopback names, valid or already expired, as PEM text or files.
//!
//! ```
//! let ca = l402_tls::test_ca::TestCa::new();
//! let leaf = ca.issue(&["localhost", "127.0.0.1"]);
//! let dir = tempfile::tempdir().unwrap();
//! let files = ca.write(dir.path(), &leaf).unwrap();
//! let server = l402_tls::server_config(&files.cert, &files.key).unwrap();
//! assert!(!server.alpn_protocols.is_empty());
//! let client = l402_tls::Trust::CaFile(files.ca).client_config().unwrap();
//! # let _ = client;
//! ```

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

/// A CA whose key lives only in memory.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A server certificate and its key, as PEM.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
}

/// Where [`TestCa::write`] put the files.
#[derive(Debug, Clone)]
pub struct TestCaFiles {
    /// The CA certificate (what a client trusts).
    pub ca: PathBuf,
    /// The server certificate.
    pub cert: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// A new CA named "l402 test CA".
    pub fn new() -> Self {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(DnType::CommonName, "l402 test CA");
        let key = KeyPair::generate().expect("generating a key pair");
        let cert = params.self_signed(&key).expect("self-signing the test CA");
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate as PEM.
    pub fn ca_pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid now.
    pub fn issue(&self, names: &[&str]) -> Issued {
        self.issue_with(names, false)
    }

    /// A server certificate for `names` that expired in 2001.
    pub fn issue_expired(&self, names: &[&str]) -> Issued {
        self.issue_with(names, true)
    }

    fn issue_with(&self, names: &[&str], expired: bool) -> Issued {
        let mut params = CertificateParams::default();
        for name in names {
            params.subject_alt_names.push(match name.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into().expect("a valid DNS name")),
            });
        }
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or("test"));
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().expect("generating a key pair");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("signing with the test CA");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// Writes `ca.pem`, `cert.pem` and `key.pem` for `leaf` into `dir`.
    pub fn write(&self, dir: &Path, leaf: &Issued) -> std::io::Result<TestCaFiles> {
        let files = TestCaFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.ca, &self.pem)?;
        std::fs::write(&files.cert, &leaf.cert_pem)?;
        std::fs::write(&files.key, &leaf.key_pem)?;
        Ok(files)
    }
}
