//! What each request path costs, for the documents and quotes: the proxy's routing table and
//! the seller's price table, asked without a request.

use http::Method;
use l402_discovery::Resource;
use l402_server::Router;
use l402_server::routing::RouteError;

use crate::config::{ConfigError, SellerConfig, ServiceTerms};
use crate::pricing::PriceTable;

/// The price of one routed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPrice {
    /// The service that answers it.
    pub(crate) service: String,
    /// Its index in `[[services]]`.
    pub(crate) index: usize,
    /// The price in millisatoshis (meaningless when `free`).
    pub(crate) price_msat: u64,
    /// No payment needed.
    pub(crate) free: bool,
    /// Capabilities the token must carry.
    pub(crate) required_capabilities: Vec<String>,
}

/// One service's name, terms and resources (as in the manifest).
#[derive(Debug)]
pub(crate) struct CatalogService {
    pub(crate) name: String,
    pub(crate) terms: ServiceTerms,
    pub(crate) resources: Vec<Resource>,
}

/// Routing and prices of a configuration.
#[derive(Debug)]
pub(crate) struct Catalog {
    router: Router,
    table: PriceTable,
    pub(crate) services: Vec<CatalogService>,
}

impl Catalog {
    /// The catalog of `config`.
    pub(crate) fn new(config: &SellerConfig) -> Result<Self, ConfigError> {
        let services = config
            .proxy
            .services
            .iter()
            .zip(&config.l402.services)
            .map(|(service, terms)| CatalogService {
                name: service.name.clone(),
                terms: terms.clone(),
                resources: super::manifest::resources(service, terms),
            })
            .collect();
        Ok(Self {
            router: Router::new(&config.proxy)?,
            table: PriceTable::new(config)?,
            services,
        })
    }

    /// The price of `method` on `path` sent to `host`.
    pub(crate) fn route(
        &self,
        method: &Method,
        host: Option<&str>,
        path: &str,
    ) -> Result<PathPrice, RouteError> {
        let decision = self.router.route(method, host, path)?;
        let Some((_, price)) = self.table.price(&decision) else {
            // A table built from the same configuration knows every service.
            return Err(RouteError::NoService {
                host: host.unwrap_or_default().to_owned(),
                path: path.to_owned(),
            });
        };
        Ok(PathPrice {
            service: decision.service.name.clone(),
            index: decision.service_index,
            price_msat: price.price_msat,
            free: price.free,
            required_capabilities: price.required_capabilities,
        })
    }

    /// The price of `method` (upper case) on `path`, on any host; `None` if nothing routes it.
    pub(crate) fn price_path(&self, method: &str, path: &str) -> Option<PathPrice> {
        let method = Method::from_bytes(method.as_bytes()).ok()?;
        self.route(&method, None, path).ok()
    }

    /// The service named `name`, with its index.
    pub(crate) fn service(&self, name: &str) -> Option<(usize, &CatalogService)> {
        self.services
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
    }
}
