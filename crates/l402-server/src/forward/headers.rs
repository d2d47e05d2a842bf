//! Header rewriting for forwarded requests and responses: hop-by-hop removal and the
//! `X-Forwarded-*` / `Forwarded` headers.

use std::net::{IpAddr, SocketAddr};

use http::header::{CONNECTION, TE, UPGRADE};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy `Proxy-Connection` and `Keep-Alive`).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// True if `name` is always hop-by-hop.
pub(crate) fn is_hop_by_hop_name(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// True if the headers ask for a protocol upgrade (`Connection: upgrade` and `Upgrade: …`).
pub(crate) fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(UPGRADE) && has_token(headers, &CONNECTION, "upgrade")
}

/// Removes hop-by-hop headers: `Connection` and every header it lists, and the fixed list.
/// `te: trailers` is kept (gRPC needs it). With `keep_upgrade`, `Upgrade` survives and
/// `Connection: upgrade` is set again.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let listed: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    let te_trailers = has_token(headers, &TE, "trailers");
    let upgrade = if keep_upgrade {
        headers.get(UPGRADE).cloned()
    } else {
        None
    };
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if te_trailers {
        headers.insert(TE, HeaderValue::from_static("trailers"));
    }
    if let Some(upgrade) = upgrade {
        headers.insert(UPGRADE, upgrade);
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Characters allowed unquoted in a `Forwarded` value (RFC 7239 token).
fn forwarded_value(value: &str) -> String {
    let token = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if token {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn append(headers: &mut HeaderMap, name: &'static str, value: String) {
    let combined = match headers.get(name).and_then(|v| v.to_str().ok()) {
        Some(existing) if !existing.is_empty() => format!("{existing}, {value}"),
        _ => value,
    };
    headers.remove(name);
    if let Ok(v) = HeaderValue::from_str(&combined) {
        headers.insert(name, v);
    }
}

/// Sets `X-Forwarded-For` (appended), `X-Forwarded-Proto`, `X-Forwarded-Host` (replaced) and
/// `Forwarded` (appended).
pub(crate) fn add_forwarded(
    headers: &mut HeaderMap,
    client: Option<SocketAddr>,
    proto: &'static str,
    host: Option<&str>,
) {
    let ip = client.map(|c| c.ip());
    if let Some(ip) = ip {
        append(headers, "x-forwarded-for", ip.to_string());
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static(proto));
    match host.and_then(|h| HeaderValue::from_str(h).ok()) {
        Some(h) => {
            headers.insert("x-forwarded-host", h);
        }
        None => {
            headers.remove("x-forwarded-host");
        }
    }
    let mut forwarded = Vec::new();
    if let Some(ip) = ip {
        let node = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        forwarded.push(format!("for={}", forwarded_value(&node)));
    }
    if let Some(host) = host {
        forwarded.push(format!("host={}", forwarded_value(host)));
    }
    forwarded.push(format!("proto={proto}"));
    append(headers, "forwarded", forwarded.join(";"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn strips_listed_and_fixed() {
        let mut h = map(&[
            ("connection", "close, x-secret-hop"),
            ("x-secret-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic x"),
            ("te", "gzip, trailers"),
            ("trailer", "grpc-status"),
            ("upgrade", "websocket"),
            ("x-kept", "yes"),
        ]);
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(h["te"], "trailers");
        assert_eq!(h["x-kept"], "yes");
    }

    #[test]
    fn keeps_upgrade_when_asked() {
        let mut h = map(&[("connection", "Upgrade"), ("upgrade", "websocket")]);
        assert!(wants_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h["upgrade"], "websocket");
        assert_eq!(h["connection"], "upgrade");
    }

    #[test]
    fn forwarded_headers() {
        let mut h = map(&[("x-forwarded-for", "10.0.0.1")]);
        add_forwarded(
            &mut h,
            Some("[::1]:5000".parse().unwrap()),
            "https",
            Some("api.example.com"),
        );
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, ::1");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-host"], "api.example.com");
        assert_eq!(
            h["forwarded"],
            "for=\"[::1]\";host=api.example.com;proto=https"
        );
    }
}
