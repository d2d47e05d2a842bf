//! The `/.well-known/l402.json` manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The seller's manifest: everything it sells and on which terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version, [`MANIFEST_VERSION`](crate::MANIFEST_VERSION).
    pub version: String,
    /// Who sells.
    pub provider: Provider,
    /// Currencies prices are given in: `["msat"]`.
    pub currencies: Vec<String>,
    /// Macaroon identifier versions minted: `[0]`.
    pub macaroon_versions: Vec<u16>,
    /// How invoices are paid: `["bolt11"]`.
    pub payment_methods: Vec<String>,
    /// The quote endpoint, relative to the manifest's origin (`/l402/quote`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_endpoint: Option<String>,
    /// The OpenAPI document, relative to the manifest's origin (`/openapi.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi: Option<String>,
    /// What is sold, one entry per service (the `services` caveat's names).
    pub services: Vec<Service>,
    /// Caveats a buyer may add to a token it holds (attenuation), by condition.
    #[serde(default)]
    pub caveats: BTreeMap<String, CaveatInfo>,
}

/// Who sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// A display name.
    pub name: String,
    /// The seller's public URL, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The Lightning node's public key (hex) invoices are paid to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_pubkey: Option<String>,
}

/// One service: the unit a token is bought for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The service's name, as in the token's `services` caveat.
    pub name: String,
    /// What it is (the invoice memo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tiers sold (`services=name:tier`).
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Capabilities a token bought for this service carries.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// How long a token lives after it is minted, in seconds; absent: no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime_secs: Option<u64>,
    /// The priced (and free) resources, in matching order: the first that matches a request
    /// prices it.
    #[serde(default)]
    pub resources: Vec<Resource>,
}

/// A tier of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// The tier number in `services=name:tier`.
    pub tier: u8,
    /// A display name.
    pub name: String,
}

/// A path (pattern) and method and what a request to it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The request path or pattern (`*` matches within a segment; a trailing `*` matches the
    /// rest of the path).
    pub path: String,
    /// The HTTP method, or `*` for any.
    pub method: String,
    /// The capability the token must carry, if any (the first of
    /// [`capabilities_required`](Resource::capabilities_required)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    /// Every capability the token must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities_required: Vec<String>,
    /// The price.
    pub pricing: Pricing,
    /// The MCP tool this price is for: a JSON-RPC `tools/call` of that name posted to
    /// [`path`](Resource::path), sold per call with the `Payment` scheme's MCP transport. Such a
    /// resource is not priced by path alone ([`Manifest::resource_for`] skips it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_tool: Option<String>,
}

/// How a resource is priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    /// `fixed` (the only model this seller uses), `formula` or `dynamic`.
    pub model: String,
    /// The price of one token for this resource, in millisatoshis; 0: free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_msat: Option<u64>,
}

impl Manifest {
    /// The first resource matching `method` and `path` (services in order, each service's
    /// resources in order), with its service: what a request there costs, as advertised.
    pub fn resource_for(&self, method: &str, path: &str) -> Option<(&Service, &Resource)> {
        self.services.iter().find_map(|s| {
            s.resources
                .iter()
                .find(|r| {
                    r.mcp_tool.is_none()
                        && (r.method == "*" || r.method.eq_ignore_ascii_case(method))
                        && crate::path_matches(&r.path, path)
                })
                .map(|r| (s, r))
        })
    }
}

impl Pricing {
    /// A fixed price.
    pub fn fixed(price_msat: u64) -> Self {
        Self {
            model: "fixed".to_owned(),
            price_msat: Some(price_msat),
        }
    }
}

/// A caveat a buyer may add to narrow a token it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaveatInfo {
    /// The value's type: `string`, `list` or `unix_seconds`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it restricts.
    pub description: String,
    /// Whether a holder may add it (always `true` here: these narrow the token).
    pub attenuation: bool,
}
