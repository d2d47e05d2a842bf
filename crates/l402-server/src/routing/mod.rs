//! Request routing: host + path → service (first match), then method + path → route (first
//! match) → [`RouteDecision`]. Pure; no IO.

pub mod pattern;

use std::sync::Arc;

use http::Method;

use crate::config::{Config, ConfigError, Diagnostic, ServiceConfig};
use pattern::{HostPattern, PathMatcher, PathPattern, normalize_host};

/// What routing decided for one request. Inserted as a request extension before the layer in
/// front of the forwarder runs, so that layer can look up its own settings for the service and
/// route (by name or by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision {
    /// The matched service's configuration.
    pub service: Arc<ServiceConfig>,
    /// Index of the matched service in `[[services]]` (file order).
    pub service_index: usize,
    /// Index of the matched `[[services.routes]]` entry of that service, if a route matched.
    pub route: Option<usize>,
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
    /// refused so that path rules (routes, and the layer's own path rules) cannot be bypassed
    /// through upstream path normalization.
    #[error("the request path `{0}` has dot segments or backslashes")]
    UnsafePath(String),
}

#[derive(Debug)]
struct CompiledRoute {
    methods: Vec<Method>,
    path: PathPattern,
}

#[derive(Debug)]
struct CompiledService {
    config: Arc<ServiceConfig>,
    hosts: Vec<HostPattern>,
    path: PathMatcher,
    routes: Vec<CompiledRoute>,
}

/// The compiled routing table.
#[derive(Debug)]
pub struct Router {
    services: Vec<CompiledService>,
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
                        .map_err(|e| fail(format!("services[{i}].hosts[{j}]"), e.to_string()))
                        .ok()
                })
                .collect();
            let path = PathMatcher::parse(&service.path_prefix)
                .map_err(|e| fail(format!("services[{i}].path_prefix"), e.to_string()))
                .unwrap_or(PathMatcher::Prefix("/".to_owned()));
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
                    .map_err(|e| fail(format!("services[{i}].routes[{j}].path"), e.to_string()))
                else {
                    continue;
                };
                routes.push(CompiledRoute { methods, path });
            }
            services.push(CompiledService {
                config: Arc::new(service.clone()),
                hosts,
                path,
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
        let (service_index, service) = self
            .services
            .iter()
            .enumerate()
            .find(|(_, s)| {
                (s.hosts.is_empty() || s.hosts.iter().any(|h| h.matches(&host)))
                    && s.path.matches(path)
            })
            .ok_or_else(|| RouteError::NoService {
                host: host.clone(),
                path: path.to_owned(),
            })?;
        let route = service.routes.iter().position(|r| {
            (r.methods.is_empty() || r.methods.contains(method)) && r.path.matches(path)
        });
        Ok(RouteDecision {
            service: Arc::clone(&service.config),
            service_index,
            route,
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
