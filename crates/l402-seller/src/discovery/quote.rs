//! `POST /l402/quote`: prices a request before paying. Price only: nothing is minted, so a
//! quote costs no invoice and no store row (the request itself gets the 402 challenge).

use http::Method;
use l402_discovery::{Alternative, ErrorBody, Quote, QuoteErrorCode as Code, QuoteRequest};
use l402_server::routing::RouteError;

use super::catalog::{Catalog, PathPrice};
use crate::pricing::RoutePrice;

/// How long a quote's price is promised for, in seconds.
pub(crate) const QUOTE_TTL_SECS: u64 = 300;

fn fail(code: Code, message: impl Into<String>, field: &str) -> ErrorBody {
    ErrorBody::new(code, message, Some(field))
}

/// Answers `request`, sent to `host`, at unix time `now`.
pub(crate) fn quote(
    catalog: &Catalog,
    request: &QuoteRequest,
    host: Option<&str>,
    now: u64,
) -> Result<Quote, ErrorBody> {
    if let Some(m) = &request.payment_method
        && m != "bolt11"
    {
        return Err(fail(
            Code::UnsupportedPaymentMethod,
            format!("payment method `{m}` is not accepted; use bolt11"),
            "payment_method",
        ));
    }
    let tier = request.tier.unwrap_or(0);
    if tier != 0 {
        return Err(fail(
            Code::UnknownTier,
            format!("tier {tier} is not sold; every service sells tier 0"),
            "tier",
        ));
    }
    let (index, price, method) = match &request.path {
        Some(path) => {
            let method_text = request.method.as_deref().unwrap_or("GET");
            let method =
                Method::from_bytes(method_text.to_ascii_uppercase().as_bytes()).map_err(|_| {
                    fail(
                        Code::BadRequest,
                        format!("`{method_text}` is not an HTTP method"),
                        "method",
                    )
                })?;
            let price = routed(catalog, &method, host, path)?;
            if let Some(name) = &request.service
                && *name != price.service
            {
                if catalog.service(name).is_none() {
                    return Err(unknown_service(catalog, name));
                }
                return Err(fail(
                    Code::BadRequest,
                    format!(
                        "`{path}` is served by service `{}`, not `{name}`",
                        price.service
                    ),
                    "path",
                ));
            }
            (price.index, price, Some(method.to_string()))
        }
        None => {
            let Some(name) = &request.service else {
                return Err(fail(
                    Code::BadRequest,
                    "name a `service` or a `path` to price",
                    "service",
                ));
            };
            let (index, service) = catalog
                .service(name)
                .ok_or_else(|| unknown_service(catalog, name))?;
            let base = RoutePrice::of_route(&service.terms, None);
            let price = PathPrice {
                service: name.clone(),
                index,
                price_msat: base.price_msat,
                free: base.free,
                required_capabilities: Vec::new(),
            };
            (index, price, None)
        }
    };
    let service = &catalog.services[index];
    let terms = &service.terms;
    let mut granted: Vec<String> = terms.capabilities.clone();
    for c in &price.required_capabilities {
        if !granted.contains(c) {
            granted.push(c.clone());
        }
    }
    if let Some(missing) = request.capabilities.iter().find(|c| !granted.contains(c)) {
        return Err(fail(
            Code::UnknownCapability,
            format!(
                "service `{}` sells no capability `{missing}` here (it sells: {})",
                service.name,
                if granted.is_empty() {
                    "none".to_owned()
                } else {
                    granted.join(", ")
                }
            ),
            "capabilities",
        ));
    }
    let lifetime = (terms.token_lifetime_secs > 0).then_some(terms.token_lifetime_secs);
    if let (Some(wanted), Some(sold)) = (request.token_lifetime_secs, lifetime)
        && (wanted == 0 || wanted > sold)
    {
        return Err(fail(
            Code::UnsatisfiableLifetime,
            format!(
                "tokens for `{}` live {sold} s; a longer lifetime is not sold",
                service.name
            ),
            "token_lifetime_secs",
        ));
    }
    let price_msat = if price.free { 0 } else { price.price_msat };
    if let Some(max) = request.max_price_msat
        && price_msat > max
    {
        return Err(fail(
            Code::UnsatisfiableBudget,
            format!("the price is {price_msat} msat, above max_price_msat {max}"),
            "max_price_msat",
        ));
    }
    let alternatives = service
        .resources
        .iter()
        .filter(|r| r.pricing.price_msat.is_some_and(|p| p > 0))
        .filter(|r| {
            !(request.path.as_deref() == Some(r.path.as_str())
                && (method.as_deref() == Some(r.method.as_str()) || r.method == "*"))
        })
        .map(|r| Alternative {
            path: r.path.clone(),
            method: r.method.clone(),
            price_msat: r.pricing.price_msat.unwrap_or_default(),
            capabilities_required: r.capabilities_required.clone(),
        })
        .collect();
    Ok(Quote {
        service: service.name.clone(),
        tier,
        price_msat,
        price_sat: price_msat.div_ceil(1000),
        quote_expiry: now.saturating_add(QUOTE_TTL_SECS),
        token_lifetime_secs: lifetime,
        capabilities: granted,
        path: request.path.clone(),
        method,
        payment_method: "bolt11".to_owned(),
        alternatives,
    })
}

fn routed(
    catalog: &Catalog,
    method: &Method,
    host: Option<&str>,
    path: &str,
) -> Result<PathPrice, ErrorBody> {
    if !path.starts_with('/') {
        return Err(fail(
            Code::BadRequest,
            "the path must start with `/`",
            "path",
        ));
    }
    catalog.route(method, host, path).map_err(|e| match e {
        RouteError::NoService { .. } => fail(
            Code::UnknownResource,
            format!("no service answers `{path}`"),
            "path",
        ),
        other => fail(Code::BadRequest, other.to_string(), "path"),
    })
}

fn unknown_service(catalog: &Catalog, name: &str) -> ErrorBody {
    let known: Vec<&str> = catalog.services.iter().map(|s| s.name.as_str()).collect();
    fail(
        Code::UnknownService,
        format!("no service `{name}` (sold: {})", known.join(", ")),
        "service",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SellerConfig;

    fn catalog() -> Catalog {
        Catalog::new(&SellerConfig::zero_config("127.0.0.1:9".parse().unwrap()).unwrap()).unwrap()
    }

    fn ask(json: serde_json::Value) -> Result<Quote, ErrorBody> {
        quote(
            &catalog(),
            &serde_json::from_value(json).unwrap(),
            None,
            1000,
        )
    }

    #[test]
    fn a_route_is_priced_with_its_capabilities_and_lifetime() {
        let q = ask(serde_json::json!({"path": "/api/similarity", "method": "post"})).unwrap();
        assert_eq!(
            (q.service.as_str(), q.price_msat, q.price_sat),
            ("similarity", 5000, 5)
        );
        assert_eq!(q.capabilities, ["compute"]);
        assert_eq!(q.token_lifetime_secs, Some(3600));
        assert_eq!(q.quote_expiry, 1000 + QUOTE_TTL_SECS);
        assert_eq!(q.method.as_deref(), Some("POST"));
        let free = ask(serde_json::json!({"path": "/api/similarity", "method": "GET"})).unwrap();
        assert_eq!(free.price_msat, 0);
        let base = ask(serde_json::json!({"service": "weather"})).unwrap();
        assert_eq!(base.price_msat, 2000);
        assert!(
            base.alternatives
                .iter()
                .any(|a| a.path == "/api/weather" && a.method == "GET")
        );
    }

    #[test]
    fn a_budget_below_the_price_is_unsatisfiable() {
        let e = ask(
            serde_json::json!({"service": "similarity", "path": "/api/similarity",
            "method": "POST", "max_price_msat": 4999}),
        )
        .unwrap_err();
        assert_eq!(e.error.code, "unsatisfiable_budget");
        assert_eq!(Code::UnsatisfiableBudget.status(), 409);
        assert_eq!(e.error.field.as_deref(), Some("max_price_msat"));
        assert!(e.error.message.contains("5000"), "{e:?}");
        assert!(
            ask(serde_json::json!({"path": "/api/similarity", "method": "POST", "max_price_msat": 5000}))
                .is_ok()
        );
    }

    #[test]
    fn unknown_services_tiers_capabilities_and_long_lifetimes_are_refused() {
        let code = |v: serde_json::Value| ask(v).unwrap_err().error.code;
        assert_eq!(
            code(serde_json::json!({"service": "nope"})),
            "unknown_service"
        );
        assert_eq!(
            code(serde_json::json!({"service": "weather", "tier": 2})),
            "unknown_tier"
        );
        assert_eq!(
            code(serde_json::json!({"service": "weather", "capabilities": ["admin"]})),
            "unknown_capability"
        );
        assert_eq!(
            code(serde_json::json!({"service": "weather", "token_lifetime_secs": 7200})),
            "unsatisfiable_lifetime"
        );
        assert_eq!(
            code(serde_json::json!({"service": "weather", "token_lifetime_secs": 0})),
            "unsatisfiable_lifetime"
        );
        assert!(ask(serde_json::json!({"service": "weather", "token_lifetime_secs": 60})).is_ok());
        assert_eq!(code(serde_json::json!({})), "bad_request");
        assert_eq!(
            code(serde_json::json!({"path": "/api/weather", "service": "similarity"})),
            "bad_request"
        );
        assert_eq!(
            code(serde_json::json!({"path": "/api/weather", "service": "nope"})),
            "unknown_service"
        );
        assert_eq!(code(serde_json::json!({"path": "api"})), "bad_request");
        assert_eq!(
            code(serde_json::json!({"path": "/a/../../x"})),
            "bad_request"
        );
        assert_eq!(
            code(serde_json::json!({"service": "weather", "payment_method": "card"})),
            "unsupported_payment_method"
        );
    }
}
