//! Who the client is: the one place that decides which IP address a request counts under
//! (the paywall's unpaid-challenge cap, rate limits and freebies all read [`ClientIp`]).
//!
//! It is the TCP peer's address, unless the peer is one of `[listen] trusted_proxies`: then the
//! `client_ip_header` (default `X-Forwarded-For`) is read from the right, skipping addresses
//! that are themselves trusted proxies, and the first untrusted one is the client. Anything a
//! client writes to the left of that is ignored, so a client cannot pick its own identity, and
//! the header is never read at all from an untrusted peer.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::{HeaderMap, HeaderName};

/// The client's IP address as the proxy trusts it, inserted as a request extension next to
/// [`ClientAddr`](crate::ClientAddr) (which stays the TCP peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// The header read by default from a trusted proxy.
pub const DEFAULT_CLIENT_IP_HEADER: &str = "x-forwarded-for";

/// An IP network written `address/prefix` (`10.0.0.0/8`, `2001:db8::/32`); a bare address is
/// a single host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

/// Why a CIDR did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an IP network (`10.0.0.0/8`, `2001:db8::/32` or an address): {why}")]
pub struct CidrError {
    text: String,
    why: &'static str,
}

/// An IPv4-mapped IPv6 address counts as its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |why| CidrError {
            text: text.to_owned(),
            why,
        };
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| error("bad address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match len {
            None => max,
            Some(len) => len
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max && !len.starts_with('+'))
                .ok_or_else(|| error("the prefix length must be 0-32 (IPv4) or 0-128 (IPv6)"))?,
        };
        Ok(Self {
            network,
            prefix_len,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Cidr {
    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |len: u8, width: u32| -> u128 {
            u128::MAX
                .checked_shl(128 - u32::from(len))
                .unwrap_or(0)
                .checked_shr(128 - width)
                .unwrap_or(0)
        };
        match (canonical(self.network), canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = bits(self.prefix_len.min(32), 32);
                u128::from(u32::from(net)) & mask == u128::from(u32::from(ip)) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = bits(self.prefix_len, 128);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Decides [`ClientIp`] from the peer's address and the request's headers.
#[derive(Debug, Clone)]
pub struct ClientIpResolver {
    trusted: Vec<Cidr>,
    header: HeaderName,
}

impl Default for ClientIpResolver {
    fn default() -> Self {
        Self {
            trusted: Vec::new(),
            header: HeaderName::from_static(DEFAULT_CLIENT_IP_HEADER),
        }
    }
}

/// One address of a forwarding header: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443` or
/// `192.0.2.1:80`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

impl ClientIpResolver {
    /// Honours `header` (a header name; an invalid one falls back to `X-Forwarded-For`, which
    /// the configuration check reports) from peers in `trusted` only.
    pub fn new(trusted: Vec<Cidr>, header: Option<&str>) -> Self {
        let header = header
            .and_then(|h| HeaderName::from_bytes(h.trim().as_bytes()).ok())
            .unwrap_or_else(|| HeaderName::from_static(DEFAULT_CLIENT_IP_HEADER));
        Self { trusted, header }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(ip))
    }

    /// The client's IP: `peer`, or when `peer` is a trusted proxy the right-most address of
    /// the header that is not a trusted proxy (every value of the header, in order, as one
    /// comma-separated list). If every listed address is trusted, the left-most one; if an
    /// entry does not parse, the trusted hop to its right (nothing further left is believed).
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let values: Vec<&[u8]> = headers
            .get_all(&self.header)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        for value in values.iter().rev() {
            for hop in value.rsplit(|b| *b == b',') {
                let Some(ip) = std::str::from_utf8(hop).ok().and_then(parse_hop) else {
                    return client;
                };
                client = canonical(ip);
                if !self.is_trusted(client) {
                    return client;
                }
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn cidrs_parse_and_match() {
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.1.2.3")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let host: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(host.to_string(), "127.0.0.1/32");
        assert!(host.contains(ip("127.0.0.1")) && !host.contains(ip("127.0.0.2")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer_and_from_the_right() {
        let r = ClientIpResolver::new(
            vec!["10.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()],
            None,
        );
        let xff = headers("x-forwarded-for", &["203.0.113.9, 198.51.100.7, 10.0.0.2"]);
        assert_eq!(
            r.resolve(ip("192.0.2.1"), &xff),
            ip("192.0.2.1"),
            "untrusted peer"
        );
        assert_eq!(
            r.resolve(ip("10.0.0.1"), &xff),
            ip("198.51.100.7"),
            "the right-most untrusted hop; the client's own claim to its left is ignored"
        );
        assert_eq!(r.resolve(ip("::1"), &xff), ip("198.51.100.7"));
        let split = headers("x-forwarded-for", &["203.0.113.9", "198.51.100.7"]);
        assert_eq!(r.resolve(ip("10.0.0.1"), &split), ip("198.51.100.7"));
        let all_trusted = headers("x-forwarded-for", &["10.9.9.9, 10.0.0.2"]);
        assert_eq!(r.resolve(ip("10.0.0.1"), &all_trusted), ip("10.9.9.9"));
        let garbage = headers("x-forwarded-for", &["203.0.113.9, nonsense, 10.0.0.2"]);
        assert_eq!(r.resolve(ip("10.0.0.1"), &garbage), ip("10.0.0.2"));
        assert_eq!(r.resolve(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        let ports = headers("x-forwarded-for", &["[2001:db8::5]:443"]);
        assert_eq!(r.resolve(ip("10.0.0.1"), &ports), ip("2001:db8::5"));

        let real = ClientIpResolver::new(vec!["10.0.0.0/8".parse().unwrap()], Some("X-Real-IP"));
        let h = headers("x-real-ip", &["198.51.100.8"]);
        assert_eq!(real.resolve(ip("10.0.0.1"), &h), ip("198.51.100.8"));
        assert_eq!(
            real.resolve(ip("10.0.0.1"), &xff),
            ip("10.0.0.1"),
            "other header ignored"
        );
        assert_eq!(
            ClientIpResolver::default().resolve(ip("10.0.0.1"), &xff),
            ip("10.0.0.1"),
            "no trusted proxies: the header is never read"
        );
    }
}
