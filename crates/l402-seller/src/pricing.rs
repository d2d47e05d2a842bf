//! Prices each request: the proxy's [`RouteDecision`] names the service and route, this table
//! holds their L402 terms, and [`RoutePricer`] turns both into the paywall's offer.

use std::sync::Arc;

use l402_core::Msat;
use l402_server::routing::pattern::PathPattern;
use l402_server::{ClientIp, RouteDecision};
use l402_tower::{Offer, Pricer, RateLimitRule};

use crate::config::{ConfigError, Diagnostic, RouteTerms, SellerConfig, ServiceTerms};

/// What one request costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePrice {
    /// Price in millisatoshis: the matched route's `price_sat` if set, else the service's,
    /// × 1000.
    pub price_msat: u64,
    /// Capabilities a token must carry (from the matched route).
    pub required_capabilities: Vec<String>,
    /// No payment needed: a `free_paths` entry or a `free = true` route matched, or the price
    /// is 0.
    pub free: bool,
}

#[derive(Debug)]
struct CompiledTerms {
    terms: ServiceTerms,
    /// The service's name and invoice memo, shared by every offer made for it.
    names: OfferNames,
    free_paths: Vec<PathPattern>,
    /// The rate limit of requests matching no route with its own: the service's, else
    /// `[clients] rate_limit`.
    rate_limit: Option<RateLimitRule>,
    /// Each route's rate limit: its own, else the service's.
    route_rate_limits: Vec<Option<RateLimitRule>>,
}

/// The L402 terms of every service, indexed like the proxy's `[[services]]`.
#[derive(Debug)]
pub struct PriceTable {
    services: Vec<CompiledTerms>,
}

fn sat_to_msat(sat: u64) -> u64 {
    sat.saturating_mul(1000)
}

impl RoutePrice {
    /// The price of a request matching `route` of a service with `terms` (`None`: no route
    /// matched), before free paths are considered.
    pub fn of_route(terms: &ServiceTerms, route: Option<&RouteTerms>) -> Self {
        let (price_msat, required_capabilities, free) = match route {
            Some(r) => (
                sat_to_msat(r.price_sat.unwrap_or(terms.price_sat)),
                r.capabilities_required.clone(),
                r.free,
            ),
            None => (sat_to_msat(terms.price_sat), Vec::new(), false),
        };
        Self {
            price_msat,
            required_capabilities,
            free: free || price_msat == 0,
        }
    }
}

/// The text every offer of one service carries, built once: an offer per request then copies
/// no text.
#[derive(Debug, Clone)]
pub(crate) struct OfferNames {
    /// The service's name (its `services` caveat).
    pub(crate) service: Arc<str>,
    /// The invoice memo: the service's `memo`, else "L402".
    pub(crate) memo: Arc<str>,
}

impl OfferNames {
    /// The names of `service`, whose terms are `terms`.
    pub(crate) fn new(service: &str, terms: &ServiceTerms) -> Self {
        Self {
            service: service.into(),
            memo: terms.memo.as_deref().unwrap_or("L402").into(),
        }
    }
}

/// The offer `terms` make to a request of the service `names` names, priced `price`, for a
/// client at an unknown address. The token it sells carries the route's required capabilities
/// and is bound to `price`; tokens minted before that binding count as bought at the service's
/// price.
pub(crate) fn offer(names: &OfferNames, terms: &ServiceTerms, price: RoutePrice) -> Offer {
    let metering = terms.metered().map(|m| {
        std::sync::Arc::new(l402_tower::Metering {
            unit_price: Msat(price.price_msat),
            unit: m.unit,
            reserve_units: m.reserve_units,
            deposit_units: m.deposit_units,
            idle_timeout_secs: m.idle_timeout_secs,
        })
    });
    // A metered offer sells a deposit; the unit price is in its metering.
    let price_msat = metering
        .as_ref()
        .map_or(price.price_msat, |m| m.deposit().0);
    let base_msat = match &metering {
        Some(m) => sat_to_msat(terms.price_sat).saturating_mul(m.deposit_units),
        None => sat_to_msat(terms.price_sat),
    };
    Offer {
        service: names.service.clone(),
        price: Msat(price_msat),
        base_price: Msat(base_msat),
        required_capabilities: price.required_capabilities,
        grant_capabilities: terms.capabilities.clone(),
        token_lifetime_secs: (terms.token_lifetime_secs > 0).then_some(terms.token_lifetime_secs),
        invoice_expiry_secs: terms.invoice_expiry_secs,
        memo: names.memo.clone(),
        freebies_per_ip: terms.freebies_per_ip,
        forward_credential: terms.forward_credential,
        protocols: terms.protocols(),
        client_ip: None,
        rate_limit: None,
        metering,
    }
}

impl PriceTable {
    /// Compiles the terms of `config` (run [`SellerConfig::check`] first for complete
    /// messages).
    pub fn new(config: &SellerConfig) -> Result<Self, ConfigError> {
        let mut errors = Vec::new();
        if config.l402.services.len() != config.proxy.services.len() {
            errors.push(Diagnostic {
                location: config.proxy.locate("services"),
                message: format!(
                    "{} services but L402 terms for {}",
                    config.proxy.services.len(),
                    config.l402.services.len()
                ),
            });
        }
        let mut services = Vec::with_capacity(config.l402.services.len());
        // Each configured limit fills its own buckets: `[clients]` is scope 0, then one scope
        // per service or route limit, in file order.
        let mut scopes = 0u32;
        let mut rule = |limit: &Option<crate::config::RateLimitConfig>| {
            limit.as_ref().map(|l| {
                scopes += 1;
                RateLimitRule {
                    scope: scopes,
                    limit: l.limit(),
                }
            })
        };
        let global = config
            .l402
            .clients
            .rate_limit
            .as_ref()
            .map(|l| RateLimitRule {
                scope: 0,
                limit: l.limit(),
            });
        for (i, terms) in config.l402.services.iter().enumerate() {
            let mut free_paths = Vec::with_capacity(terms.free_paths.len());
            for (j, p) in terms.free_paths.iter().enumerate() {
                match PathPattern::parse(p) {
                    Ok(p) => free_paths.push(p),
                    Err(message) => errors.push(Diagnostic {
                        location: config
                            .proxy
                            .locate(&format!("services[{i}].free_paths[{j}]")),
                        message: message.to_string(),
                    }),
                }
            }
            let rate_limit = rule(&terms.rate_limit).or(global);
            let route_rate_limits = terms
                .routes
                .iter()
                .map(|r| rule(&r.rate_limit).or(rate_limit))
                .collect();
            let name = config.proxy.services.get(i).map_or("", |s| s.name.as_str());
            services.push(CompiledTerms {
                names: OfferNames::new(name, terms),
                terms: terms.clone(),
                free_paths,
                rate_limit,
                route_rate_limits,
            });
        }
        if errors.is_empty() {
            Ok(Self { services })
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }

    /// The terms and price of a routed request (`free_paths` match the decision's normalised
    /// path); `None` if the decision names a service this table does not know.
    pub fn price(&self, decision: &RouteDecision) -> Option<(&ServiceTerms, RoutePrice)> {
        let service = self.services.get(decision.service_index)?;
        let terms = &service.terms;
        let free_path = service.free_paths.iter().any(|p| decision.path_matches(p));
        let route = decision.route.and_then(|j| terms.routes.get(j));
        let mut price = RoutePrice::of_route(terms, route);
        price.free |= free_path;
        Some((terms, price))
    }

    /// The shared names of the service at `index` (file order), if it is named `service`: a
    /// table built from another configuration than the proxy's has none to share.
    fn names(&self, index: usize, service: &str) -> Option<&OfferNames> {
        let names = &self.services.get(index)?.names;
        (*names.service == *service).then_some(names)
    }

    /// The terms of the service at `index` (file order), if any.
    pub fn terms(&self, index: usize) -> Option<&ServiceTerms> {
        self.services.get(index).map(|s| &s.terms)
    }

    /// The rate limit a routed request counts against: its route's, else its service's, else
    /// `[clients] rate_limit`.
    pub fn rate_limit(&self, decision: &RouteDecision) -> Option<RateLimitRule> {
        let service = self.services.get(decision.service_index)?;
        match decision.route {
            Some(j) => service.route_rate_limits.get(j).copied().flatten(),
            None => service.rate_limit,
        }
    }
}

/// Prices each request from the [`RouteDecision`] the proxy attached and the [`PriceTable`];
/// free routes pass.
#[derive(Debug, Clone)]
pub struct RoutePricer {
    table: Arc<PriceTable>,
}

impl RoutePricer {
    /// A pricer over `table`.
    pub fn new(table: PriceTable) -> Self {
        Self::shared(Arc::new(table))
    }

    /// A pricer over a table shared with others (the MCP tool layer).
    pub fn shared(table: Arc<PriceTable>) -> Self {
        Self { table }
    }
}

impl Pricer for RoutePricer {
    fn offer(&self, request: &http::request::Parts) -> Option<Offer> {
        let decision = request.extensions.get::<RouteDecision>()?;
        let Some((terms, price)) = self.table.price(decision) else {
            // Only a table built from another configuration than the proxy's gets here. Fail
            // closed: an offer no one can pay, rather than the service for free.
            tracing::error!(
                service = decision.service.name.as_str(),
                "no L402 terms for this service; refusing to serve it"
            );
            return Some(Offer::new(decision.service.name.clone(), Msat(u64::MAX)));
        };
        // An MCP service's requests pass here free: its priced tool calls are sold inside
        // JSON-RPC by the MCP tool layer.
        if price.free || terms.mcp {
            return None;
        }
        let name = decision.service.name.as_str();
        let names = match self.table.names(decision.service_index, name) {
            Some(shared) => shared,
            None => &OfferNames::new(name, terms),
        };
        Some(Offer {
            client_ip: request.extensions.get::<ClientIp>().map(|c| c.0),
            rate_limit: self.table.rate_limit(decision),
            ..offer(names, terms, price)
        })
    }
}
