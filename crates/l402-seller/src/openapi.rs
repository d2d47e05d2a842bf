//! Checks priced routes against the upstream's published OpenAPI document (`openapi` in a
//! `[[services]]` entry): a route charging for a method the upstream does not accept takes the
//! buyer's money for a 405. [`method_warnings`] is pure; [`load`] reads the document from a
//! file or fetches it from a URL.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use l402_server::config::ServiceConfig;
use l402_server::routing::pattern::PathPattern;
use serde_json::Value;

use crate::config::{SellerConfig, ServiceTerms};
use l402_server::config::{Checks, ConfigWarning};

/// How long fetching a document may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The methods an OpenAPI path item can hold operations for.
pub(crate) const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where a service's OpenAPI document is: `openapi = "openapi.json"` (relative to the
/// configuration file) or `openapi = "https://api.example.com/openapi.json"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local JSON file.
    File(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
}

impl Source {
    /// Reads the configured value.
    pub fn parse(value: &str) -> Self {
        if value.starts_with("http://") || value.starts_with("https://") {
            Source::Url(value.to_owned())
        } else {
            Source::File(PathBuf::from(value))
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
    /// The URL could not be fetched, or answered an error status.
    #[error("cannot fetch {url}: {detail}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The text is not a JSON OpenAPI document with `paths`.
    #[error("{what} is not a JSON OpenAPI document: {detail}")]
    Invalid {
        /// The file or URL.
        what: String,
        /// What is wrong.
        detail: String,
    },
}

/// Reads the document at `source` (a URL within [`FETCH_TIMEOUT`]).
pub async fn load(source: &Source) -> Result<Value, OpenApiError> {
    let (what, text) = match source {
        Source::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| OpenApiError::Read {
                path: path.clone(),
                source,
            })?;
            (path.display().to_string(), text)
        }
        Source::Url(url) => (url.clone(), fetch(url).await?),
    };
    let doc: Value = serde_json::from_str(&text).map_err(|e| OpenApiError::Invalid {
        what: what.clone(),
        detail: e.to_string(),
    })?;
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(OpenApiError::Invalid {
            what,
            detail: "no `paths` object".into(),
        });
    }
    Ok(doc)
}

async fn fetch(url: &str) -> Result<String, OpenApiError> {
    let fail = |detail: String| OpenApiError::Fetch {
        url: url.to_owned(),
        detail,
    };
    let client = l402_tls::reqwest_builder(&l402_tls::Trust::from_env())
        .map_err(|e| fail(e.to_string()))?
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    response.text().await.map_err(|e| fail(e.to_string()))
}

/// The warnings for every service with an `openapi` document: routes whose methods it does not
/// accept, and documents that cannot be read (keyed like `services[0].routes[1]`).
pub async fn config_warnings(config: &SellerConfig) -> Vec<ConfigWarning> {
    let mut checks = Checks::new(&config.proxy);
    for (i, (service, terms)) in config
        .proxy
        .services
        .iter()
        .zip(&config.l402.services)
        .enumerate()
    {
        let Some(doc) = &terms.openapi else {
            continue;
        };
        match load(&Source::parse(doc)).await {
            Ok(doc) => {
                for w in method_warnings(&doc, service, terms) {
                    checks.warn(&format!("services[{i}].routes[{}]", w.route), w.message);
                }
            }
            Err(e) => checks.warn(
                &format!("services[{i}].openapi"),
                format!("{e}; the priced routes' methods are not checked against it"),
            ),
        }
    }
    checks.finish().unwrap_or_default()
}

/// One priced route whose methods disagree with the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodWarning {
    /// The route's index in the service's `[[services.routes]]`.
    pub route: usize,
    /// What is wrong and what to set.
    pub message: String,
}

/// The priced routes of `service` whose methods the upstream's document `doc` does not accept.
/// A route is compared with the document's operations on the upstream paths it can reach
/// (after `strip_path_prefix` and the upstream URL's base path; path templates such as
/// `/items/{id}` match any one segment). `HEAD` counts as accepted where `GET` is.
pub fn method_warnings(
    doc: &Value,
    service: &ServiceConfig,
    terms: &ServiceTerms,
) -> Vec<MethodWarning> {
    let base = server_base(doc);
    let operations = operations(doc, &base);
    let mut warnings = Vec::new();
    for (j, route) in service.routes.iter().enumerate() {
        let Some(route_terms) = terms.routes.get(j) else {
            continue;
        };
        let price = route_terms.price_sat.unwrap_or(terms.price_sat);
        if route_terms.free || price == 0 {
            continue;
        }
        let Ok(pattern) = PathPattern::parse(&upstream_path(service, &route.path)) else {
            continue;
        };
        let accepted: BTreeSet<String> = operations
            .iter()
            .filter(|(path, _)| template_matches(&pattern, path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        if accepted.is_empty() {
            warnings.push(MethodWarning {
                route: j,
                message: format!(
                    "priced route `{}`: the upstream's OpenAPI document lists no operation on \
                     this path, so a buyer may pay for a 404",
                    route.path
                ),
            });
            continue;
        }
        let listed = accepted.iter().cloned().collect::<Vec<_>>().join(", ");
        if route.methods.is_empty() {
            warnings.push(MethodWarning {
                route: j,
                message: format!(
                    "priced route `{}` charges every method, but the upstream's OpenAPI document \
                     accepts only {listed} there: set methods = [{}] (and a free route for the \
                     rest) so nobody pays for a 405",
                    route.path,
                    accepted
                        .iter()
                        .map(|m| format!("\"{m}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            continue;
        }
        let rejected: Vec<&str> = route
            .methods
            .iter()
            .map(String::as_str)
            .filter(|m| {
                let head_of_get = *m == "HEAD" && accepted.contains("GET");
                !(accepted.contains(*m) || head_of_get)
            })
            .collect();
        if !rejected.is_empty() {
            warnings.push(MethodWarning {
                route: j,
                message: format!(
                    "priced route `{}` charges {}, which the upstream's OpenAPI document does \
                     not accept there (it lists {listed}): a buyer would pay for a 405",
                    route.path,
                    rejected.join(", ")
                ),
            });
        }
    }
    warnings
}

/// The path the upstream sees for a request path (or pattern) `path`.
fn upstream_path(service: &ServiceConfig, path: &str) -> String {
    let rest = if service.strip_path_prefix {
        let prefix = service.path_prefix.trim_end_matches('/');
        path.strip_prefix(prefix).unwrap_or(path)
    } else {
        path
    };
    let base = reqwest::Url::parse(&service.upstream)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let joined = format!("{base}/{}", rest.trim_start_matches('/'));
    if joined.len() > 1 && path.ends_with('/') && !joined.ends_with('/') {
        format!("{joined}/")
    } else {
        joined
    }
}

/// The request path (on the proxy) that reaches the documented `path` of the upstream's
/// document `doc`: the inverse of the forwarding (server base, upstream base path,
/// `strip_path_prefix`). `None` if the forwarding never reaches it.
pub(crate) fn proxy_path(doc: &Value, service: &ServiceConfig, path: &str) -> Option<String> {
    let full = format!("{}{path}", server_base(doc));
    let base = reqwest::Url::parse(&service.upstream)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let rest = full.strip_prefix(&base)?;
    if !rest.starts_with('/') {
        return None;
    }
    Some(if service.strip_path_prefix {
        format!("{}{rest}", service.path_prefix.trim_end_matches('/'))
    } else {
        rest.to_owned()
    })
}

/// The path of the document's first server URL (`/v1` of `https://api.example.com/v1`), or
/// empty.
fn server_base(doc: &Value) -> String {
    let Some(url) = doc.pointer("/servers/0/url").and_then(Value::as_str) else {
        return String::new();
    };
    let path = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("", |j| &url[i + 3 + j..]),
        None => url,
    };
    path.trim_end_matches('/').to_owned()
}

/// Every documented path (with the server base) and its methods, upper case.
fn operations(doc: &Value, base: &str) -> Vec<(String, Vec<String>)> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_ascii_uppercase())
                .collect();
            (format!("{base}{path}"), methods)
        })
        .collect()
}

/// Whether the route `pattern` can match a request on the documented `template`: a template
/// segment `{name}` stands for any one segment.
fn template_matches(pattern: &PathPattern, template: &str) -> bool {
    if pattern.matches(template) {
        return true;
    }
    // The pattern names a concrete path: match it against the template segment by segment.
    let concrete = pattern.as_str();
    if concrete.contains('*') {
        return false;
    }
    let (a, b): (Vec<&str>, Vec<&str>) =
        (concrete.split('/').collect(), template.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(seg, t)| seg == t || (t.starts_with('{') && t.ends_with('}')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SellerConfig;

    fn config(routes: &str, extra: &str) -> SellerConfig {
        SellerConfig::from_toml(
            &format!(
                "[backend]\nkind = \"dev\"\n[[services]]\nname = \"s\"\npath_prefix = \"/api\"\n\
                 upstream = \"http://127.0.0.1:9\"\nprice_sat = 5\n{extra}\n{routes}"
            ),
            None,
        )
        .unwrap()
    }

    fn warnings(routes: &str, extra: &str) -> Vec<String> {
        let doc: Value = serde_json::from_str(l402_sample::OPENAPI_JSON).unwrap();
        let c = config(routes, extra);
        method_warnings(&doc, &c.proxy.services[0], &c.l402.services[0])
            .into_iter()
            .map(|w| w.message)
            .collect()
    }

    #[test]
    fn a_route_priced_for_every_method_on_a_post_only_endpoint_is_flagged() {
        let w = warnings("[[services.routes]]\npath = \"/api/similarity\"\n", "");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("accepts only POST"), "{w:?}");
        assert!(w[0].contains("methods = [\"POST\"]"), "{w:?}");
    }

    #[test]
    fn a_method_the_upstream_rejects_is_flagged_and_matching_ones_are_not() {
        let w = warnings(
            "[[services.routes]]\nmethods = [\"GET\", \"POST\"]\npath = \"/api/similarity\"\n",
            "",
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("charges GET"), "{w:?}");
        let ok = warnings(
            "[[services.routes]]\nmethods = [\"POST\"]\npath = \"/api/similarity\"\n\
             [[services.routes]]\nmethods = [\"GET\", \"HEAD\"]\npath = \"/api/weather\"\n",
            "",
        );
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn free_routes_are_not_checked_and_unknown_paths_are_flagged() {
        let free = warnings(
            "[[services.routes]]\npath = \"/api/similarity\"\nfree = true\n",
            "",
        );
        assert!(free.is_empty(), "{free:?}");
        let unknown = warnings(
            "[[services.routes]]\nmethods = [\"GET\"]\npath = \"/api/nothing\"\n",
            "",
        );
        assert!(unknown[0].contains("no operation"), "{unknown:?}");
    }

    #[test]
    fn prefixes_servers_and_templates_are_followed() {
        let doc = serde_json::json!({
            "servers": [{"url": "https://api.example.com/v1"}],
            "paths": {"/items/{id}": {"get": {}}}
        });
        let c = SellerConfig::from_toml(
            "[backend]\nkind = \"dev\"\n[[services]]\nname = \"s\"\npath_prefix = \"/shop\"\n\
             strip_path_prefix = true\nupstream = \"http://127.0.0.1:9/v1\"\nprice_sat = 5\n\
             [[services.routes]]\nmethods = [\"GET\"]\npath = \"/shop/items/42\"\n\
             [[services.routes]]\nmethods = [\"DELETE\"]\npath = \"/shop/items/*\"\n",
            None,
        )
        .unwrap();
        let w = method_warnings(&doc, &c.proxy.services[0], &c.l402.services[0]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].route, 1);
        assert!(w[0].message.contains("charges DELETE"), "{w:?}");
    }

    #[test]
    fn documented_paths_map_back_to_proxy_paths() {
        let doc =
            serde_json::json!({"servers": [{"url": "https://api.example.com/v1"}], "paths": {}});
        let c = SellerConfig::from_toml(
            "[backend]\nkind = \"dev\"\n[[services]]\nname = \"s\"\npath_prefix = \"/shop\"\n\
             strip_path_prefix = true\nupstream = \"http://127.0.0.1:9/v1\"\nprice_sat = 5\n",
            None,
        )
        .unwrap();
        let s = &c.proxy.services[0];
        assert_eq!(
            proxy_path(&doc, s, "/items/{id}").as_deref(),
            Some("/shop/items/{id}")
        );
        let other = serde_json::json!({"servers": [{"url": "/v2"}], "paths": {}});
        assert_eq!(proxy_path(&other, s, "/items"), None);
    }

    #[test]
    fn sources_are_files_or_urls() {
        assert_eq!(
            Source::parse("https://x.example/openapi.json"),
            Source::Url("https://x.example/openapi.json".into())
        );
        assert_eq!(
            Source::parse("docs/openapi.json"),
            Source::File("docs/openapi.json".into())
        );
    }
}
