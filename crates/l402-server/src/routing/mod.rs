//! Request routing: the path is normalised ([`normalize`]), then host + path → service (first
//! match), then method + path → route (first match) → [`RouteDecision`]. Pure; no IO.

pub mod normalize;
pub mod pattern;

use std::sync::Arc;

use http::Method;

use crate::config::{Config, ConfigError, Diagnostic, PathsConfig, ServiceConfig};
use normalize::NormalizeError;
use pattern::{HostPattern, PathMatcher, PathPattern, normalized_host};

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
    /// The normalised request path: what routing matched, what the layer must judge (match
    /// its own path rules with [`RouteDecision::path_matches`]) and what is forwarded.
    pub path: String,
    /// Whether path matching ignores ASCII case (`[paths] case_insensitive`).
    pub case_insensitive: bool,
}

impl RouteDecision {
    /// True if `pattern` matches the normalised request path, with routing's case rule.
    pub fn path_matches(&self, pattern: &PathPattern) -> bool {
        pattern.matches_case(&self.path, self.case_insensitive)
    }
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
    /// The path has no canonical form under `[paths]` (an encoded slash, a `;` parameter, a
    /// `..` above the root, a control character, an invalid escape…); refused so that path
    /// rules (routes, and the layer's own path rules) cannot be bypassed through the upstream's
    /// own path normalisation.
    #[error("the request path is refused: {0}")]
    BadPath(#[from] NormalizeError),
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
    paths: PathsConfig,
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
            Ok(Self {
                services,
                paths: config.paths,
            })
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }

    /// Routes a request. `host` is the `Host` header or URI authority as sent (port allowed);
    /// `path` is the URI path as sent, without the query: it is normalised first, and the
    /// decision carries the normalised path.
    pub fn route(
        &self,
        method: &Method,
        host: Option<&str>,
        path: &str,
    ) -> Result<RouteDecision, RouteError> {
        let path = normalize::normalize(path, self.paths.normalize_options())?;
        let fold = self.paths.case_insensitive;
        let host = host.map(normalized_host).unwrap_or_default();
        let (service_index, service) = self
            .services
            .iter()
            .enumerate()
            .find(|(_, s)| {
                (s.hosts.is_empty() || s.hosts.iter().any(|h| h.matches(&host)))
                    && s.path.matches_case(&path, fold)
            })
            .ok_or_else(|| RouteError::NoService {
                host: host.into_owned(),
                path: path.clone(),
            })?;
        let route = service.routes.iter().position(|r| {
            (r.methods.is_empty() || r.methods.contains(method)) && r.path.matches_case(&path, fold)
        });
        Ok(RouteDecision {
            service: Arc::clone(&service.config),
            service_index,
            route,
            path,
            case_insensitive: fold,
        })
    }

    /// The services, in match order.
    pub fn services(&self) -> impl Iterator<Item = &Arc<ServiceConfig>> {
        self.services.iter().map(|s| &s.config)
    }
}
