//! Free requests per client IP and service before the paywall applies (Aperture's `freebies`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Counts free requests per (service, IP). In memory: a restart grants them again.
#[derive(Debug, Default)]
pub struct Freebies {
    used: Mutex<HashMap<(String, IpAddr), u32>>,
}

/// Most distinct (service, IP) pairs remembered; beyond this, no more freebies are granted
/// (so a flood of source addresses cannot exhaust memory).
const MAX_TRACKED: usize = 100_000;

impl Freebies {
    /// Takes one free request for `ip` on `service` if fewer than `allowed` were used.
    pub fn take(&self, service: &str, ip: IpAddr, allowed: u32) -> bool {
        if allowed == 0 {
            return false;
        }
        let mut used = match self.used.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let key = (service.to_owned(), ip);
        if !used.contains_key(&key) && used.len() >= MAX_TRACKED {
            return false;
        }
        let count = used.entry(key).or_insert(0);
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
    fn grants_exactly_the_allowance_per_ip_and_service() {
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
}
