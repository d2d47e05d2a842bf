//! The `[[services]]` entries: what is proxied where, and the per-method/path routes inside each.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use l402_secret::SecretSource;

fn default_path_prefix() -> String {
    "/".to_owned()
}

/// One proxied service (`[[services]]`). Services are tried in file order; the first whose
/// `hosts` and `path_prefix` match the request wins.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Identifier, `[a-z0-9_-]+`; names the service in logs, error bodies and to the layer in
    /// front of the forwarder.
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
    /// Headers added to every upstream request, replacing same-named client headers. Values
    /// may be secrets: `"…"`, `{ env = "VAR" }` or `{ file = "path" }`.
    #[serde(default)]
    pub upstream_headers: BTreeMap<String, SecretSource>,
    /// Per-method/path rules, first match wins (`[[services.routes]]`); the matched rule's
    /// index is part of the [`RouteDecision`](crate::RouteDecision).
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

/// One `[[services.routes]]` rule: which requests of a service it claims. What a route means
/// is up to the layer in front of the forwarder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// HTTP methods this rule applies to (upper case). Empty: every method.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Path pattern (see `CONFIG.md`), matched against the full request path.
    pub path: String,
}
