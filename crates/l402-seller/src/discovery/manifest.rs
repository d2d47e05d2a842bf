//! The manifest (`/.well-known/l402.json`) generated from the configuration. Pure.

use std::collections::BTreeMap;

use l402_discovery::{
    CaveatInfo, MANIFEST_VERSION, Manifest, OPENAPI_PATH, Pricing, Provider, QUOTE_PATH, Resource,
    Service, Tier,
};
use l402_server::config::ServiceConfig;

use crate::config::{SellerConfig, ServiceTerms};
use crate::pricing::RoutePrice;

/// The provider name when `[discovery] provider_name` is unset.
pub(crate) const DEFAULT_PROVIDER_NAME: &str = "L402 seller";

/// The manifest of `config`, for a node with public key `node_pubkey`.
pub(crate) fn manifest(config: &SellerConfig, node_pubkey: Option<String>) -> Manifest {
    let discovery = &config.l402.discovery;
    Manifest {
        version: MANIFEST_VERSION.to_owned(),
        provider: Provider {
            name: discovery
                .provider_name
                .clone()
                .unwrap_or_else(|| DEFAULT_PROVIDER_NAME.to_owned()),
            uri: discovery.provider_uri.clone(),
            node_pubkey,
        },
        currencies: vec!["msat".to_owned()],
        macaroon_versions: vec![0],
        payment_methods: vec!["bolt11".to_owned()],
        quote_endpoint: Some(QUOTE_PATH.to_owned()),
        openapi: Some(OPENAPI_PATH.to_owned()),
        services: config
            .proxy
            .services
            .iter()
            .zip(&config.l402.services)
            .map(|(service, terms)| self::service(service, terms))
            .collect(),
        caveats: caveats(),
    }
}

fn service(service: &ServiceConfig, terms: &ServiceTerms) -> Service {
    Service {
        name: service.name.clone(),
        description: terms.memo.clone(),
        tiers: vec![Tier {
            tier: 0,
            name: "standard".to_owned(),
        }],
        capabilities: terms.capabilities.clone(),
        token_lifetime_secs: (terms.token_lifetime_secs > 0).then_some(terms.token_lifetime_secs),
        resources: resources(service, terms),
    }
}

/// The catch-all pattern of a service's path prefix: `/api` gives `/api/*` (which also
/// matches `/api`), `/` gives `/*`.
pub(crate) fn prefix_pattern(prefix: &str) -> String {
    format!("{}/*", prefix.trim_end_matches('/'))
}

/// The service's resources in the order they price a request: free paths, then routes, then
/// the rest of the path prefix at the service's price.
pub(crate) fn resources(service: &ServiceConfig, terms: &ServiceTerms) -> Vec<Resource> {
    let mut out = Vec::new();
    for path in &terms.free_paths {
        out.push(resource(path, "*", &[], 0));
    }
    for (route, route_terms) in service.routes.iter().zip(&terms.routes) {
        let price = RoutePrice::of_route(terms, Some(route_terms));
        let msat = if price.free { 0 } else { price.price_msat };
        if route.methods.is_empty() {
            out.push(resource(
                &route.path,
                "*",
                &price.required_capabilities,
                msat,
            ));
        }
        for method in &route.methods {
            out.push(resource(
                &route.path,
                method,
                &price.required_capabilities,
                msat,
            ));
        }
    }
    if terms.mcp {
        for tool in &terms.tools {
            out.push(Resource {
                mcp_tool: Some(tool.name.clone()),
                ..resource(
                    &prefix_pattern(&service.path_prefix),
                    "POST",
                    &[],
                    tool.price_sat.saturating_mul(1000),
                )
            });
        }
    }
    let rest = RoutePrice::of_route(terms, None);
    out.push(resource(
        &prefix_pattern(&service.path_prefix),
        "*",
        &[],
        if rest.free { 0 } else { rest.price_msat },
    ));
    out
}

fn resource(path: &str, method: &str, capabilities: &[String], price_msat: u64) -> Resource {
    Resource {
        path: path.to_owned(),
        method: method.to_owned(),
        capability: capabilities.first().cloned(),
        capabilities_required: capabilities.to_vec(),
        pricing: Pricing::fixed(price_msat),
        mcp_tool: None,
    }
}

/// The caveats a holder may add to narrow its token (the satisfiers of `l402-core`).
fn caveats() -> BTreeMap<String, CaveatInfo> {
    let entry = |kind: &str, description: &str| CaveatInfo {
        kind: kind.to_owned(),
        description: description.to_owned(),
        attenuation: true,
    };
    BTreeMap::from([
        (
            "services".to_owned(),
            entry(
                "list",
                "name:tier pairs the token may be used for; a later caveat may only remove services or lower tiers",
            ),
        ),
        (
            "<service>_capabilities".to_owned(),
            entry(
                "list",
                "capabilities the token keeps for <service>; a later caveat may only remove some",
            ),
        ),
        (
            "<service>_valid_until".to_owned(),
            entry(
                "unix_seconds",
                "the token is refused for <service> from this time on; the earliest value applies",
            ),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zero_config_manifest_lists_the_sample_prices() {
        let config = SellerConfig::zero_config("127.0.0.1:9".parse().unwrap()).unwrap();
        let m = manifest(&config, Some("02ab".into()));
        assert_eq!(m.currencies, ["msat"]);
        let similarity = m.services.iter().find(|s| s.name == "similarity").unwrap();
        let post = &similarity.resources[0];
        assert_eq!(
            (post.path.as_str(), post.method.as_str()),
            ("/api/similarity", "POST")
        );
        assert_eq!(post.pricing.price_msat, Some(5000));
        assert_eq!(post.capability.as_deref(), Some("compute"));
        assert_eq!(similarity.resources[1].pricing.price_msat, Some(0));
        let weather = m.services.iter().find(|s| s.name == "weather").unwrap();
        assert_eq!(weather.resources[0].pricing.price_msat, Some(2000));
        assert_eq!(weather.token_lifetime_secs, Some(3600));
        let landing = m.services.iter().find(|s| s.name == "landing").unwrap();
        assert_eq!(landing.resources.last().unwrap().path, "/*");
        assert_eq!(
            landing.resources.last().unwrap().pricing.price_msat,
            Some(0)
        );
        assert_eq!(m.provider.node_pubkey.as_deref(), Some("02ab"));
    }

    #[test]
    fn route_prices_free_paths_and_the_provider_come_from_the_file() {
        let config = SellerConfig::from_toml(
            "[backend]\nkind = \"dev\"\n[discovery]\nprovider_name = \"Acme\"\n\
             provider_uri = \"https://api.acme.example\"\n\
             [[services]]\nname = \"s\"\npath_prefix = \"/api/\"\n\
             upstream = \"http://127.0.0.1:9\"\nprice_sat = 3\nfree_paths = [\"/api/docs\"]\n\
             [[services.routes]]\nmethods = [\"GET\", \"PUT\"]\npath = \"/api/big\"\nprice_sat = 40\n",
            None,
        )
        .unwrap();
        let m = manifest(&config, None);
        assert_eq!(m.provider.name, "Acme");
        assert_eq!(m.provider.uri.as_deref(), Some("https://api.acme.example"));
        let r = &m.services[0].resources;
        let summary: Vec<(&str, &str, Option<u64>)> = r
            .iter()
            .map(|r| (r.path.as_str(), r.method.as_str(), r.pricing.price_msat))
            .collect();
        assert_eq!(
            summary,
            [
                ("/api/docs", "*", Some(0)),
                ("/api/big", "GET", Some(40_000)),
                ("/api/big", "PUT", Some(40_000)),
                ("/api/*", "*", Some(3000)),
            ]
        );
        assert_eq!(m.services[0].token_lifetime_secs, None);
    }
}
