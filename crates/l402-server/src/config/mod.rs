//! Typed TOML configuration for `l402 serve`: load, override, check. Reads files; no network.
//!
//! Every section and key is documented in `crates/l402-server/CONFIG.md`. Unknown keys are
//! rejected; every error names the file, line, column and key path.

mod backend;
mod error;
mod overrides;
mod paths;
mod secret;
mod service;
mod source;
pub mod units;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

pub use backend::{
    BackendConfig, BackendKind, ClnBackendConfig, DevBackendConfig, LnbitsBackendConfig,
    LndBackendConfig, NwcBackendConfig,
};
pub use error::{ConfigError, ConfigWarning, Diagnostic, Location};
pub use overrides::ConfigOverrides;
pub use paths::default_data_dir;
pub use secret::SecretSource;
pub use service::{RouteConfig, ServiceConfig};

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where keys and the database live. Unset: [`default_data_dir`].
    pub data_dir: Option<PathBuf>,
    /// `[listen]`.
    #[serde(default)]
    pub listen: ListenConfig,
    /// `[backend]`.
    #[serde(default)]
    pub backend: BackendConfig,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[[services]]`, in match order.
    #[serde(default)]
    pub services: Vec<ServiceConfig>,
    /// The text and file this configuration was read from, to locate later errors.
    #[serde(skip)]
    origin: Option<Arc<source::Origin>>,
}

/// `[listen]`: the one listening socket.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    /// Socket address, default `127.0.0.1:8402`.
    #[serde(default = "default_listen_addr")]
    pub addr: SocketAddr,
    /// PEM certificate chain; serve TLS (HTTP/1.1 and HTTP/2 via ALPN) when set with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
}

fn default_listen_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8402))
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            addr: default_listen_addr(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// `[limits]`: sizes and timeouts. Durations accept `10` (seconds) or `"10s"`, `"500ms"`, `"2m"`;
/// sizes accept `16384` (bytes) or `"16KiB"`, `"1GiB"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest accepted request head (request line and headers); larger → 431. Default 16 KiB.
    #[serde(default = "d_header_bytes", deserialize_with = "units::byte_size")]
    pub max_header_bytes: u64,
    /// Largest accepted request body; larger → 413. 0 = unlimited. Default 1 GiB.
    #[serde(default = "d_body_bytes", deserialize_with = "units::byte_size")]
    pub max_body_bytes: u64,
    /// A client must send a complete request head within this time. Default 10 s.
    #[serde(default = "d_header_timeout", deserialize_with = "units::duration")]
    pub header_read_timeout: Duration,
    /// How long to wait for the upstream's response head (not the streaming body); 0 = no
    /// limit. Default 60 s. Expiry → 504.
    #[serde(default = "d_request_timeout", deserialize_with = "units::duration")]
    pub request_timeout: Duration,
    /// TCP connect timeout towards upstreams. Default 5 s. Expiry → 504.
    #[serde(default = "d_connect_timeout", deserialize_with = "units::duration")]
    pub upstream_connect_timeout: Duration,
    /// Close client connections that have no request in flight for this long; 0 = never.
    /// Default 120 s.
    #[serde(default = "d_idle_timeout", deserialize_with = "units::duration")]
    pub idle_timeout: Duration,
    /// On shutdown, how long in-flight requests may still run. Default 30 s.
    #[serde(default = "d_drain_timeout", deserialize_with = "units::duration")]
    pub drain_timeout: Duration,
}

fn d_header_bytes() -> u64 {
    16 * 1024
}
fn d_body_bytes() -> u64 {
    1 << 30
}
fn d_header_timeout() -> Duration {
    Duration::from_secs(10)
}
fn d_request_timeout() -> Duration {
    Duration::from_secs(60)
}
fn d_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn d_idle_timeout() -> Duration {
    Duration::from_secs(120)
}
fn d_drain_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_header_bytes: d_header_bytes(),
            max_body_bytes: d_body_bytes(),
            header_read_timeout: d_header_timeout(),
            request_timeout: d_request_timeout(),
            upstream_connect_timeout: d_connect_timeout(),
            idle_timeout: d_idle_timeout(),
            drain_timeout: d_drain_timeout(),
        }
    }
}

impl Config {
    /// Reads and parses a TOML file. Relative paths inside it are resolved against the file's
    /// directory. Only the syntax and shape are checked; call [`Config::check`] after applying
    /// overrides.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::from_toml(&text, Some(path))?;
        if let Some(base) = path.parent() {
            config.resolve_relative_paths(base);
        }
        Ok(config)
    }

    /// Parses TOML text; `file` is used only in error messages.
    pub fn from_toml(text: &str, file: Option<&Path>) -> Result<Self, ConfigError> {
        source::parse(text, file)
    }

    /// The data directory: `data_dir` if set, else [`default_data_dir`].
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// Checks every value (what `l402 serve --check` runs): names, URLs, patterns, TLS pairs,
    /// limits, backend shape, and that secret files and variables are readable. Returns the
    /// warnings, or every problem found.
    pub fn check(&self) -> Result<Vec<ConfigWarning>, ConfigError> {
        validate::check(self)
    }

    /// Applies command-line or environment overrides on top of the file's values.
    pub fn apply(&mut self, overrides: &ConfigOverrides) {
        overrides.apply_to(self);
    }

    /// Builds the [`Location`] of a key path, with line and column when the configuration came
    /// from TOML text.
    pub fn locate(&self, key: &str) -> Location {
        match &self.origin {
            Some(origin) => origin.locate(key),
            None => Location {
                key: key.to_owned(),
                ..Location::default()
            },
        }
    }

    fn resolve_relative_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        let fix_opt = |p: &mut Option<PathBuf>| {
            if let Some(p) = p {
                fix(p);
            }
        };
        let fix_secret = |s: &mut SecretSource| {
            if let SecretSource::File(p) = s {
                fix(p);
            }
        };
        fix_opt(&mut self.data_dir);
        fix_opt(&mut self.listen.tls_cert);
        fix_opt(&mut self.listen.tls_key);
        if let Some(dev) = self.backend.dev.as_mut() {
            fix_opt(&mut dev.connection_file);
        }
        if let Some(lnd) = self.backend.lnd.as_mut() {
            fix_opt(&mut lnd.tls_cert_path);
            fix_opt(&mut lnd.macaroon_path);
            if let Some(m) = lnd.macaroon.as_mut() {
                fix_secret(m);
            }
            if let Some(t) = lnd.tls_cert.as_mut() {
                fix_secret(t);
            }
        }
        if let Some(cln) = self.backend.cln.as_mut() {
            fix_opt(&mut cln.ca_cert_path);
            fix_opt(&mut cln.client_cert_path);
            fix_opt(&mut cln.client_key_path);
            fix_opt(&mut cln.rpc_socket_path);
            fix_opt(&mut cln.rest_ca_cert_path);
            if let Some(rune) = cln.rune.as_mut() {
                fix_secret(rune);
            }
        }
        if let Some(lnbits) = self.backend.lnbits.as_mut() {
            fix_secret(&mut lnbits.api_key);
        }
        if let Some(nwc) = self.backend.nwc.as_mut() {
            fix_secret(&mut nwc.uri);
        }
        for service in &mut self.services {
            fix_opt(&mut service.upstream_ca_cert);
            service.upstream_headers.values_mut().for_each(fix_secret);
        }
    }
}
