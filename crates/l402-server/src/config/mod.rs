//! Typed TOML configuration of the proxy: load, override, check. Reads files; no network.
//!
//! The proxy owns `[listen]`, `[limits]`, `[paths]` and the routing and forwarding keys of
//! `[[services]]` and `[[services.routes]]`. An application built on the proxy adds its own
//! keys to the same file through a [`ConfigExtension`]; unknown keys are rejected, and every
//! error names the file, line, column and key path. The file format of `l402 serve`, the
//! proxy's keys included, is documented in `crates/l402-seller/CONFIG.md`.

mod check;
mod error;
mod extension;
mod overrides;
mod paths;
mod service;
mod source;
pub mod units;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::client_ip::Cidr;

pub use check::Checks;
pub use error::{ConfigError, ConfigWarning, Diagnostic, Location};
pub use extension::{ConfigExtension, NoExtension};
pub use l402_secret::{SecretError, SecretSource, resolve_relative_path};
pub use overrides::ConfigOverrides;
pub use paths::PathsConfig;
pub use service::{RouteConfig, ServiceConfig};

/// The proxy's part of the configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[listen]`.
    #[serde(default)]
    pub listen: ListenConfig,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[paths]`: path normalisation and matching.
    #[serde(default)]
    pub paths: PathsConfig,
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
    /// Proxies in front of this one (CIDRs or addresses) whose `client_ip_header` is believed;
    /// from any other peer the header is ignored. Default none.
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
    /// The header a trusted proxy names the client in (`X-Forwarded-For`, the default, or e.g.
    /// `X-Real-IP`); read from the right, skipping trusted proxies (see
    /// [`ClientIpResolver`](crate::client_ip::ClientIpResolver)).
    pub client_ip_header: Option<String>,
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
            trusted_proxies: Vec::new(),
            client_ip_header: None,
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
    /// Reads and parses a TOML file that holds only the proxy's keys. Relative paths inside it
    /// are resolved against the file's directory. Only the syntax and shape are checked; call
    /// [`Config::check`] after applying overrides.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::load_with::<NoExtension>(path).map(|(config, _)| config)
    }

    /// Parses TOML text that holds only the proxy's keys; `file` is used only in error messages.
    pub fn from_toml(text: &str, file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_toml_with::<NoExtension>(text, file).map(|(config, _)| config)
    }

    /// Like [`Config::load`], for a file that also holds the keys of the extension `E`: the
    /// proxy's keys become the [`Config`], the extension's keys become `E`. A key neither
    /// knows is rejected.
    pub fn load_with<E: ConfigExtension>(path: impl AsRef<Path>) -> Result<(Self, E), ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::load_text_with::<E>(&text, path)
    }

    /// Parses `text` as if it were the file at `path` (errors name it; relative paths resolve
    /// against its directory), as [`Config::load_with`] does after reading the file.
    pub fn load_text_with<E: ConfigExtension>(
        text: &str,
        path: &Path,
    ) -> Result<(Self, E), ConfigError> {
        let (mut config, mut extension) = Self::from_toml_with::<E>(text, Some(path))?;
        if let Some(base) = path.parent() {
            config.resolve_relative_paths(base);
            extension.resolve_relative_paths(base);
        }
        Ok((config, extension))
    }

    /// Like [`Config::from_toml`], for text that also holds the keys of the extension `E`.
    pub fn from_toml_with<E: ConfigExtension>(
        text: &str,
        file: Option<&Path>,
    ) -> Result<(Self, E), ConfigError> {
        source::parse(text, file)
    }

    /// Checks every value of the proxy's part: names, URLs, patterns, TLS pairs, limits, and
    /// that secret files and variables are readable. Returns the warnings, or every problem
    /// found.
    pub fn check(&self) -> Result<Vec<ConfigWarning>, ConfigError> {
        let mut checks = Checks::new(self);
        self.check_into(&mut checks);
        checks.finish()
    }

    /// Adds the problems of the proxy's part to `checks`, for an extension that checks its own
    /// keys into the same list.
    pub fn check_into(&self, checks: &mut Checks<'_>) {
        validate::check(self, checks);
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
        let fix_opt = |p: &mut Option<PathBuf>| {
            if let Some(p) = p {
                resolve_relative_path(p, base);
            }
        };
        fix_opt(&mut self.listen.tls_cert);
        fix_opt(&mut self.listen.tls_key);
        for service in &mut self.services {
            fix_opt(&mut service.upstream_ca_cert);
            service
                .upstream_headers
                .values_mut()
                .for_each(|s| s.resolve_relative_path(base));
        }
    }
}
