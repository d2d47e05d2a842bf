//! Values of the access line (`request handled`) that `core::fmt` writes slowly, written the
//! same way with less work: the client's IPv4 address and the latency in milliseconds. The line
//! is written for every request, so each `core::fmt` pass shows in the proxy's CPU per request.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// An IP address, written as `Display` writes it (IPv4 without `core::fmt`'s per-octet padding
/// machinery).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpText(pub(crate) IpAddr);

impl fmt::Display for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let IpAddr::V4(v4) = self.0 else {
            return fmt::Display::fmt(&self.0, f);
        };
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
        // Digits and dots only.
        f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
    }
}

/// A duration in milliseconds to the microsecond, written as `{:?}` writes the same number as
/// an `f64` (`0.37`, `12.0`, `1500.25`), without `f64` formatting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Millis(pub(crate) u64);

impl Millis {
    /// The time from `elapsed`, to the microsecond.
    pub(crate) fn of(elapsed: Duration) -> Self {
        Self(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
    }
}

/// Above this (about 104 days), an `f64` of the milliseconds no longer writes as the exact
/// decimal; the `f64` is written instead.
const EXACT_MICROS: u64 = 1 << 53 >> 10;

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0;
        if micros > EXACT_MICROS {
            return write!(f, "{:?}", micros as f64 / 1000.0);
        }
        let mut whole = itoa::Buffer::new();
        f.write_str(whole.format(micros / 1000))?;
        let fraction = micros % 1000;
        let digits = [
            b'.',
            b'0' + (fraction / 100) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ];
        // `12.0`, `0.37`, `4.287`: trailing zeros dropped, one digit kept.
        let keep = match (fraction % 100, fraction % 10) {
            (0, _) => 2,
            (_, 0) => 3,
            _ => 4,
        };
        f.write_str(std::str::from_utf8(&digits[..keep]).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_and_ipv6_addresses_are_written_as_display_writes_them() {
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
        }
    }

    #[test]
    fn milliseconds_are_written_as_the_f64_debug_writes_them() {
        let mut micros: Vec<u64> = (0..=20_000).collect();
        micros.extend((0..2_000u64).map(|i| i * 7_919_123 + i % 1000));
        micros.extend([
            999_999,
            1_000_000,
            1_000_001,
            86_400_000_000,
            EXACT_MICROS - 1,
            EXACT_MICROS,
            EXACT_MICROS + 1,
            u64::MAX,
        ]);
        for n in micros {
            assert_eq!(
                Millis(n).to_string(),
                format!("{:?}", n as f64 / 1000.0),
                "{n} µs"
            );
        }
    }

    #[test]
    fn a_duration_is_counted_in_microseconds() {
        assert_eq!(
            Millis::of(Duration::from_nanos(4_287_999)).to_string(),
            "4.287"
        );
        assert_eq!(Millis::of(Duration::from_secs(12)).to_string(), "12000.0");
    }
}
