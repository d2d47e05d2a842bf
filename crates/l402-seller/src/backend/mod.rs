//! The Lightning backend of the seller, in one place: the `[backend]` section (this file), its
//! checks (`check.rs`), and the factory that builds and preflights the backend it selects
//! ([`select`], in `factory.rs`). Adding a backend touches this module only (plus the backend
//! itself in `l402-lightning`).

mod check;
mod factory;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use l402_server::config::{SecretSource, resolve_relative_path};
use serde::Deserialize;

pub(crate) use check::check;
pub use factory::{BackendSetupError, SelectedBackend, select, start_wallet_api};

/// Which Lightning backend to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The embedded development wallet (the default; zero setup).
    #[default]
    Dev,
    /// LND over gRPC.
    Lnd,
    /// An LNbits wallet over its REST API.
    Lnbits,
    /// A Nostr Wallet Connect (NIP-47) wallet.
    Nwc,
    /// Core Lightning over CLNRest (rune), gRPC (mTLS) or its local RPC socket.
    Cln,
}

impl BackendKind {
    /// The name used in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Lnd => "lnd",
            Self::Lnbits => "lnbits",
            Self::Nwc => "nwc",
            Self::Cln => "cln",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backend kind that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend kind `{0}`: expected dev, lnd, lnbits, nwc or cln")]
pub struct UnknownBackendKind(pub String);

impl FromStr for BackendKind {
    type Err = UnknownBackendKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "dev" => Ok(Self::Dev),
            "lnd" => Ok(Self::Lnd),
            "lnbits" => Ok(Self::Lnbits),
            "nwc" => Ok(Self::Nwc),
            "cln" => Ok(Self::Cln),
            other => Err(UnknownBackendKind(other.to_owned())),
        }
    }
}

/// `[backend]`: the selected kind plus one optional sub-table per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// The backend in use. Default `dev`.
    #[serde(default)]
    pub kind: BackendKind,
    /// `[backend.dev]`.
    pub dev: Option<DevBackendConfig>,
    /// `[backend.lnd]`; required when `kind = "lnd"`.
    pub lnd: Option<LndBackendConfig>,
    /// `[backend.lnbits]`; required when `kind = "lnbits"`.
    pub lnbits: Option<LnbitsBackendConfig>,
    /// `[backend.nwc]`; required when `kind = "nwc"`.
    pub nwc: Option<NwcBackendConfig>,
    /// `[backend.cln]`; required when `kind = "cln"`.
    pub cln: Option<ClnBackendConfig>,
}

impl BackendConfig {
    /// Makes the relative paths of every sub-table relative to `base` (the configuration
    /// file's directory).
    pub fn resolve_relative_paths(&mut self, base: &Path) {
        let fix = |p: &mut Option<PathBuf>| {
            if let Some(p) = p {
                resolve_relative_path(p, base);
            }
        };
        if let Some(dev) = self.dev.as_mut() {
            fix(&mut dev.connection_file);
        }
        if let Some(lnd) = self.lnd.as_mut() {
            fix(&mut lnd.tls_cert_path);
            fix(&mut lnd.macaroon_path);
            for secret in [lnd.macaroon.as_mut(), lnd.tls_cert.as_mut()]
                .into_iter()
                .flatten()
            {
                secret.resolve_relative_path(base);
            }
        }
        if let Some(cln) = self.cln.as_mut() {
            fix(&mut cln.ca_cert_path);
            fix(&mut cln.client_cert_path);
            fix(&mut cln.client_key_path);
            fix(&mut cln.rpc_socket_path);
            fix(&mut cln.rest_ca_cert_path);
            if let Some(rune) = cln.rune.as_mut() {
                rune.resolve_relative_path(base);
            }
        }
        if let Some(lnbits) = self.lnbits.as_mut() {
            lnbits.api_key.resolve_relative_path(base);
        }
        if let Some(nwc) = self.nwc.as_mut() {
            nwc.uri.resolve_relative_path(base);
        }
    }
}

/// `[backend.dev]`: the embedded development wallet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevBackendConfig {
    /// Use a dev wallet running in another process (`l402 wallet serve`) through the
    /// `dev-wallet.json` connection file it wrote. Unset: the wallet runs inside `l402 serve`.
    pub connection_file: Option<std::path::PathBuf>,
    /// Port of the embedded wallet's loopback API (0 or unset: any free port).
    pub wallet_port: Option<u16>,
}

/// `[backend.lnd]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LndBackendConfig {
    /// gRPC address, `host:port` (usually port 10009).
    pub address: String,
    /// REST address, `https://host:port` or `host:port` (`lnd --restlisten`, usually port
    /// 8080). When set, the proxy talks to LND over REST instead of gRPC at `address`.
    #[serde(default)]
    pub rest_address: Option<String>,
    /// LND's `tls.cert`, pinned. Unset (and no `tls_cert`): the system's web PKI roots are used.
    pub tls_cert_path: Option<PathBuf>,
    /// LND's `tls.cert` as PEM, hex or base64 text from `{ env = "VAR" }` (or inline), instead
    /// of `tls_cert_path`.
    pub tls_cert: Option<SecretSource>,
    /// An `invoice.macaroon` (binary file, or a text file with its hex or base64).
    pub macaroon_path: Option<PathBuf>,
    /// The macaroon as hex or base64 from `{ env = "VAR" }` or `{ file = "..." }`, instead of
    /// `macaroon_path`. Exactly one of the two is required.
    pub macaroon: Option<SecretSource>,
}

/// `[backend.lnbits]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LnbitsBackendConfig {
    /// Base URL of the LNbits instance, `http://` or `https://`.
    pub url: String,
    /// The wallet's invoice/read key.
    pub api_key: SecretSource,
}

/// `[backend.nwc]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NwcBackendConfig {
    /// The `nostr+walletconnect://…` connection URI (it contains the client secret).
    pub uri: SecretSource,
}

/// `[backend.cln]`: CLNRest (`rest_url` with a `rune`), gRPC with mTLS (`grpc_address` and the
/// three PEM paths) or the local JSON-RPC socket (`rpc_socket_path`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClnBackendConfig {
    /// cln-grpc address, `host:port`.
    pub grpc_address: Option<String>,
    /// CA certificate (`ca.pem`) for the gRPC server.
    pub ca_cert_path: Option<PathBuf>,
    /// Client certificate (`client.pem`).
    pub client_cert_path: Option<PathBuf>,
    /// Client key (`client-key.pem`).
    pub client_key_path: Option<PathBuf>,
    /// `lightning-rpc` unix socket path.
    pub rpc_socket_path: Option<PathBuf>,
    /// CLNRest URL, `https://host:port` (`clnrest-host`, `clnrest-port`; `http://` for
    /// `clnrest-protocol=http`).
    pub rest_url: Option<String>,
    /// The rune CLNRest checks (`lightning-cli createrune`); required with `rest_url`.
    pub rune: Option<SecretSource>,
    /// CLN's `ca.pem` (in the `clnrest-certs` directory) to trust for `rest_url`. Unset: the
    /// web PKI roots (a CLNRest behind a proxy with a public certificate).
    pub rest_ca_cert_path: Option<PathBuf>,
}
