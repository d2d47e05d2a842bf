//! Header rewriting for forwarded requests and responses: hop-by-hop removal and the
//! `X-Forwarded-*` / `Forwarded` headers.

use std::net::SocketAddr;

use http::header::Entry;
use http::header::{
    CONNECTION, FORWARDED, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE, TRAILER, TRANSFER_ENCODING,
    UPGRADE,
};
use http::{HeaderMap, HeaderName, HeaderValue};

use l402_h1::lists_token;

use super::forwarded_lines::ForwardedLines;

const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy `Proxy-Connection` and `Keep-Alive`).
/// A `static`, not a `const`: a `const` array is built and dropped at every use.
static HOP_BY_HOP: [HeaderName; 9] = [
    CONNECTION,
    KEEP_ALIVE,
    PROXY_CONNECTION,
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
];

/// True if `name` is always hop-by-hop: `Connection`, `Keep-Alive`, `Proxy-Connection`,
/// `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`.
pub fn is_hop_by_hop_name(name: &HeaderName) -> bool {
    // Told apart by length first: most names have none of these lengths, and the rest are
    // compared with one or two (run for every header of every request and answer).
    match name.as_str().len() {
        2 => *name == TE,
        7 => *name == TRAILER || *name == UPGRADE,
        10 => *name == CONNECTION || *name == KEEP_ALIVE,
        16 => *name == PROXY_CONNECTION,
        17 => *name == TRANSFER_ENCODING,
        18 => *name == PROXY_AUTHENTICATE,
        19 => *name == PROXY_AUTHORIZATION,
        _ => false,
    }
}

/// True if the headers ask for a protocol upgrade (`Connection: upgrade` and `Upgrade: …`).
pub fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(UPGRADE) && lists_token(headers, &CONNECTION, "upgrade")
}

/// Removes hop-by-hop headers: `Connection` and every header it lists, and the fixed list.
/// `te: trailers` is kept (gRPC needs it). With `keep_upgrade`, `Upgrade` survives and
/// `Connection: upgrade` is set again.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Only `Connection` can name other headers: without any hop-by-hop header (the usual
    // request) there is nothing to do.
    if !headers.keys().any(is_hop_by_hop_name) {
        return;
    }
    let listed: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    let te_trailers = lists_token(headers, &TE, "trailers");
    let upgrade = if keep_upgrade {
        headers.get(UPGRADE).cloned()
    } else {
        None
    };
    for name in listed {
        headers.remove(name);
    }
    for name in &HOP_BY_HOP {
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

/// Appends `value` to the list header `name`: every value already there (joined with `, `,
/// empty ones dropped), then `value`, as one header line. Without a previous value, `value`
/// itself becomes the header's (no copy).
fn append(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    // One lookup (the name hashed once) whether the header is there or not.
    match headers.entry(name) {
        Entry::Vacant(vacant) => {
            vacant.insert(value);
        }
        Entry::Occupied(mut occupied) => {
            let mut combined = String::new();
            for existing in occupied
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
            {
                combined.push_str(existing);
                combined.push_str(", ");
            }
            combined.push_str(value.to_str().unwrap_or_default());
            match HeaderValue::from_maybe_shared(bytes::Bytes::from(combined)) {
                // Replaces every earlier line.
                Ok(line) => {
                    occupied.insert(line);
                }
                Err(_) => {
                    occupied.remove_entry_mult();
                }
            }
        }
    }
}

/// Sets `X-Forwarded-For` (appended), `X-Forwarded-Proto`, `X-Forwarded-Host` (replaced) and
/// `Forwarded` (appended). `host` is the client's `Host` (or `:authority`); one that is not
/// visible ASCII is not forwarded.
pub fn add_forwarded(
    headers: &mut HeaderMap,
    client: Option<SocketAddr>,
    proto: &'static str,
    host: Option<&HeaderValue>,
) {
    let host = host.and_then(|h| Some((h, h.to_str().ok()?)));
    let lines = ForwardedLines::for_request(client.map(|c| c.ip()), host, proto);
    if let Some(forwarded_for) = lines.forwarded_for {
        append(headers, X_FORWARDED_FOR, forwarded_for);
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    match host {
        Some((value, _)) => {
            headers.insert(X_FORWARDED_HOST, value.clone());
        }
        None => {
            headers.remove(X_FORWARDED_HOST);
        }
    }
    match lines.forwarded {
        Some(forwarded) => append(headers, FORWARDED, forwarded),
        None => {
            headers.remove(FORWARDED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::forwarded_lines::push_forwarded_value;
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
    fn hop_by_hop_names_are_the_listed_ones() {
        let mut names: Vec<HeaderName> = HOP_BY_HOP.to_vec();
        names.extend(
            [
                "host",
                "user-agent",
                "set-cookie",
                "accept",
                "content-length",
                "te2",
                "tx",
                "trailers",
                "upgrades",
                "connectio",
                "keep-alivx",
                "x-connection",
                "proxy-connectiox",
                "transfer-encodinx",
                "proxy-authenticatx",
                "proxy-authorizatiox",
                "x-l402-caveat",
                "authorization",
                "x-forwarded-for",
                "content-encoding",
                "accept-encoding",
                "www-authenticate",
                "access-control-max-age",
            ]
            .map(HeaderName::from_static),
        );
        for name in names {
            assert_eq!(
                is_hop_by_hop_name(&name),
                HOP_BY_HOP.contains(&name),
                "{name}"
            );
        }
        assert_eq!(
            HOP_BY_HOP.iter().filter(|n| is_hop_by_hop_name(n)).count(),
            9
        );
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
    fn a_forwarded_value_is_bare_exactly_when_it_is_an_rfc_7230_token() {
        const TCHAR_SYMBOLS: &[u8] = b"!#$%&'*+-.^_`|~";
        for b in 0x20u8..0x7f {
            let value = format!("a{}", char::from(b));
            let mut out = String::new();
            push_forwarded_value(&mut out, &value);
            let token = b.is_ascii_alphanumeric() || TCHAR_SYMBOLS.contains(&b);
            assert_eq!(out == value, token, "{value:?} -> {out:?}");
        }
    }

    #[test]
    fn forwarded_headers() {
        let mut h = map(&[("x-forwarded-for", "10.0.0.1")]);
        add_forwarded(
            &mut h,
            Some("[::1]:5000".parse().unwrap()),
            "https",
            Some(&HeaderValue::from_static("api.example.com")),
        );
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, ::1");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-host"], "api.example.com");
        assert_eq!(
            h["forwarded"],
            "for=\"[::1]\";host=api.example.com;proto=https"
        );
    }

    #[test]
    fn every_previous_forwarded_line_is_kept_and_odd_hosts_are_quoted() {
        let mut h = map(&[
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2, 10.0.0.3"),
            ("forwarded", "for=10.0.0.1"),
        ]);
        add_forwarded(
            &mut h,
            Some("192.0.2.9:443".parse().unwrap()),
            "http",
            Some(&HeaderValue::from_static("a b\"c")),
        );
        assert_eq!(h.get_all("x-forwarded-for").iter().count(), 1);
        assert_eq!(
            h["x-forwarded-for"],
            "10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.9"
        );
        assert_eq!(
            h["forwarded"],
            "for=10.0.0.1, for=192.0.2.9;host=\"a b\\\"c\";proto=http"
        );
        assert_eq!(h["x-forwarded-host"], "a b\"c");

        // A host that is not visible ASCII is neither forwarded nor kept from the client.
        let odd = HeaderValue::from_bytes(b"caf\xc3\xa9.example").unwrap();
        add_forwarded(&mut h, None, "http", Some(&odd));
        assert!(h.get("x-forwarded-host").is_none());
        assert_eq!(
            h["forwarded"],
            "for=10.0.0.1, for=192.0.2.9;host=\"a b\\\"c\";proto=http, proto=http"
        );
    }

    #[test]
    fn a_head_without_hop_by_hop_headers_is_left_as_it_is() {
        let before = map(&[("host", "h"), ("accept", "*/*"), ("x-custom", "1")]);
        let mut h = before.clone();
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h, before);
        let mut h = map(&[
            ("host", "h"),
            ("te", "trailers, gzip"),
            ("x-gone", "1"),
            ("connection", "x-gone"),
        ]);
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h["te"], "trailers");
        assert!(!h.contains_key("x-gone") && !h.contains_key("connection"));
    }
}
