//! Checks of the L402 terms behind [`SellerConfig::check`](super::SellerConfig::check): what
//! serde cannot see.

use l402_server::Config;
use l402_server::config::Checks;
use l402_server::routing::pattern::PathPattern;

use super::ServiceTerms;
use crate::pricing::{OfferNames, RoutePrice, offer};

/// 21 million BTC in satoshis: no price can be higher.
const MAX_PRICE_SAT: u64 = 21_000_000 * 100_000_000;
/// BOLT11 limits the description field to 639 bytes.
const MAX_MEMO_BYTES: usize = 639;

fn valid_capability(cap: &str) -> bool {
    !cap.is_empty()
        && cap
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

fn check_price(c: &mut Checks<'_>, key: &str, price: u64) {
    if price > MAX_PRICE_SAT {
        c.error(key, "price is above 21 million BTC");
    }
}

fn check_capabilities(c: &mut Checks<'_>, key: &str, caps: &[String]) {
    for (j, cap) in caps.iter().enumerate() {
        if !valid_capability(cap) {
            c.error(
                &format!("{key}[{j}]"),
                format!("capability `{cap}` must be non-empty and use only A-Z a-z 0-9 _ - . :"),
            );
        }
    }
}

/// Errors at `key` when a buyer who paid the challenge of a request priced `price` would still
/// be refused by the token it bought.
fn check_sellable(
    c: &mut Checks<'_>,
    key: &str,
    service: &str,
    terms: &ServiceTerms,
    price: RoutePrice,
) {
    if price.free {
        return;
    }
    if let Err(e) = offer(&OfferNames::new(service, terms), terms, price).check_sellable() {
        c.error(
            key,
            format!(
                "no challenge can sell a token that opens this: {e} ({})",
                e.reason_code()
            ),
        );
    }
}

/// `protocols`: at least one, none twice.
fn check_protocols(c: &mut Checks<'_>, key: &str, terms: &ServiceTerms) {
    if terms.protocols.is_empty() {
        c.error(
            key,
            "sell at least one protocol: [\"l402\"], [\"mpp\"] or both",
        );
    }
    for (j, p) in terms.protocols.iter().enumerate() {
        if terms.protocols[..j].contains(p) {
            c.error(&format!("{key}[{j}]"), "listed twice");
        }
    }
}

/// `billing` and `[services.metering]`: a deposit that can pay a request, sensible units.
fn check_metering(c: &mut Checks<'_>, key: &str, terms: &ServiceTerms) {
    let Some(m) = terms.metered() else {
        if terms.metering.is_some() {
            c.error(
                &format!("{key}.metering"),
                "set billing = \"metered\" for these terms to apply",
            );
        }
        return;
    };
    if m.reserve_units == 0 {
        c.error(
            &format!("{key}.metering.reserve_units"),
            "must be at least 1",
        );
    }
    if m.deposit_units < m.reserve_units {
        c.error(
            &format!("{key}.metering.deposit_units"),
            format!(
                "{} units cannot pay one request, which reserves {} (reserve_units)",
                m.deposit_units, m.reserve_units
            ),
        );
    }
    if m.idle_timeout_secs == 0 {
        c.error(
            &format!("{key}.metering.idle_timeout_secs"),
            "must be at least 1",
        );
    }
    if m.unit.is_empty()
        || m.unit.len() > 32
        || !m
            .unit
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        c.error(
            &format!("{key}.metering.unit"),
            "1 to 32 letters, digits, '-' or '_' (e.g. \"token\")",
        );
    }
}

/// Whether `name` can be an MCP tool's name: 1 to 128 of `A-Z a-z 0-9 _ - . /`.
fn valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

/// The longest tool `description` (shown in the challenge).
const MAX_TOOL_DESCRIPTION_BYTES: usize = 1024;

/// `mcp` and `[[services.tools]]`: tools only on an MCP service, each named once, priced at
/// least 1 sat; no HTTP routes or metering on an MCP service (it is sold per tool call).
fn check_mcp(c: &mut Checks<'_>, base: &str, terms: &ServiceTerms) {
    if !terms.mcp {
        if !terms.tools.is_empty() {
            c.error(
                &format!("{base}.tools"),
                "tools are priced only on an `mcp = true` service",
            );
        }
        return;
    }
    if !terms.routes.is_empty() {
        c.error(
            &format!("{base}.routes"),
            "an `mcp = true` service is sold per tool call: price tools in [[services.tools]]",
        );
    }
    if terms.metered().is_some() {
        c.error(
            &format!("{base}.billing"),
            "an `mcp = true` service is sold per tool call (Payment charge); metered billing is not available for it",
        );
    }
    if terms.freebies_per_ip > 0 {
        c.warn(
            &format!("{base}.freebies_per_ip"),
            "ignored on an `mcp = true` service (every priced tool call is paid)",
        );
    }
    for (j, tool) in terms.tools.iter().enumerate() {
        let at = |key: &str| format!("{base}.tools[{j}].{key}");
        if !valid_tool_name(&tool.name) {
            c.error(&at("name"), "1 to 128 characters of A-Z a-z 0-9 _ - . /");
        } else if terms.tools[..j].iter().any(|t| t.name == tool.name) {
            c.error(&at("name"), format!("tool `{}` is listed twice", tool.name));
        }
        if tool.price_sat == 0 {
            c.error(
                &at("price_sat"),
                "must be at least 1 (a tool that is not listed costs the service's price_sat)",
            );
        }
        check_price(c, &at("price_sat"), tool.price_sat);
        if let Some(d) = &tool.description
            && (d.len() > MAX_TOOL_DESCRIPTION_BYTES || d.chars().any(char::is_control))
        {
            c.error(
                &at("description"),
                format!("at most {MAX_TOOL_DESCRIPTION_BYTES} bytes, no control characters"),
            );
        }
    }
}

/// Checks the terms of every service and route of `proxy`.
pub(super) fn terms(proxy: &Config, terms: &[ServiceTerms], c: &mut Checks<'_>) {
    for i in 0..proxy.services.len() {
        let base = format!("services[{i}]");
        let Some(terms) = terms.get(i) else {
            c.error(&base, "no L402 terms (`price_sat`) for this service");
            continue;
        };
        let at = |key: &str| format!("{base}.{key}");
        check_price(c, &at("price_sat"), terms.price_sat);
        check_protocols(c, &at("protocols"), terms);
        check_metering(c, &base, terms);
        check_mcp(c, &base, terms);
        if terms.invoice_expiry_secs == 0 {
            c.error(&at("invoice_expiry_secs"), "must be greater than 0");
        }
        if let Some(memo) = &terms.memo
            && memo.len() > MAX_MEMO_BYTES
        {
            c.error(
                &at("memo"),
                format!("longer than {MAX_MEMO_BYTES} bytes (the BOLT11 description limit)"),
            );
        }
        check_capabilities(c, &at("capabilities"), &terms.capabilities);
        if let Some(limit) = &terms.rate_limit {
            limit.check(c, &at("rate_limit"));
        }
        let name = &proxy.services[i].name;
        check_sellable(
            c,
            &at("price_sat"),
            name,
            terms,
            RoutePrice::of_route(terms, None),
        );
        for (j, pattern) in terms.free_paths.iter().enumerate() {
            let problem = PathPattern::parse(pattern)
                .map_err(|e| e.to_string())
                .err()
                .or_else(|| proxy.paths.pattern_problem(pattern));
            if let Some(problem) = problem {
                c.error(&format!("{base}.free_paths[{j}]"), problem);
            }
        }
        for (j, route) in terms.routes.iter().enumerate() {
            let rat = |key: &str| format!("{base}.routes[{j}].{key}");
            if let Some(price) = route.price_sat {
                check_price(c, &rat("price_sat"), price);
                if route.free {
                    c.warn(&rat("price_sat"), "ignored: the route is `free = true`");
                }
            }
            check_capabilities(
                c,
                &rat("capabilities_required"),
                &route.capabilities_required,
            );
            if let Some(limit) = &route.rate_limit {
                limit.check(c, &format!("{base}.routes[{j}].rate_limit"));
                if route.free {
                    c.warn(
                        &rat("rate_limit"),
                        "ignored: the route is `free = true` (rate limits apply to priced requests)",
                    );
                }
            }
            let price = RoutePrice::of_route(terms, Some(route));
            check_sellable(c, &format!("{base}.routes[{j}]"), name, terms, price);
        }
    }
}
