//! Request routing: host + path → service (first match), then method + path → route (first
//! match) → [`RouteDecision`]. Pure; no IO.

pub mod pattern;

use std::sync::Arc;

use http::Method;

use crate::config::{Config, ConfigError, Diagnostic, ServiceConfig};
use pattern::{HostPattern, PathMatcher, PathPattern, normalize_host};

/// What routing decided for one request. Inserted as a request extension before the paywall
/// layer runs, so the paywall can read the price and capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision {
    /// The matched service's configuration.
    pub service: Arc<ServiceConfig>,
    /// Index of the matched `[[services.routes]]` entry, if a route matched.
    pub route: Option<usize>,
    /// Price in millisatoshis (route price if set, else the service's `price_sat`, × 1000).
    pub price_msat: u64,
    /// Capabilities a token must carry (from the matched route).
    pub required_capabilities: Vec<String>,
    /// No payment needed: a `free_paths` entry or a `free = true` route matched, or the price
    /// is 0.
    pub free: bool,
}

/// Why no service takes a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// No `[[services]]` entry matches this host and path.
    #[error("no service is configured for host `{host}` and path `{path}`")]
    NoService {
        /// The normalized request host (empty if none was sent).
        host: String,
        /// The request path.
        path: String,
    },
    /// The path has `.` or `..` segments (also percent-encoded) or a backslash; such paths are
    /// refused so that free-path rules cannot be bypassed through upstream path normalization.
    #[error("the request path `{0}` has dot segments or backslashes")]
    UnsafePath(String),
}

#[derive(Debug)]
struct CompiledRoute {
    methods: Vec<Method>,
    path: PathPattern,
    price_msat: u64,
    capabilities: Vec<String>,
    free: bool,
}

#[derive(Debug)]
struct CompiledService {
    config: Arc<ServiceConfig>,
    hosts: Vec<HostPattern>,
    path: PathMatcher,
    free_paths: Vec<PathPattern>,
    routes: Vec<CompiledRoute>,
}

/// The compiled routing table.
#[derive(Debug)]
pub struct Router {
    services: Vec<CompiledService>,
}

fn sat_to_msat(sat: u64) -> u64 {
    sat.saturating_mul(1000)
}

impl Router {
    /// Compiles the services of `config` (run [`Config::check`] first for complete messages).
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let mut errors = Vec::new();
        let mut fail = |key: String, message: String| {
            errors.push(Diagnostic {
                location: config.locate(&key),
                message,
            });
        };
        let mut services = Vec::with_capacity(config.services.len());
        for (i, service) in config.services.iter().enumerate() {
            let hosts = service
                .hosts
                .iter()
                .enumerate()
                .filter_map(|(j, h)| {
                    HostPattern::parse(h)
                        .map_err(|e| fail(format!("services[{i}].hosts[{j}]"), e))
                        .ok()
                })
                .collect();
            let path = PathMatcher::parse(&service.path_prefix)
                .map_err(|e| fail(format!("services[{i}].path_prefix"), e))
                .unwrap_or(PathMatcher::Prefix("/".to_owned()));
            let free_paths = service
                .free_paths
                .iter()
                .enumerate()
                .filter_map(|(j, p)| {
                    PathPattern::parse(p)
                        .map_err(|e| fail(format!("services[{i}].free_paths[{j}]"), e))
                        .ok()
                })
                .collect();
            let mut routes = Vec::with_capacity(service.routes.len());
            for (j, route) in service.routes.iter().enumerate() {
                let methods = route
                    .methods
                    .iter()
                    .filter_map(|m| {
                        Method::from_bytes(m.as_bytes())
                            .map_err(|_| {
                                fail(
                                    format!("services[{i}].routes[{j}].methods"),
                                    format!("`{m}` is not an HTTP method"),
                                )
                            })
                            .ok()
                    })
                    .collect();
                let Ok(path) = PathPattern::parse(&route.path)
                    .map_err(|e| fail(format!("services[{i}].routes[{j}].path"), e))
                else {
                    continue;
                };
                routes.push(CompiledRoute {
                    methods,
                    path,
                    price_msat: sat_to_msat(route.price_sat.unwrap_or(service.price_sat)),
                    capabilities: route.capabilities_required.clone(),
                    free: route.free,
                });
            }
            services.push(CompiledService {
                config: Arc::new(service.clone()),
                hosts,
                path,
                free_paths,
                routes,
            });
        }
        if errors.is_empty() {
            Ok(Self { services })
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }

    /// Routes a request. `host` is the `Host` header or URI authority as sent (port allowed);
    /// `path` is the URI path without the query.
    pub fn route(
        &self,
        method: &Method,
        host: Option<&str>,
        path: &str,
    ) -> Result<RouteDecision, RouteError> {
        if has_unsafe_segments(path) {
            return Err(RouteError::UnsafePath(path.to_owned()));
        }
        let host = host.map(normalize_host).unwrap_or_default();
        let service = self
            .services
            .iter()
            .find(|s| {
                (s.hosts.is_empty() || s.hosts.iter().any(|h| h.matches(&host)))
                    && s.path.matches(path)
            })
            .ok_or_else(|| RouteError::NoService {
                host: host.clone(),
                path: path.to_owned(),
            })?;
        let free_path = service.free_paths.iter().any(|p| p.matches(path));
        let route = service.routes.iter().enumerate().find(|(_, r)| {
            (r.methods.is_empty() || r.methods.contains(method)) && r.path.matches(path)
        });
        let (route_index, price_msat, required_capabilities, route_free) = match route {
            Some((j, r)) => (Some(j), r.price_msat, r.capabilities.clone(), r.free),
            None => (
                None,
                sat_to_msat(service.config.price_sat),
                Vec::new(),
                false,
            ),
        };
        Ok(RouteDecision {
            service: Arc::clone(&service.config),
            route: route_index,
            price_msat,
            required_capabilities,
            free: free_path || route_free || price_msat == 0,
        })
    }

    /// The services, in match order.
    pub fn services(&self) -> impl Iterator<Item = &Arc<ServiceConfig>> {
        self.services.iter().map(|s| &s.config)
    }
}

/// True for `.`/`..` segments (also as `%2e`) and backslashes (also `%5c`).
fn has_unsafe_segments(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.contains('\\') || lower.contains("%5c") {
        return true;
    }
    lower.split('/').any(|seg| {
        let decoded = seg.replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths() {
        assert!(has_unsafe_segments("/public/../paid"));
        assert!(has_unsafe_segments("/public/%2E%2e/paid"));
        assert!(has_unsafe_segments("/./x"));
        assert!(has_unsafe_segments("/a\\b"));
        assert!(!has_unsafe_segments("/a/b.c/..d"));
        assert!(!has_unsafe_segments("/"));
    }
}
