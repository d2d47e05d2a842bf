//! The buyer's configuration file (`~/.config/l402/config.toml` on Linux; the platform's config
//! directory elsewhere), with `L402_*` environment overrides. A plain struct: the CLI loads it,
//! applies its flags on top, and builds the client with [`ClientConfig::client_builder`].
//!
//! ```toml
//! data_dir = "/home/me/.local/share/l402"   # default: the platform's data dir + /l402
//! network = "regtest"                        # default: asked from the wallet
//!
//! [budget]
//! max_cost_sat = 1000          # per invoice (fee excluded)
//! max_fee_sat = 10             # routing fee cap per payment
//! max_per_request_sat = 1010   # per payment, amount + max fee ("none" = no limit)
//! hourly_sat = 10000           # rolling hour ("none" = no limit)
//! daily_sat = 50000            # rolling 24 h ("none" = no limit)
//! total_sat = "none"           # everything in the store
//! allow_domains = []           # empty = all; "*.example.com" = any subdomain
//! deny_domains = []            # wins over the allow list
//! [budget.per_domain_sat]
//! "api.example.com" = 5000     # all-time, per exact host
//!
//! [payment]
//! timeout_secs = 60
//!
//! [http]
//! timeout_secs = 30
//! # user_agent = "my-agent/1.0"
//! # ca_file = "/etc/my-ca.pem" # trust this CA instead of the web PKI (else SSL_CERT_FILE)
//!
//! [mcp]                        # `l402 mcp` only
//! allow_private_networks = false   # let l402_fetch reach loopback/private/link-local addresses
//! allowed_origins = []         # browser Origins accepted by `l402 mcp --http` besides loopback
//! close_idle_sessions_secs = 300   # close (refund) a prepaid session unused this long; 0: never
//!
//! [wallet]                     # the same shape as the seller's [backend]
//! kind = "dev"                 # the dev wallet of `l402 serve` / `l402 wallet serve`
//! # [wallet.dev]
//! # connection_file = "..."    # its dev-wallet.json (default: <data_dir>/dev-wallet.json)
//! # kind = "nwc"               # Nostr Wallet Connect; the URI from L402_NWC_URI, or:
//! # [wallet.nwc]
//! # uri = { file = "/home/me/.config/l402/nwc.uri" }   # or { env = "VAR" }
//! # kind = "lnd" | "lnbits" | "cln": [wallet.lnd] / [wallet.lnbits] / [wallet.cln]
//! ```
//!
//! `[wallet]` is [`l402_lightning::spec::BackendSpec`], checked and built for paying: every key
//! of every backend is in `crates/l402-seller/CONFIG.md` (`[backend]`).
//!
//! Unknown keys are errors that name the file, the line and the key.

mod env;
mod error;
mod file;
mod wallet;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use l402_core::Msat;
use l402_core::invoice::Network;
use l402_lightning::spec::BackendSpec;
use serde::{Deserialize, Deserializer};

pub use env::{
    ALL as ENV_VARS, ENV_ALLOW_DOMAINS, ENV_DAILY_SAT, ENV_DATA_DIR, ENV_DENY_DOMAINS,
    ENV_HOURLY_SAT, ENV_MAX_COST_SAT, ENV_MAX_FEE_SAT, ENV_MAX_PER_REQUEST_SAT,
    ENV_MCP_ALLOW_PRIVATE_NETWORKS, ENV_NETWORK, ENV_PAYMENT_TIMEOUT_SECS, ENV_TOTAL_SAT,
    ENV_WALLET,
};
pub use error::{ConfigError, Location};
pub use wallet::{ENV_LNBITS_ADMIN_KEY, ENV_NWC_URI};

use crate::budget::{Budget, DEFAULT_DAILY, DEFAULT_HOURLY, DEFAULT_MAX_FEE};
use crate::builder::{
    DEFAULT_HTTP_TIMEOUT, DEFAULT_MAX_COST, DEFAULT_PAYMENT_TIMEOUT, L402ClientBuilder,
};

/// The store's file name inside the data directory.
pub const STORE_FILE: &str = "client.db";
/// The configuration file's name inside the platform's config directory + `/l402`.
pub const CONFIG_FILE: &str = "config.toml";

/// The default configuration file: the platform's config directory + `/l402/config.toml`
/// (`~/.config/l402/config.toml` on Linux).
pub fn default_config_path() -> Result<PathBuf, ConfigError> {
    l402_core::dirs::config_dir()
        .map(|d| d.join(CONFIG_FILE))
        .ok_or(ConfigError::NoDefaultDir {
            what: "config",
            hint: "a configuration path",
        })
}

/// The buyer's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientConfig {
    /// Where the store (and, by default, the dev wallet's connection file) lives.
    pub data_dir: Option<PathBuf>,
    /// The wallet's network; `None` asks the wallet.
    #[serde(deserialize_with = "de_network")]
    pub network: Option<Network>,
    /// Spending limits.
    pub budget: BudgetConfig,
    /// Payment settings.
    pub payment: PaymentConfig,
    /// HTTP settings.
    pub http: HttpConfig,
    /// The MCP server's settings (`l402 mcp`).
    pub mcp: McpConfig,
    /// Which wallet pays: `[wallet]`, the same specification as the seller's `[backend]`.
    pub wallet: BackendSpec,
    /// The file this was read from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[budget]`: limits in whole sat. Limits are a number or `"none"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    /// Per invoice, fee excluded.
    pub max_cost_sat: u64,
    /// Routing-fee cap per payment.
    pub max_fee_sat: u64,
    /// Per payment, amount plus maximum fee.
    #[serde(deserialize_with = "de_limit")]
    pub max_per_request_sat: Option<u64>,
    /// Rolling hour.
    #[serde(deserialize_with = "de_limit")]
    pub hourly_sat: Option<u64>,
    /// Rolling 24 hours.
    #[serde(deserialize_with = "de_limit")]
    pub daily_sat: Option<u64>,
    /// Everything in the store.
    #[serde(deserialize_with = "de_limit")]
    pub total_sat: Option<u64>,
    /// All-time limit per exact host.
    pub per_domain_sat: BTreeMap<String, u64>,
    /// Hosts payments may go to (empty: all).
    pub allow_domains: Vec<String>,
    /// Hosts payments never go to.
    pub deny_domains: Vec<String>,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            max_cost_sat: DEFAULT_MAX_COST.to_sat_ceil(),
            max_fee_sat: DEFAULT_MAX_FEE.to_sat_ceil(),
            max_per_request_sat: None,
            hourly_sat: Some(DEFAULT_HOURLY.to_sat_ceil()),
            daily_sat: Some(DEFAULT_DAILY.to_sat_ceil()),
            total_sat: None,
            per_domain_sat: BTreeMap::new(),
            allow_domains: Vec::new(),
            deny_domains: Vec::new(),
        }
    }
}

/// `[mcp]`: what the MCP server (`l402 mcp`) lets an agent do.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    /// Let `l402_fetch` reach loopback, private (RFC 1918, `fc00::/7`), shared (`100.64/10`),
    /// link-local and other non-public addresses. Off by default: an agent fed a hostile
    /// prompt must not become a way into the user's network. Also set by
    /// `L402_MCP_ALLOW_PRIVATE_NETWORKS=true`.
    pub allow_private_networks: bool,
    /// `Origin` values `l402 mcp --http` accepts besides loopback ones (`http://localhost`,
    /// `http://127.0.0.1`, `http://[::1]`, any port), e.g. `https://agent.example.com`. A
    /// request without `Origin` (a non-browser client) is accepted.
    pub allowed_origins: Vec<String>,
    /// Close a prepaid session (and get the rest of its deposit refunded) once it has not been
    /// used for this many seconds; the MCP server also closes every session it holds when it
    /// stops. 0: only `l402_close_sessions` closes them. Default 300.
    pub close_idle_sessions_secs: u64,
}

/// The default of [`McpConfig::close_idle_sessions_secs`].
pub const DEFAULT_CLOSE_IDLE_SESSIONS_SECS: u64 = 300;

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            allowed_origins: Vec::new(),
            close_idle_sessions_secs: DEFAULT_CLOSE_IDLE_SESSIONS_SECS,
        }
    }
}

/// `[payment]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentConfig {
    /// How long one payment may take, seconds.
    pub timeout_secs: u64,
    /// Which payment schemes to answer, most preferred first: `["l402", "mpp"]` (default:
    /// L402 when offered, else the `Payment` scheme's Lightning charge or session),
    /// `["mpp", "l402"]`,
    /// `["l402"]` (never pay `Payment` challenges), `["mpp"]`.
    pub prefer: Vec<crate::mpp::PaymentScheme>,
}

impl Default for PaymentConfig {
    fn default() -> Self {
        Self {
            timeout_secs: DEFAULT_PAYMENT_TIMEOUT.as_secs(),
            prefer: crate::mpp::DEFAULT_PREFERENCE.to_vec(),
        }
    }
}

/// `[http]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// How long one HTTP exchange may take, seconds.
    pub timeout_secs: u64,
    /// The `User-Agent`.
    pub user_agent: Option<String>,
    /// A PEM file of CA certificates trusted instead of the web PKI roots (curl's `--cacert`).
    /// Without it, `SSL_CERT_FILE` if set, else the web PKI.
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification. Never read from a file or the environment: only a
    /// program (the CLI's `-k/--insecure`) sets it.
    #[serde(skip)]
    pub insecure: bool,
}

impl HttpConfig {
    /// How HTTPS servers are verified under these settings.
    pub fn trust(&self) -> l402_tls::Trust {
        if self.insecure {
            l402_tls::Trust::Insecure
        } else if let Some(ca) = &self.ca_file {
            l402_tls::Trust::CaFile(ca.clone())
        } else {
            l402_tls::Trust::from_env()
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            timeout_secs: DEFAULT_HTTP_TIMEOUT.as_secs(),
            user_agent: None,
            ca_file: None,
            insecure: false,
        }
    }
}

impl ClientConfig {
    /// Loads `path` (which must exist) or, without it, the default file (absent: defaults),
    /// then applies the `L402_*` environment variables.
    pub fn load(path_override: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path_override, &|name| std::env::var(name).ok())
    }

    /// [`load`](Self::load) with the environment given as a function (for tests and embedders).
    pub fn load_with_env(
        path_override: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let (path, required) = match path_override {
            Some(p) => (p.to_owned(), true),
            None => (default_config_path()?, false),
        };
        let mut config = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mut c = Self::from_toml(&text, Some(&path))?;
                if let Some(dir) = path.parent() {
                    c.wallet.resolve_relative_paths(dir);
                }
                c.source = Some(path);
                c
            }
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Self::default(),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        env::apply(&mut config, env)?;
        Ok(config)
    }

    /// Parses TOML text; `file` is only used in error messages.
    pub fn from_toml(text: &str, file: Option<&Path>) -> Result<Self, ConfigError> {
        file::parse(text, file)
    }

    /// The data directory (configured, or [`l402_core::dirs::data_dir`]).
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        match &self.data_dir {
            Some(d) => Ok(d.clone()),
            None => Ok(l402_core::dirs::data_dir()),
        }
    }

    /// The store's file: `<data_dir>/client.db`.
    pub fn store_path(&self) -> Result<PathBuf, ConfigError> {
        Ok(self.data_dir()?.join(STORE_FILE))
    }

    /// The spending limits.
    pub fn budget(&self) -> Budget {
        let b = &self.budget;
        Budget {
            max_per_request: b.max_per_request_sat.map(Msat::from_sat),
            hourly: b.hourly_sat.map(Msat::from_sat),
            daily: b.daily_sat.map(Msat::from_sat),
            total: b.total_sat.map(Msat::from_sat),
            per_domain: b
                .per_domain_sat
                .iter()
                .map(|(host, sat)| (host.to_ascii_lowercase(), Msat::from_sat(*sat)))
                .collect(),
            allow_domains: b.allow_domains.clone(),
            deny_domains: b.deny_domains.clone(),
            max_fee: Msat::from_sat(b.max_fee_sat),
        }
    }

    /// The per-invoice maximum.
    pub fn max_cost(&self) -> Msat {
        Msat::from_sat(self.budget.max_cost_sat)
    }

    /// A client builder with everything from this configuration except the wallet.
    pub fn client_builder(&self) -> Result<L402ClientBuilder, ConfigError> {
        let mut builder = crate::L402Client::builder()
            .store_path(self.store_path()?)
            .budget(self.budget())
            .max_cost(self.max_cost())
            .payment_timeout(Duration::from_secs(self.payment.timeout_secs))
            .prefer(self.payment.prefer.clone())
            .http_timeout(Duration::from_secs(self.http.timeout_secs))
            .trust(self.http.trust());
        if let Some(n) = self.network {
            builder = builder.network(n);
        }
        if let Some(ua) = &self.http.user_agent {
            builder = builder.user_agent(ua.clone());
        }
        Ok(builder)
    }
}

/// A network name.
fn de_network<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Network>, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map(Some).map_err(serde::de::Error::custom)
}

/// A limit: a whole number of sat, or `"none"`.
fn de_limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Sat(u64),
        Word(String),
    }
    match Raw::deserialize(d) {
        Ok(Raw::Sat(v)) => Ok(Some(v)),
        Ok(Raw::Word(w)) if w.eq_ignore_ascii_case("none") => Ok(None),
        _ => Err(serde::de::Error::custom(
            "expected a whole number of sat or \"none\"",
        )),
    }
}

#[cfg(test)]
mod tests;
