//! The `[[services]]` entries: what is proxied where, and at what price.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::secret::SecretSource;

fn default_path_prefix() -> String {
    "/".to_owned()
}

fn default_invoice_expiry() -> u64 {
    3600
}

/// One proxied service (`[[services]]`). Services are tried in file order; the first whose
/// `hosts` and `path_prefix` match the request wins.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Identifier, `[a-z0-9_-]+`; used in the `services` caveat and in logs.
    pub name: String,
    /// Host names this service answers for (`api.example.com`, `*.example.com`, `*`). Empty:
    /// any host.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Segment-aligned path prefix (`/weather` claims `/weather` and `/weather/…`), or a path
    /// pattern if it contains `*`. Default `/`.
    #[serde(default = "default_path_prefix")]
    pub path_prefix: String,
    /// Where to forward: `http://host:port[/base]`, `https://…` or `h2c://host:port` (HTTP/2
    /// without TLS, for gRPC).
    pub upstream: String,
    /// Accept any certificate from an `https` upstream. Must be set explicitly; never the
    /// default.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// PEM file with the CA certificate(s) an `https` upstream must chain to, instead of the
    /// web PKI roots.
    pub upstream_ca_cert: Option<PathBuf>,
    /// Remove `path_prefix` from the path before forwarding (`/weather/today` → `/today`).
    #[serde(default)]
    pub strip_path_prefix: bool,
    /// Forward the client's `Host` header instead of the upstream's authority.
    #[serde(default)]
    pub preserve_host: bool,
    /// Price of one token for this service, in satoshis.
    pub price_sat: u64,
    /// Lifetime of the invoices minted for this service, in seconds. Default 3600.
    #[serde(default = "default_invoice_expiry")]
    pub invoice_expiry_secs: u64,
    /// Invoice description. Unset: the paywall's default.
    pub memo: Option<String>,
    /// Lifetime of a paid token, in seconds; 0 means no expiry.
    #[serde(default)]
    pub token_lifetime_secs: u64,
    /// Capabilities granted to tokens minted for this service.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Path patterns that are always free (checked before `routes`).
    #[serde(default)]
    pub free_paths: Vec<String>,
    /// Free requests allowed per client IP before payment is required; 0 disables freebies.
    #[serde(default)]
    pub freebies_per_ip: u32,
    /// Headers added to every upstream request, replacing same-named client headers. Values
    /// may be secrets: `"…"`, `{ env = "VAR" }` or `{ file = "path" }`.
    #[serde(default)]
    pub upstream_headers: BTreeMap<String, SecretSource>,
    /// Per-method/path rules, first match wins (`[[services.routes]]`).
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

/// One `[[services.routes]]` rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// HTTP methods this rule applies to (upper case). Empty: every method.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Path pattern (see `CONFIG.md`), matched against the full request path.
    pub path: String,
    /// Price for requests matching this rule, in satoshis. Unset: the service's `price_sat`.
    pub price_sat: Option<u64>,
    /// Capabilities a token must carry to use this rule.
    #[serde(default)]
    pub capabilities_required: Vec<String>,
    /// Requests matching this rule need no payment.
    #[serde(default)]
    pub free: bool,
}
