//! Errors building a TLS configuration.

use std::path::PathBuf;

/// Why a TLS configuration could not be built. Each variant names the file it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("cannot read {what} from {path}: {source}")]
    Pem {
        /// What was being read ("certificates", "private key").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The parser's or the file system's error.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// A certificate file holds no certificate.
    #[error("{0} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificate(PathBuf),
    /// A certificate in a CA file cannot serve as a trust anchor.
    #[error("{path}: a certificate cannot be used as a CA: {source}")]
    BadCa {
        /// The CA file.
        path: PathBuf,
        /// rustls' reason.
        #[source]
        source: rustls::Error,
    },
    /// A certificate's DER does not parse as X.509.
    #[error("{path}: not a valid X.509 certificate: {detail}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        detail: String,
    },
    /// PEM text given inline holds no certificate or does not parse.
    #[error("no PEM certificate in the given {0}")]
    NoInlineCertificate(&'static str),
    /// rustls refused the configuration (for example a key that does not match the chain).
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// The HTTP client could not be built.
    #[cfg(feature = "reqwest")]
    #[error("building the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}
