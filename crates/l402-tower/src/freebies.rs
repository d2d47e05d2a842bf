//! Free requests per client and service before the paywall applies (Aperture's `freebies`).
//! Clients are counted by their key (see [`crate::client_key`]: an IPv6 address by its prefix,
//! so rotating through one /64 buys nothing).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::bounded::make_room;

/// Most distinct (service, client) pairs remembered. When the table is full the pairs seen
/// least recently are forgotten (a forgotten client gets its freebies again), so a flood of
/// source addresses can neither exhaust memory nor lock new clients out.
pub(crate) const MAX_TRACKED: usize = 100_000;

/// Counts free requests per (service, client key). In memory: a restart grants them again.
#[derive(Debug, Default)]
pub struct Freebies {
    used: Mutex<Used>,
}

#[derive(Debug, Default)]
struct Used {
    /// (service, client key) → (requests granted, when last seen as a sequence number).
    counts: HashMap<(String, IpAddr), (u32, u64)>,
    seq: u64,
}

impl Freebies {
    /// Takes one free request for the client `key` on `service` if fewer than `allowed` were
    /// used.
    pub fn take(&self, service: &str, key: IpAddr, allowed: u32) -> bool {
        self.take_bounded(service, key, allowed, MAX_TRACKED)
    }

    fn take_bounded(&self, service: &str, key: IpAddr, allowed: u32, max: usize) -> bool {
        if allowed == 0 {
            return false;
        }
        let mut used = match self.used.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        used.seq += 1;
        let seq = used.seq;
        let entry = (service.to_owned(), key);
        if !used.counts.contains_key(&entry) {
            make_room(&mut used.counts, max, |_, _| false, |(_, seen)| *seen);
        }
        let (count, seen) = used.counts.entry(entry).or_insert((0, seq));
        *seen = seq;
        if *count < allowed {
            *count += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_exactly_the_allowance_per_client_and_service() {
        let f = Freebies::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(f.take("s", a, 2));
        assert!(f.take("s", a, 2));
        assert!(!f.take("s", a, 2));
        assert!(f.take("s", b, 2));
        assert!(f.take("t", a, 2));
        assert!(!f.take("s", a, 0));
    }

    #[test]
    fn a_full_table_never_locks_out_a_new_client() {
        let f = Freebies::default();
        let max = 512;
        for n in 0..max as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            assert!(f.take_bounded("s", ip, 1, max));
        }
        let newcomer: IpAddr = "203.0.113.9".parse().unwrap();
        assert!(
            f.take_bounded("s", newcomer, 1, max),
            "the newcomer gets its freebie"
        );
        assert!(!f.take_bounded("s", newcomer, 1, max), "once");
        let used = f.used.lock().unwrap();
        assert!(used.counts.len() <= max, "the table stays bounded");
    }
}
