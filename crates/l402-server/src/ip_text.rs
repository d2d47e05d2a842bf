//! IP addresses written as `Display` writes them, IPv4 without `core::fmt`'s per-octet
//! machinery: the proxy writes the client's address for every request (the access line,
//! `X-Forwarded-For` and `Forwarded`, both through [`IpText`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// An IP address with a cheaper `Display` (the same text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpText(pub(crate) IpAddr);

impl fmt::Display for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => {
                let (text, len) = v4_text(v4);
                // `pad`, as `Ipv4Addr` does: a width or precision applies to the whole address.
                f.pad(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
            }
            IpAddr::V6(v6) => fmt::Display::fmt(&v6, f),
        }
    }
}

/// The dotted-decimal text of `v4` and its length (at most 15 bytes).
impl IpText {
    /// Appends the address to `out` (IPv4 without `core::fmt`).
    pub(crate) fn push_to(self, out: &mut String) {
        match self.0 {
            IpAddr::V4(v4) => {
                let (text, len) = v4_text(v4);
                // Digits and dots only.
                out.push_str(std::str::from_utf8(&text[..len]).unwrap_or_default());
            }
            IpAddr::V6(v6) => {
                use std::fmt::Write as _;
                let _ = write!(out, "{v6}");
            }
        }
    }
}

fn v4_text(v4: Ipv4Addr) -> ([u8; 15], usize) {
    let mut text = [0u8; 15];
    let mut len = 0;
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        len += 1;
    }
    (text, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let mut addresses: Vec<IpAddr> = [
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.255",
            "10.9.100.99",
            "192.168.1.20",
            "::1",
            "2001:db8::8a2e:370:7334",
            "::ffff:192.0.2.1",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        addresses.extend((0..=255u8).map(|o| IpAddr::from([o, 255 - o, o / 3, o.wrapping_mul(7)])));
        for address in addresses {
            assert_eq!(IpText(address).to_string(), address.to_string());
            let mut pushed = String::from("for=");
            IpText(address).push_to(&mut pushed);
            assert_eq!(pushed, format!("for={address}"));
            assert_eq!(
                format!("[{:>20}|{:.5}]", IpText(address), IpText(address)),
                format!("[{address:>20}|{address:.5}]")
            );
        }
    }
}
