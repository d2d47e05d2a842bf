//! Core Lightning as a [`LightningBackend`](crate::LightningBackend), over CLNRest (feature
//! `cln`).
//!
//! CLNRest is the REST plugin bundled with Core Lightning (`clnrest-port`, `clnrest-host`,
//! `clnrest-protocol`, `clnrest-certs`): every JSON-RPC method is `POST /v1/<method>` with the
//! parameters as a JSON object, authorized by a rune in the `Rune` header, and answered with the
//! method's JSON result (status 201) or the JSON-RPC error `{code, message, data}` (401/403 for
//! rune problems, 404 for an unknown method, 500 for every other error).
//!
//! [`ClnRest`] talks HTTPS to it and trusts only CLN's own CA (`ca.pem` in the `clnrest-certs`
//! directory): the server certificate must chain to that CA, and its names are not checked,
//! because CLN names its server certificate `cln`, `localhost` and the listen IP, which rarely
//! match the address a remote client dials.
//!
//! | trait method | CLN method |
//! |---|---|
//! | `create_invoice` | `invoice` (label `l402-<random>`; amount `any` for an amount of 0) |
//! | `invoice_state` | `listinvoices` by `payment_hash` |
//! | `subscribe_settlements` | `waitanyinvoice` long polls from the newest `pay_index`, reconnecting with backoff |
//! | `pay_invoice` | `listpays` (already paid?), then `pay` with `maxfee` and `retry_for` (also served by xpay when `xpay-handle-pay` is on) |
//! | `pay_amount` | the same, with `amount_msat` for an amountless invoice |
//! | `payment_state` | `listpays` by `payment_hash` (`listsendpays` when the pay plugin is disabled) |
//! | `node_info` | `getinfo` |
//!
//! A seller's rune needs `invoice`, `listinvoices`, `waitanyinvoice` and `getinfo`; a payer's
//! also `pay`, `listpays` and `listsendpays`, e.g.
//! `lightning-cli createrune restrictions='[["method=getinfo","method=invoice","method=listinvoices","method=waitanyinvoice"]]'`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use l402_lightning::LightningBackend;
//! use l402_lightning::cln::{ClnConfig, ClnRest, PinnedCa, Rune};
//!
//! let cln = ClnRest::new(ClnConfig::new(
//!     "https://127.0.0.1:3010",
//!     Rune::new(std::env::var("CLN_RUNE")?)?,
//!     Some(PinnedCa::load("/home/me/.lightning/bitcoin/ca.pem")?),
//! ))?;
//! println!("{}", cln.node_info().await?.alias);
//! # Ok(())
//! # }
//! ```

mod backend;
mod errors;
mod stream;
mod tls;
mod transport;
mod wire;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::CertificateDer;

pub use backend::ClnRest;

/// The name this backend uses in errors and logs.
pub const BACKEND_NAME: &str = "cln";

/// How [`ClnRest`] reaches and authenticates to a node.
#[derive(Debug, Clone)]
pub struct ClnConfig {
    /// CLNRest's base URL, `https://host:port` (`clnrest-host`, `clnrest-port`); `http://` for a
    /// node run with `clnrest-protocol=http`. A bare `host:port` means HTTPS.
    pub url: String,
    /// The rune sent in the `Rune` header.
    pub rune: Rune,
    /// CLN's CA certificate to trust. `None`: the server must present a certificate valid under
    /// the Mozilla root set (a CLNRest behind a reverse proxy with a public certificate).
    pub ca: Option<PinnedCa>,
    /// How long to wait for a TCP connection. Default 5 s.
    pub connect_timeout: Duration,
    /// How long a call other than `pay` and `waitanyinvoice` may take. Default 30 s.
    pub request_timeout: Duration,
}

impl ClnConfig {
    /// A configuration with the default timeouts.
    pub fn new(url: impl Into<String>, rune: Rune, ca: Option<PinnedCa>) -> Self {
        Self {
            url: url.into(),
            rune,
            ca,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A CLN rune: a bearer secret that authorizes the methods its restrictions allow.
///
/// `Debug` is redacted and the value is never logged or put in an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Rune(String);

impl fmt::Debug for Rune {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rune(<redacted>)")
    }
}

impl Rune {
    /// Checks that `value` (surrounding whitespace ignored) can be a rune: non-empty, and only
    /// the URL-safe base64 characters `createrune` prints.
    pub fn new(value: impl Into<String>) -> Result<Self, ClnSetupError> {
        let value = value.into();
        let v = value.trim();
        if v.is_empty() {
            return Err(ClnSetupError::Rune("the rune is empty".into()));
        }
        if !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'+' | b'/'))
        {
            return Err(ClnSetupError::Rune(
                "a rune is URL-safe base64 (as printed by `lightning-cli createrune`); this value \
                 has other characters"
                    .into(),
            ));
        }
        Ok(Self(v.to_owned()))
    }

    /// The header value (a secret).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// The CA certificate(s) CLNRest's server certificate must chain to: CLN's `ca.pem`. The server
/// certificate itself (`server.pem`) is accepted too, and then pinned exactly.
#[derive(Clone, PartialEq, Eq)]
pub struct PinnedCa {
    certs: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for PinnedCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedCa")
            .field("certificates", &self.certs.len())
            .finish()
    }
}

impl PinnedCa {
    /// Reads a PEM file (one or more `CERTIFICATE` blocks) or a DER certificate.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ClnSetupError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ClnSetupError::ReadCa {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }

    /// A certificate from PEM or DER bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ClnSetupError> {
        l402_tls::certs_from_pem_or_der(bytes, "CLN ca.pem (PEM or DER)")
            .map(|certs| Self { certs })
            .map_err(|e| ClnSetupError::Ca(e.to_string()))
    }

    pub(crate) fn certs(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }
}

/// Why a [`ClnRest`] could not be set up (before any call to the node).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClnSetupError {
    /// The CA certificate file could not be read.
    #[error("cannot read the CLN CA certificate at {}: {source}", path.display())]
    ReadCa {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The CA certificate is not a certificate.
    #[error("invalid CLN CA certificate: {0}")]
    Ca(String),
    /// The rune is not usable (the message never contains it).
    #[error("invalid CLN rune: {0}")]
    Rune(String),
    /// The URL is not usable.
    #[error("invalid CLNRest URL {url:?}: {detail}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The TLS configuration could not be built.
    #[error("CLNRest TLS setup failed: {0}")]
    Tls(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runes_are_checked_and_redacted() {
        let r =
            Rune::new("  tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0wMjRi  \n").unwrap();
        assert_eq!(
            r.expose(),
            "tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0wMjRi"
        );
        assert_eq!(format!("{r:?}"), "Rune(<redacted>)");
        assert!(Rune::new("").is_err());
        assert!(Rune::new("two words").is_err());
        let err = Rune::new("bad\nrune-secret").unwrap_err().to_string();
        assert!(!err.contains("rune-secret"), "{err}");
    }

    #[test]
    fn ca_from_pem_or_der() {
        assert!(PinnedCa::from_bytes(b"not a cert").is_err());
        assert!(
            PinnedCa::from_bytes(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
        let der = [0x30u8, 0x03, 0x02, 0x01, 0x01];
        assert_eq!(PinnedCa::from_bytes(&der).unwrap().certs().len(), 1);
        let err = PinnedCa::load("/no/such/ca.pem").unwrap_err().to_string();
        assert!(err.contains("/no/such/ca.pem"), "{err}");
    }
}
