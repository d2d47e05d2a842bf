//! Keeping `l402_fetch` off the user's own networks: an agent fed a hostile prompt must not
//! become a way to reach loopback services, the LAN or a cloud metadata endpoint (SSRF).
//!
//! Two checks, both needed: [`PublicOnly`] as the client's
//! [`DestinationGuard`](l402_client::DestinationGuard) refuses URLs whose host is an IP
//! literal (or a `localhost` name) before anything is sent, at every redirect hop; and as the
//! HTTP client's DNS resolver it resolves each name once and refuses it when any address is
//! not public, so the connection goes only to addresses that were checked (DNS rebinding
//! cannot swap them). `[mcp] allow_private_networks = true` turns both off.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use l402_client::{ClientError, DestinationGuard};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The setting that lets `l402_fetch` reach non-public addresses, as error messages name it.
pub const ALLOW_PRIVATE_SETTING: &str = "[mcp] allow_private_networks = true in the l402 config file (or L402_MCP_ALLOW_PRIVATE_NETWORKS=true)";

/// What kind of non-public address `ip` is, or `None` for a public one. IPv4-mapped,
/// IPv4-compatible, NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) IPv6 addresses are judged
/// by the IPv4 address they carry.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b) {
        (0, _) => "an unspecified (0.0.0.0/8) address",
        (127, _) => "a loopback address",
        (10, _) | (192, 168) => "a private (RFC 1918) address",
        (172, 16..=31) => "a private (RFC 1918) address",
        (169, 254) => "a link-local address (cloud metadata endpoints live there)",
        (100, 64..=127) => "a shared (CGNAT, 100.64.0.0/10) address",
        (192, 0) if c == 0 => "an IETF protocol (192.0.0.0/24) address",
        (198, 18..=19) => "a benchmarking (198.18.0.0/15) address",
        (224..=239, _) => "a multicast address",
        (240..=255, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified (::) address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if s[0..6] == [0; 6] {
        // IPv4-compatible (::a.b.c.d, deprecated).
        return non_public_v4(Ipv4Addr::from(embedded_v4(s[6], s[7])));
    }
    if s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return non_public_v4(Ipv4Addr::from(embedded_v4(s[6], s[7])));
    }
    if s[0] == 0x2002 {
        return non_public_v4(Ipv4Addr::from(embedded_v4(s[1], s[2])));
    }
    Some(match s[0] {
        x if x & 0xfe00 == 0xfc00 => "a unique local (fc00::/7) address",
        x if x & 0xffc0 == 0xfe80 => "a link-local address",
        x if x & 0xffc0 == 0xfec0 => "a site-local (fec0::/10) address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

fn embedded_v4(high: u16, low: u16) -> [u8; 4] {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    [a, b, c, d]
}

/// Why `host` (with one of its addresses, `ip`) is refused.
fn refusal(host: &str, ip: IpAddr, kind: &str) -> String {
    let shown = if host == ip.to_string() {
        host.to_owned()
    } else {
        format!("{host} ({ip})")
    };
    format!(
        "{shown} is {kind}; l402_fetch only reaches public addresses unless the user sets \
         {ALLOW_PRIVATE_SETTING}"
    )
}

/// Refuses non-public destinations: as a [`DestinationGuard`] (IP literals and `localhost`
/// names, every hop) and as a DNS resolver (names whose addresses are not all public).
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl DestinationGuard for PublicOnly {
    fn check(&self, url: &Url) -> Result<(), String> {
        let Some(host) = url.host_str() else {
            return Ok(());
        };
        // The URL parser already normalised IPv4 forms (0x7f000001, 2130706433) to dotted
        // quads; IPv6 literals come bracketed.
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(ip) = literal.parse::<IpAddr>() else {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(refusal(
                    &name,
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    "a loopback name",
                ));
            }
            return Ok(());
        };
        match non_public(ip) {
            Some(kind) => Err(refusal(&ip.to_string(), ip, kind)),
            None => Ok(()),
        }
    }
}

/// A name whose resolved addresses are not all public.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NonPublicName(String);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some((ip, kind)) = addrs
                .iter()
                .find_map(|a| non_public(a.ip()).map(|kind| (a.ip(), kind)))
            {
                return Err(Box::new(NonPublicName(refusal(&host, ip, kind))) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A network error caused by the resolver's refusal, as the refusal it is.
pub(crate) fn surface(err: ClientError) -> ClientError {
    let ClientError::Http(http) = &err else {
        return err;
    };
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(http);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<NonPublicName>() {
            return ClientError::DestinationRefused {
                url: http.url().map(Url::to_string).unwrap_or_default(),
                reason: refused.0.clone(),
            };
        }
        source = e.source();
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        non_public(s.parse().unwrap()).is_some()
    }

    #[test]
    fn non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.253.0.1",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
            "2002:0101:0101::",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn the_guard_refuses_literals_and_localhost_naming_the_setting() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://[::ffff:7f00:1]/",
            "http://localhost:1/",
            "http://api.localhost./",
            "http://0x7f000001/",
            "http://2130706433/",
        ] {
            let err = PublicOnly.check(&Url::parse(url).unwrap()).unwrap_err();
            assert!(err.contains("allow_private_networks"), "{url}: {err}");
        }
        assert!(
            PublicOnly
                .check(&Url::parse("https://example.com/").unwrap())
                .is_ok()
        );
        assert!(
            PublicOnly
                .check(&Url::parse("http://1.1.1.1/").unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_with_loopback_addresses() {
        let name: Name = "localhost".parse().unwrap();
        let err = match PublicOnly.resolve(name).await {
            Ok(_) => panic!("localhost resolved"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("localhost") && err.contains("loopback"),
            "{err}"
        );
        assert!(err.contains("allow_private_networks"), "{err}");
    }
}
