//! Free loopback ports.
//!
//! A port found free and released can be taken by anyone before the test binds it again. The
//! common taker is a `bind` to port 0 (a process under test starting a helper server, say its
//! dev wallet), which the kernel serves from its ephemeral range. So the ports handed out here
//! come from below that range: only another test picking the same port at random can collide.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::ops::Range;

/// The lowest port handed out (above the well-known and most registered service ports).
const LOWEST: u16 = 10_000;

/// A loopback port that was free a moment ago (bound, then released), outside the kernel's
/// ephemeral range.
pub fn free_port() -> u16 {
    free_addr().port()
}

/// `127.0.0.1:<a free port>`: nothing listens there until a test starts something. The port is
/// below the kernel's ephemeral range, so no process binding port 0 meanwhile can take it.
pub fn free_addr() -> SocketAddr {
    let candidates = below_ephemeral();
    let span = u64::from(candidates.end - candidates.start);
    for _ in 0..200 {
        let offset = u16::try_from(random() % span).unwrap_or(0);
        let port = candidates.start + offset;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        if TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
    // A machine whose every such port is taken: the kernel's choice, as before.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
}

/// The ports from [`LOWEST`] up to the ephemeral range's start (Linux:
/// `/proc/sys/net/ipv4/ip_local_port_range`; elsewhere the IANA range's start, 49152).
fn below_ephemeral() -> Range<u16> {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(49_152);
    LOWEST..start.max(LOWEST + 1_000)
}

/// A random number (no dependency for it): every `RandomState` is keyed afresh.
fn random() -> u64 {
    RandomState::new().hash_one(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_below_the_ephemeral_range_and_are_free() {
        let range = below_ephemeral();
        for _ in 0..50 {
            let addr = free_addr();
            assert!(range.contains(&addr.port()), "{addr} outside {range:?}");
            // Free: bindable now.
            TcpListener::bind(addr).expect("the port handed out is free");
        }
    }
}
