//! A cap on the unpaid challenges one client may hold: every challenge costs the seller an
//! invoice at its node and a row in its store, so a client that asks without paying meets
//! `429 Too Many Requests` long before it has cost much, while a buyer who pays what it asked
//! for never notices (paying frees the slot).
//!
//! Clients are counted by their key (see [`crate::client_key`]: an IPv6 address by its /64,
//! one subscriber's whole prefix, unless configured otherwise). A challenge counts for the invoice's lifetime, at most [`OUTSTANDING_WINDOW_SECS`]. The table
//! holds at most [`MAX_CLIENTS`] clients; when it is full, clients holding nothing live are
//! forgotten, then the eighth whose slots free soonest, so new clients are never locked out.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use l402_core::PaymentHash;

use crate::bounded::make_room;

/// The longest a challenge counts against its client, in seconds.
pub const OUTSTANDING_WINDOW_SECS: u64 = 600;
/// The most clients remembered.
pub const MAX_CLIENTS: usize = 65_536;

type Held = HashMap<IpAddr, VecDeque<(u64, PaymentHash)>>;

/// Unpaid challenges per client: `(counts until, payment hash)`, oldest first, and the
/// challenges being minted right now (see [`OutstandingChallenges::reserve`]).
#[derive(Debug, Default)]
pub struct OutstandingChallenges {
    clients: Mutex<Held>,
    pending: Mutex<HashMap<IpAddr, u32>>,
}

/// A challenge being minted for a client: it counts against the cap from
/// [`OutstandingChallenges::reserve`] until dropped (record the challenge first), so that
/// concurrent requests of one client cannot all pass the check before any is recorded.
#[derive(Debug)]
#[must_use = "the slot is released when the reservation is dropped"]
pub struct Reservation<'a> {
    table: &'a OutstandingChallenges,
    key: IpAddr,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut pending = self.table.pending();
        if let Some(n) = pending.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                pending.remove(&self.key);
            }
        }
    }
}

impl OutstandingChallenges {
    fn clients(&self) -> std::sync::MutexGuard<'_, Held> {
        match self.clients.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, u32>> {
        match self.pending.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Whether `key`, with `pending` challenges being minted, has room for one more.
    fn room(clients: &mut Held, key: IpAddr, now: u64, cap: u32, pending: u32) -> Result<(), u64> {
        let (held, soonest) = match clients.get_mut(&key) {
            None => (0, None),
            Some(held) => {
                while held.front().is_some_and(|(until, _)| *until <= now) {
                    held.pop_front();
                }
                (held.len(), held.front().map(|(until, _)| *until))
            }
        };
        if held + pending as usize >= cap as usize {
            Err(soonest.map_or(1, |until| until.saturating_sub(now).max(1)))
        } else {
            Ok(())
        }
    }

    /// Whether the client `key` may be given one more challenge now (`cap` at most
    /// outstanding, those being minted included), holding the slot until the returned
    /// reservation is dropped: [`record`](Self::record) the minted challenge before dropping
    /// it. `Err` holds the seconds until a slot frees.
    pub fn reserve(&self, key: IpAddr, now: u64, cap: u32) -> Result<Reservation<'_>, u64> {
        let mut clients = self.clients();
        let mut pending = self.pending();
        let n = pending.get(&key).copied().unwrap_or(0);
        Self::room(&mut clients, key, now, cap, n)?;
        *pending.entry(key).or_insert(0) += 1;
        Ok(Reservation { table: self, key })
    }

    /// Counts the challenge paid by `hash` against the client `key` until `until`.
    pub fn record(&self, key: IpAddr, hash: PaymentHash, until: u64, now: u64) {
        let mut clients = self.clients();
        if !clients.contains_key(&key) {
            // Clients whose challenges all expired hold nothing; then those whose last slot
            // frees soonest go first.
            make_room(
                &mut clients,
                MAX_CLIENTS,
                |_, held| held.back().is_none_or(|(until, _)| *until <= now),
                |held| held.back().map_or(0, |(until, _)| *until),
            );
        }
        clients.entry(key).or_default().push_back((until, hash));
    }

    /// A token paying `hash` came back from the client `key`: its challenge no longer counts.
    pub fn paid(&self, key: IpAddr, hash: &PaymentHash) {
        let mut clients = self.clients();
        if let Some(held) = clients.get_mut(&key) {
            held.retain(|(_, h)| h != hash);
            if held.is_empty() {
                clients.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `key` has room now, without keeping the slot.
    fn admit(t: &OutstandingChallenges, key: IpAddr, now: u64, cap: u32) -> Result<(), u64> {
        t.reserve(key, now, cap).map(drop)
    }

    fn hash(n: u8) -> PaymentHash {
        PaymentHash([n; 32])
    }

    #[test]
    fn a_client_meets_the_cap_and_paying_or_time_frees_a_slot() {
        let t = OutstandingChallenges::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for n in 0..3 {
            assert_eq!(admit(&t, ip, 100, 3), Ok(()));
            t.record(ip, hash(n), 100 + 60 + u64::from(n), 100);
        }
        assert_eq!(admit(&t, ip, 100, 3), Err(60), "the oldest frees in 60 s");
        assert_eq!(
            admit(&t, "192.0.2.8".parse().unwrap(), 100, 3),
            Ok(()),
            "others unaffected"
        );
        t.paid(ip, &hash(1));
        assert_eq!(admit(&t, ip, 100, 3), Ok(()), "paying frees a slot");
        t.record(ip, hash(9), 200, 100);
        assert_eq!(admit(&t, ip, 100, 3), Err(60));
        assert_eq!(
            admit(&t, ip, 160, 3),
            Ok(()),
            "an expired challenge no longer counts"
        );
    }

    #[test]
    fn challenges_being_minted_count_until_recorded_or_abandoned() {
        let t = OutstandingChallenges::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let first = t.reserve(ip, 100, 2).unwrap();
        let second = t.reserve(ip, 100, 2).unwrap();
        assert_eq!(
            t.reserve(ip, 100, 2).err(),
            Some(1),
            "two in flight fill a cap of 2"
        );
        assert_eq!(admit(&t, ip, 100, 2), Err(1));
        t.record(ip, hash(1), 160, 100);
        drop(first);
        assert_eq!(
            admit(&t, ip, 100, 2),
            Err(60),
            "one recorded, one in flight"
        );
        drop(second);
        assert_eq!(
            admit(&t, ip, 100, 2),
            Ok(()),
            "an abandoned mint frees its slot"
        );
        assert!(t.pending().is_empty());
    }

    #[test]
    fn a_full_table_never_locks_out_a_new_client() {
        let t = OutstandingChallenges::default();
        for n in 0..MAX_CLIENTS as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            t.record(ip, hash(0), 1_000 + u64::from(n), 100);
        }
        let newcomer: IpAddr = "203.0.113.9".parse().unwrap();
        t.record(newcomer, hash(1), 5_000, 100);
        assert_eq!(
            admit(&t, newcomer, 100, 1),
            Err(4_900),
            "the newcomer is counted"
        );
        // The eighth whose slots free soonest went at once (one pass per MAX_CLIENTS / 8
        // newcomers, not one per newcomer); the rest stay.
        let clients = t.clients();
        assert_eq!(
            clients.len(),
            MAX_CLIENTS - MAX_CLIENTS / 8 + 1,
            "the table stays bounded"
        );
        let first = |n: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        let evicted = (MAX_CLIENTS / 8) as u32;
        assert!(!clients.contains_key(&first(0)));
        assert!(!clients.contains_key(&first(evicted - 1)));
        assert!(clients.contains_key(&first(evicted)));
        assert!(clients.contains_key(&first(MAX_CLIENTS as u32 - 1)));
    }
}
