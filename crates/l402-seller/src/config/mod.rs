//! The seller's configuration file: the proxy's keys (`[listen]`, `[limits]`, where each
//! service is and how it is routed; see [`l402_server::Config`]) plus the L402 keys kept here
//! (`data_dir`, `[backend]`, `[clients]`, `[discovery]`, and each service's and route's price, capabilities, token
//! lifetime, invoice settings, free paths and freebies). Every key is documented in
//! `crates/l402-seller/CONFIG.md`. Reads files; no network.

mod admin;
mod check;
mod clients;
mod discovery;
pub mod edit;
mod overrides;
mod store;
mod terms;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use l402_server::Config;
use l402_server::config::{Checks, ConfigExtension, resolve_relative_path};
use serde::Deserialize;

pub use admin::{AdminSettings, ClientRole};
pub use clients::{ClientsSettings, RateLimitConfig};
pub use discovery::DiscoverySettings;
use l402_lightning::spec::{BackendSpec, Role, Severity};
pub use l402_server::config::{ConfigError, ConfigWarning, Diagnostic, Location};
pub use overrides::SellerOverrides;
pub use store::StoreSettings;
pub use terms::{Billing, MeteringTerms, Protocol, RouteTerms, ServiceTerms, ToolTerms};

/// The L402 keys of the file, in its shape: `services[i]` holds the terms of the i-th
/// `[[services]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L402Settings {
    /// Where keys and the database live. Unset: [`l402_core::dirs::data_dir`].
    pub data_dir: Option<PathBuf>,
    /// `[backend]`.
    #[serde(default)]
    pub backend: BackendSpec,
    /// `[clients]`: how clients are counted (IPv6 prefix, unpaid-challenge cap, default rate
    /// limit).
    #[serde(default)]
    pub clients: ClientsSettings,
    /// `[admin]`: the operator's listener (metrics).
    #[serde(default)]
    pub admin: AdminSettings,
    /// How long a WebSocket or streaming response opened with a token may outlive the token's
    /// expiry or revocation, in seconds. Unset: [`l402_tower::DEFAULT_STREAM_GRACE`].
    pub stream_grace_secs: Option<u64>,
    /// `[discovery]`: the manifest, OpenAPI document and quotes the seller publishes.
    #[serde(default)]
    pub discovery: DiscoverySettings,
    /// `[store]`: where the shared state lives (SQLite in `data_dir`, or PostgreSQL).
    #[serde(default)]
    pub store: StoreSettings,
    /// The realm of `Payment` (MPP) challenges. Unset: `l402`.
    pub mpp_realm: Option<String>,
    /// The L402 terms of each `[[services]]` entry, in file order.
    #[serde(default)]
    pub services: Vec<ServiceTerms>,
}

impl ConfigExtension for L402Settings {
    const TOP_LEVEL_KEYS: &'static [&'static str] = &[
        "data_dir",
        "backend",
        "stream_grace_secs",
        "clients",
        "admin",
        "discovery",
        "store",
        "mpp_realm",
    ];
    const SERVICE_KEYS: &'static [&'static str] = terms::SERVICE_KEYS;
    const ROUTE_KEYS: &'static [&'static str] = terms::ROUTE_KEYS;

    fn resolve_relative_paths(&mut self, base: &Path) {
        if let Some(dir) = self.data_dir.as_mut() {
            resolve_relative_path(dir, base);
        }
        self.backend.resolve_relative_paths(base);
        self.admin.resolve_relative_paths(base);
        if let Some(url) = self.store.url.as_mut() {
            url.resolve_relative_path(base);
        }
        for terms in &mut self.services {
            if let Some(doc) = terms.openapi.as_mut()
                && !doc.starts_with("http://")
                && !doc.starts_with("https://")
            {
                let mut path = PathBuf::from(&*doc);
                resolve_relative_path(&mut path, base);
                *doc = path.display().to_string();
            }
        }
    }
}

/// The whole configuration file of `l402 serve`.
#[derive(Debug, Clone, Default)]
pub struct SellerConfig {
    /// The proxy's part: listener, limits, services and routes.
    pub proxy: Config,
    /// The L402 part: data directory, backend, prices and token terms.
    pub l402: L402Settings,
}

impl SellerConfig {
    /// Reads and parses a TOML file. Relative paths inside it are resolved against the file's
    /// directory. Only the syntax and shape are checked; call [`SellerConfig::check`] after
    /// applying overrides.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let (proxy, l402) = Config::load_with::<L402Settings>(path)?;
        Ok(Self { proxy, l402 })
    }

    /// Parses `text` as if it were the file at `path`: errors name it, relative paths resolve
    /// against its directory (what [`SellerConfig::load`] does after reading).
    pub fn load_text(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let (proxy, l402) = Config::load_text_with::<L402Settings>(text, path)?;
        Ok(Self { proxy, l402 })
    }

    /// Parses TOML text; `file` is used only in error messages.
    pub fn from_toml(text: &str, file: Option<&Path>) -> Result<Self, ConfigError> {
        let (proxy, l402) = Config::from_toml_with::<L402Settings>(text, file)?;
        Ok(Self { proxy, l402 })
    }

    /// The zero-config setup: the built-in sample API listening on `sample`, sold through the
    /// embedded dev wallet.
    pub fn zero_config(sample: SocketAddr) -> Result<Self, ConfigError> {
        Self::from_toml(&crate::zero_config::toml(sample), None)
    }

    /// The data directory: `data_dir` if set, else [`l402_core::dirs::data_dir`].
    pub fn data_dir(&self) -> PathBuf {
        self.l402
            .data_dir
            .clone()
            .unwrap_or_else(l402_core::dirs::data_dir)
    }

    /// Where the store is: `[store] url` (read now, from the environment or a file if it
    /// says so), else the SQLite file `l402.db` in the data directory. A relative SQLite path is
    /// relative to the data directory.
    pub fn store_url(&self) -> Result<l402_store::StoreUrl, l402_secret::SecretError> {
        let url = match &self.l402.store.url {
            Some(source) => l402_store::StoreUrl::parse(&source.resolve()?),
            None => {
                return Ok(l402_store::StoreUrl::Sqlite(
                    self.data_dir().join("l402.db"),
                ));
            }
        };
        Ok(match url {
            l402_store::StoreUrl::Sqlite(path) => {
                l402_store::StoreUrl::Sqlite(self.data_dir().join(path))
            }
            url => url,
        })
    }

    /// Checks every value (what `l402 serve --check` runs): the proxy's part, the backend's
    /// shape and secrets, and the L402 terms. Returns the warnings, or every problem found,
    /// sorted by line.
    pub fn check(&self) -> Result<Vec<ConfigWarning>, ConfigError> {
        let mut checks = Checks::new(&self.proxy);
        self.proxy.check_into(&mut checks);
        for finding in self.l402.backend.check(Role::Receive, "backend") {
            let key = format!("backend.{}", finding.key);
            match finding.severity {
                Severity::Error => checks.error(&key, finding.message),
                Severity::Warning => checks.warn(&key, finding.message),
            }
        }
        clients::check(&self.l402.clients, &mut checks);
        admin::check(&self.l402.admin, &mut checks);
        discovery::check(&self.l402.discovery, &mut checks);
        store::check(&self.l402.store, &mut checks);
        check::terms(&self.proxy, &self.l402.services, &mut checks);
        if let Some(realm) = &self.l402.mpp_realm
            && (realm.is_empty() || realm.chars().any(char::is_control))
        {
            checks.error("mpp_realm", "must be non-empty, without control characters");
        }
        checks.finish()
    }

    /// Applies command-line or environment overrides on top of the file's values.
    pub fn apply(&mut self, overrides: &SellerOverrides) {
        overrides.apply_to(self);
    }
}
