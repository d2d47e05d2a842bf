//! `[discovery]`: what the seller says about itself in `/.well-known/l402.json`,
//! `/openapi.json` and `POST /l402/quote` (see `crates/l402-seller/CONFIG.md`).

use l402_server::config::Checks;
use serde::Deserialize;

fn enabled() -> bool {
    true
}

/// `[discovery]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySettings {
    /// Serve the manifest, the OpenAPI document and quotes (before routing, on every host),
    /// and point every 402 at the manifest. Default true.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// The provider's display name in the manifest. Unset: `L402 seller`.
    #[serde(default)]
    pub provider_name: Option<String>,
    /// The seller's public URL in the manifest. Unset: not published.
    #[serde(default)]
    pub provider_uri: Option<String>,
}

impl Default for DiscoverySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            provider_name: None,
            provider_uri: None,
        }
    }
}

/// Checks `[discovery]`: a provider name that is not blank, a provider URI that is an
/// `http(s)://` URL.
pub(super) fn check(settings: &DiscoverySettings, checks: &mut Checks<'_>) {
    if settings
        .provider_name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty())
    {
        checks.error("discovery.provider_name", "must not be blank".to_owned());
    }
    if let Some(uri) = &settings.provider_uri
        && !(uri.starts_with("https://") || uri.starts_with("http://"))
    {
        checks.error(
            "discovery.provider_uri",
            format!("`{uri}` is not an http:// or https:// URL"),
        );
    }
}
