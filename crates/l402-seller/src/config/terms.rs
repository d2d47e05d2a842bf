//! The L402 terms of each `[[services]]` entry and each `[[services.routes]]` rule: price,
//! invoice settings, token lifetime, capabilities, free paths and freebies.

use serde::Deserialize;

use super::RateLimitConfig;

/// The keys of [`ServiceTerms`] in a `[[services]]` entry.
pub(super) const SERVICE_KEYS: &[&str] = &[
    "price_sat",
    "invoice_expiry_secs",
    "memo",
    "token_lifetime_secs",
    "capabilities",
    "free_paths",
    "freebies_per_ip",
    "forward_credential",
    "openapi",
    "rate_limit",
    "protocols",
    "billing",
    "metering",
    "mcp",
    "tools",
];

/// The keys of [`RouteTerms`] in a `[[services.routes]]` rule.
pub(super) const ROUTE_KEYS: &[&str] =
    &["price_sat", "capabilities_required", "free", "rate_limit"];

fn default_invoice_expiry() -> u64 {
    3600
}

fn default_protocols() -> Vec<Protocol> {
    vec![Protocol::L402]
}

/// A payment scheme a service sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// L402 (`WWW-Authenticate: L402 …`, and the legacy `LSAT`).
    L402,
    /// The HTTP `Payment` scheme (MPP), Lightning charge.
    Mpp,
}

/// How a service bills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Billing {
    /// A paid token opens the service until it expires (default).
    #[default]
    Token,
    /// Prepaid and metered: `price_sat` is the price of one unit, a buyer deposits
    /// `[services.metering] deposit_units` of them (a `Payment` session, or an L402 token whose
    /// payment becomes a balance) and each request spends what the upstream reports it used.
    Metered,
}

fn default_unit() -> String {
    "unit".to_owned()
}
fn default_reserve_units() -> u64 {
    1
}
fn default_deposit_units() -> u64 {
    20
}
fn default_idle_timeout() -> u64 {
    300
}

/// `[services.metering]`: the terms of a metered service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteringTerms {
    /// What a unit is (`token`, `result`, `second`, …), shown to buyers. Default `unit`.
    #[serde(default = "default_unit")]
    pub unit: String,
    /// The most units one request may bill: reserved before it is forwarded and told to the
    /// upstream in `X-L402-Max-Units`. Default 1 (one unit per request).
    #[serde(default = "default_reserve_units")]
    pub reserve_units: u64,
    /// The units a deposit (an open, a top-up, an L402 token) buys. Default 20 (the draft's
    /// recommendation); at least `reserve_units`.
    #[serde(default = "default_deposit_units")]
    pub deposit_units: u64,
    /// Seconds without use after which a session is closed and its balance refunded. Default
    /// 300.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
}

impl Default for MeteringTerms {
    fn default() -> Self {
        Self {
            unit: default_unit(),
            reserve_units: default_reserve_units(),
            deposit_units: default_deposit_units(),
            idle_timeout_secs: default_idle_timeout(),
        }
    }
}

/// What one service (`[[services]]`) sells, and on which terms.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTerms {
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
    /// Forward the buyer's credential (`Authorization: L402|LSAT|Payment …`, the `Macaroon` and
    /// `Grpc-Metadata-Macaroon` headers) to the upstream; off by default (the upstream gets the
    /// `X-L402-*` headers).
    #[serde(default)]
    pub forward_credential: bool,
    /// The upstream's OpenAPI document (a JSON file, relative to the configuration file, or an
    /// `http(s)://` URL): `l402 serve --check` warns about priced routes charging methods it
    /// does not accept.
    #[serde(default)]
    pub openapi: Option<String>,
    /// This service's rate limit, replacing `[clients] rate_limit` (one bucket per client or
    /// token for the whole service, routes with their own limit excepted).
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// The payment schemes sold: `["l402"]` (default), `["mpp"]` or `["l402", "mpp"]`. An
    /// unpaid request gets one 402 with a challenge for each.
    #[serde(default = "default_protocols")]
    pub protocols: Vec<Protocol>,
    /// `token` (default) or `metered` (see [`Billing`]).
    #[serde(default)]
    pub billing: Billing,
    /// The metering terms of a `billing = "metered"` service (defaults if absent).
    #[serde(default)]
    pub metering: Option<MeteringTerms>,
    /// The terms of each `[[services.routes]]` rule of this service, in file order.
    #[serde(default)]
    pub routes: Vec<RouteTerms>,
    /// The upstream is a Streamable-HTTP MCP server sold per tool call (the `Payment` charge in
    /// the MCP transport): HTTP requests pass the paywall, each priced `tools/call` is paid in
    /// JSON-RPC. `price_sat` is then the price of a tool not listed in `tools` (0: free).
    #[serde(default)]
    pub mcp: bool,
    /// The price of each named tool of an `mcp = true` service (`[[services.tools]]`).
    #[serde(default)]
    pub tools: Vec<ToolTerms>,
}

/// The price of one MCP tool (`[[services.tools]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolTerms {
    /// The tool's name, as in `tools/list` and `tools/call`.
    pub name: String,
    /// Price of one call, in satoshis (at least 1).
    pub price_sat: u64,
    /// Shown to the buyer in the challenge's `description`.
    #[serde(default)]
    pub description: Option<String>,
}

/// The terms of one `[[services.routes]]` rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTerms {
    /// Price for requests matching this rule, in satoshis. Unset: the service's `price_sat`.
    pub price_sat: Option<u64>,
    /// Capabilities a token must carry to use this rule.
    #[serde(default)]
    pub capabilities_required: Vec<String>,
    /// Requests matching this rule need no payment.
    #[serde(default)]
    pub free: bool,
    /// This route's rate limit, replacing the service's (a bucket of its own).
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
}

impl ServiceTerms {
    /// The price in sats of one `tools/call` of `tool` on an `mcp = true` service (its
    /// `[[services.tools]]` entry, else the service's `price_sat`), with the entry if listed.
    pub fn tool_price(&self, tool: &str) -> (u64, Option<&ToolTerms>) {
        match self.tools.iter().find(|t| t.name == tool) {
            Some(t) => (t.price_sat, Some(t)),
            None => (self.price_sat, None),
        }
    }

    /// The metering terms when the service is metered.
    pub fn metered(&self) -> Option<MeteringTerms> {
        (self.billing == Billing::Metered).then(|| self.metering.clone().unwrap_or_default())
    }

    /// The schemes sold, as the paywall reads them.
    pub fn protocols(&self) -> l402_tower::Protocols {
        l402_tower::Protocols {
            l402: self.protocols.contains(&Protocol::L402),
            mpp: self.protocols.contains(&Protocol::Mpp),
        }
    }
}
