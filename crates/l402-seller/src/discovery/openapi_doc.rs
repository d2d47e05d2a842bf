//! The seller's `/openapi.json`: the upstreams' own documents (`openapi` in a `[[services]]`
//! entry) merged, their paths rewritten to the proxy's, plus an operation for each priced
//! route they do not describe; each priced operation gets its service and price
//! (`x-l402-service`, `x-l402-price-msat`), a `402` response, and, when its service sells the
//! `Payment` scheme, `x-payment-info` (one Lightning `charge` offer in satoshis). Pure.

use l402_discovery::{MANIFEST_PATH, PaymentInfo};
use serde_json::{Map, Value, json};

use super::catalog::Catalog;
use crate::config::SellerConfig;
use crate::openapi::{METHODS, proxy_path};

/// The merged document. `upstream[i]` is the `i`-th service's own document, if it has one.
pub(crate) fn document(
    config: &SellerConfig,
    upstream: &[Option<Value>],
    catalog: &Catalog,
    title: &str,
) -> Value {
    let base = upstream.iter().flatten().next();
    let mut doc = match base {
        Some(doc) => doc.clone(),
        None => json!({
            "openapi": "3.1.0",
            "info": {
                "title": title,
                "version": env!("CARGO_PKG_VERSION"),
                "description": "The HTTP operations this L402 seller sells; priced ones carry x-l402-price-msat, and x-payment-info where the Payment scheme is sold.",
            },
        }),
    };
    let Some(root) = doc.as_object_mut() else {
        return doc;
    };
    // The proxy is the server now: the paths below are the proxy's.
    root.insert("servers".into(), json!([{"url": "/"}]));
    root.insert("x-l402-manifest".into(), json!(MANIFEST_PATH));
    let mut paths = Map::new();
    let mut components = root
        .remove("components")
        .and_then(|c| c.as_object().cloned())
        .unwrap_or_default();
    for (i, own) in upstream.iter().enumerate() {
        let (Some(own), Some(service)) = (own, config.proxy.services.get(i)) else {
            continue;
        };
        if let Some(own_paths) = own.get("paths").and_then(Value::as_object) {
            for (path, item) in own_paths {
                if let Some(mapped) = proxy_path(own, service, path) {
                    paths.entry(mapped).or_insert_with(|| item.clone());
                }
            }
        }
        if !std::ptr::eq(own, base.unwrap_or(own))
            && let Some(theirs) = own.get("components").and_then(Value::as_object)
        {
            merge_components(&mut components, theirs);
        }
    }
    add_priced_routes(config, catalog, &mut paths);
    price_operations(catalog, &mut paths);
    root.insert("paths".into(), Value::Object(paths));
    if !components.is_empty() {
        root.insert("components".into(), Value::Object(components));
    }
    doc
}

/// Adds the sections of another document's `components` this one does not define.
fn merge_components(ours: &mut Map<String, Value>, theirs: &Map<String, Value>) {
    for (section, entries) in theirs {
        let Some(entries) = entries.as_object() else {
            continue;
        };
        let target = ours
            .entry(section.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(target) = target.as_object_mut() {
            for (name, value) in entries {
                target.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
    }
}

/// An operation for each method of each priced route with a concrete path (no `*`) that no
/// upstream document describes.
fn add_priced_routes(config: &SellerConfig, catalog: &Catalog, paths: &mut Map<String, Value>) {
    for (service, terms) in config.proxy.services.iter().zip(&config.l402.services) {
        for (route, route_terms) in service.routes.iter().zip(&terms.routes) {
            if route_terms.free || route.path.contains('*') {
                continue;
            }
            let methods: Vec<String> = if route.methods.is_empty() {
                vec!["get".into(), "post".into()]
            } else {
                route
                    .methods
                    .iter()
                    .map(|m| m.to_ascii_lowercase())
                    .collect()
            };
            let item = paths
                .entry(route.path.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for method in methods {
                if !METHODS.contains(&method.as_str()) || item.contains_key(&method) {
                    continue;
                }
                // Only where the route really prices this method (an earlier free route wins).
                if catalog
                    .price_path(&method.to_ascii_uppercase(), &route.path)
                    .is_none_or(|p| p.free)
                {
                    continue;
                }
                let summary = terms
                    .memo
                    .clone()
                    .unwrap_or_else(|| format!("{} ({})", service.name, route.path));
                item.insert(
                    method,
                    json!({
                        "summary": summary,
                        "responses": {"200": {"description": "The upstream's answer."}},
                    }),
                );
            }
        }
    }
}

/// `x-l402-service`, `x-l402-price-msat` and a `402` response on every operation a request
/// would pay for, and `x-payment-info` (an MPP Lightning charge offer) where its service sells
/// the `Payment` scheme.
fn price_operations(catalog: &Catalog, paths: &mut Map<String, Value>) {
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(price) =
                catalog.price_path(&method.to_ascii_uppercase(), &fill_templates(path))
            else {
                continue;
            };
            if price.free {
                continue;
            }
            // The MPP offer only where the service sells the `Payment` scheme: an agent that
            // speaks only MPP must not be sent to an L402-only 402.
            let sells_mpp = catalog
                .service(&price.service)
                .is_some_and(|(_, s)| s.terms.protocols().mpp);
            if sells_mpp {
                let description = format!("one Lightning charge for service {}", price.service);
                op.insert(
                    "x-payment-info".into(),
                    serde_json::to_value(PaymentInfo::lightning_charge(
                        price.price_msat,
                        Some(description),
                    ))
                    .unwrap_or(Value::Null),
                );
            }
            op.insert("x-l402-service".into(), json!(price.service));
            op.insert("x-l402-price-msat".into(), json!(price.price_msat));
            let responses = op
                .entry("responses")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(responses) = responses.as_object_mut() {
                responses.insert("402".into(), payment_required());
            }
        }
    }
}

/// The `402` response object.
fn payment_required() -> Value {
    json!({
        "description": "Payment required: pay the BOLT11 invoice of the L402 challenge, then repeat the request with `Authorization: L402 <macaroon>:<preimage>`.",
        "headers": {
            "WWW-Authenticate": {
                "description": "The challenges: `LSAT` and `L402`, each with macaroon and invoice.",
                "schema": {"type": "string"},
            },
            "Link": {
                "description": "`</.well-known/l402.json>; rel=\"l402-manifest\"`",
                "schema": {"type": "string"},
            },
        },
    })
}

/// A concrete path for a template: each `{name}` segment becomes `x`.
fn fill_templates(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "x"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
