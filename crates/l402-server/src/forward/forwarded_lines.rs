//! The values this proxy adds to `X-Forwarded-For` and `Forwarded`, made once per client
//! address, `Host` and scheme and shared by the requests that have the same three (a
//! connection's requests do): writing the address and building two header values cost a
//! proxied request ~1,000 instructions each time.

use std::cell::RefCell;
use std::net::IpAddr;

use bytes::Bytes;
use http::HeaderValue;

use crate::ip_text::IpText;

/// The two values for one client address, `Host` and scheme.
#[derive(Debug, Clone)]
pub(super) struct ForwardedLines {
    /// The client's address, for `X-Forwarded-For` (none without an address).
    pub(super) forwarded_for: Option<HeaderValue>,
    /// The `Forwarded` element: `for=…;host=…;proto=…` with what is known (none if it is not
    /// a valid header value, which a visible-ASCII host and a scheme cannot make).
    pub(super) forwarded: Option<HeaderValue>,
}

/// A cached entry and what it was made for.
struct Entry {
    client: Option<IpAddr>,
    host: Option<HeaderValue>,
    proto: &'static str,
    lines: ForwardedLines,
}

/// Entries per thread: a thread serves many connections in turn, a few clients at a time.
const SLOTS: usize = 16;

thread_local! {
    static RECENT: RefCell<[Option<Entry>; SLOTS]> = const { RefCell::new([const { None }; SLOTS]) };
}

/// The slot of `client` (addresses spread by their last bits).
fn slot(client: Option<IpAddr>) -> usize {
    let low = match client {
        Some(IpAddr::V4(v4)) => u32::from(v4) as usize,
        Some(IpAddr::V6(v6)) => u128::from(v6) as usize,
        None => 0,
    };
    low % SLOTS
}

impl ForwardedLines {
    /// The values for a request from `client` with `host` (visible ASCII) over `proto`.
    pub(super) fn for_request(
        client: Option<IpAddr>,
        host: Option<(&HeaderValue, &str)>,
        proto: &'static str,
    ) -> Self {
        let index = slot(client);
        RECENT.with_borrow_mut(|recent| {
            if let Some(entry) = &recent[index]
                && entry.client == client
                && entry.proto == proto
                && entry.host.as_ref().map(HeaderValue::as_bytes) == host.map(|h| h.0.as_bytes())
            {
                return entry.lines.clone();
            }
            let lines = Self::build(client, host.map(|h| h.1), proto);
            recent[index] = Some(Entry {
                client,
                // A copy: the request's value shares its head's buffer (its credentials
                // included), which the cache must not keep alive.
                host: host.and_then(|h| HeaderValue::from_bytes(h.0.as_bytes()).ok()),
                proto,
                lines: lines.clone(),
            });
            lines
        })
    }

    /// Writes the two values.
    fn build(client: Option<IpAddr>, host: Option<&str>, proto: &'static str) -> Self {
        let forwarded_for = client.and_then(|ip| {
            let mut text = String::with_capacity(40);
            IpText(ip).push_to(&mut text);
            value(text)
        });
        let mut element = String::with_capacity(96);
        match client {
            // Digits and dots: an RFC 7239 token.
            Some(ip @ IpAddr::V4(_)) => {
                element.push_str("for=");
                IpText(ip).push_to(&mut element);
                element.push(';');
            }
            // Brackets and colons: quoted, with nothing to escape.
            Some(ip @ IpAddr::V6(_)) => {
                element.push_str("for=\"[");
                IpText(ip).push_to(&mut element);
                element.push_str("]\";");
            }
            None => {}
        }
        if let Some(host) = host {
            element.push_str("host=");
            push_forwarded_value(&mut element, host);
            element.push(';');
        }
        element.push_str("proto=");
        element.push_str(proto);
        Self {
            forwarded_for,
            forwarded: value(element),
        }
    }
}

/// `text` as a header value, its buffer kept.
fn value(text: String) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(Bytes::from(text)).ok()
}

/// Writes `value` to `out` as a `Forwarded` value: bare when it is an RFC 7239 token, else
/// quoted with `\` and `"` escaped.
pub(super) fn push_forwarded_value(out: &mut String, value: &str) {
    let token = !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        });
    if token {
        out.push_str(value);
    } else {
        out.push('"');
        for c in value.chars() {
            if c == '\\' || c == '"' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every combination of the key's parts, asked twice in turn: each answer is what building
    /// it afresh gives, whatever was cached before it (same slot or not).
    #[test]
    fn a_cached_value_is_the_one_built_for_the_same_address_host_and_scheme() {
        let clients: [Option<IpAddr>; 5] = [
            Some("192.0.2.9".parse().unwrap()),
            // The same slot as the first (16 apart).
            Some("192.0.2.25".parse().unwrap()),
            Some("2001:db8::9".parse().unwrap()),
            Some("::ffff:192.0.2.9".parse().unwrap()),
            None,
        ];
        let hosts = [
            None,
            Some(HeaderValue::from_static("api.example.com")),
            Some(HeaderValue::from_static("api.example.com:8443")),
            Some(HeaderValue::from_static("a b\"c")),
        ];
        for round in 0..2 {
            for client in clients {
                for host in &hosts {
                    for proto in ["http", "https"] {
                        let host = host.as_ref().map(|h| (h, h.to_str().unwrap()));
                        let got = ForwardedLines::for_request(client, host, proto);
                        let fresh = ForwardedLines::build(client, host.map(|h| h.1), proto);
                        let what = format!("round {round}: {client:?} {host:?} {proto}");
                        assert_eq!(got.forwarded_for, fresh.forwarded_for, "{what}");
                        assert_eq!(got.forwarded, fresh.forwarded, "{what}");
                    }
                }
            }
        }
        let built = ForwardedLines::build(
            Some("2001:db8::9".parse().unwrap()),
            Some("a b\"c"),
            "https",
        );
        assert_eq!(built.forwarded_for.unwrap(), "2001:db8::9");
        assert_eq!(
            built.forwarded.unwrap(),
            "for=\"[2001:db8::9]\";host=\"a b\\\"c\";proto=https"
        );
    }

    #[test]
    fn the_cache_keeps_no_part_of_a_request() {
        let head = bytes::Bytes::from_static(b"GET / HTTP/1.1\r\nHost: shared.example\r\n\r\n");
        let host = HeaderValue::from_maybe_shared(head.slice(22..36)).unwrap();
        assert_eq!(host, "shared.example");
        let client = Some("198.51.100.7".parse().unwrap());
        ForwardedLines::for_request(client, Some((&host, "shared.example")), "http");
        RECENT.with_borrow(|recent| {
            let entry = recent[slot(client)].as_ref().expect("cached");
            let kept = entry.host.as_ref().unwrap().as_bytes();
            assert_eq!(kept, b"shared.example");
            assert_ne!(
                kept.as_ptr(),
                host.as_bytes().as_ptr(),
                "a copy, not the head's bytes"
            );
        });
    }
}
