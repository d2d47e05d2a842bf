//! The key a client is counted under by every per-client defence (the unpaid-challenge cap,
//! rate limits, freebies): its IPv4 address, or its IPv6 address cut to a prefix (by default
//! the /64 one subscriber is usually given, so rotating through it buys nothing). Which IP is
//! the client's is the proxy's decision (`l402_server::ClientIp`, trusted proxies honoured);
//! this is only how it is aggregated.

use std::net::{IpAddr, Ipv6Addr};

/// The default IPv6 prefix length clients are aggregated by.
pub const DEFAULT_IPV6_PREFIX_LEN: u8 = 64;

/// The key `ip` is counted under: an IPv4 address (an IPv4-mapped IPv6 address counts as its
/// IPv4 address) as is, an IPv6 address with all but its first `ipv6_prefix_len` bits cleared
/// (values above 128 count as 128).
pub fn client_key(ip: IpAddr, ipv6_prefix_len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let keep = u32::from(ipv6_prefix_len.min(128));
                let mask = u128::MAX.checked_shl(128 - keep).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_is_cut_to_its_prefix_and_ipv4_is_kept() {
        let a = ip("2001:db8:1:2:aaaa::1");
        assert_eq!(client_key(a, 64), ip("2001:db8:1:2::"));
        assert_eq!(
            client_key(ip("2001:db8:1:2:bbbb::2"), 64),
            client_key(a, 64)
        );
        assert_ne!(client_key(ip("2001:db8:1:3::1"), 64), client_key(a, 64));
        assert_eq!(client_key(a, 48), ip("2001:db8:1::"));
        assert_eq!(client_key(a, 128), a);
        assert_eq!(client_key(a, 200), a);
        assert_eq!(client_key(a, 0), ip("::"));
        assert_eq!(client_key(ip("::ffff:192.0.2.1"), 64), ip("192.0.2.1"));
        assert_eq!(client_key(ip("192.0.2.1"), 0), ip("192.0.2.1"));
    }
}
