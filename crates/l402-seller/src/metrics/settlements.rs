//! Invoices minted by this process and not yet settled, so a settlement can be credited to
//! its service. Bounded: expired entries go first when the table is full, then an arbitrary
//! eighth (their settlements then count as untracked; the store stays the ledger of record).

use std::collections::HashMap;
use std::sync::Mutex;

use l402_core::PaymentHash;

/// Most invoices remembered.
pub(crate) const CAPACITY: usize = 100_000;

/// `T` is what a settlement is credited to (the service's counters).
#[derive(Debug)]
pub(crate) struct Pending<T> {
    /// Payment hash → (service, expiry in Unix seconds).
    entries: Mutex<HashMap<PaymentHash, (T, u64)>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Pending<T> {
    /// Remembers a minted invoice, making room when full.
    pub(crate) fn insert(&self, hash: PaymentHash, service: T, expires_at: u64, now: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, expiry)| *expiry > now);
        }
        if entries.len() >= CAPACITY {
            let drop: Vec<PaymentHash> = entries.keys().take(CAPACITY / 8).copied().collect();
            for hash in drop {
                entries.remove(&hash);
            }
        }
        entries.insert(hash, (service, expires_at));
    }

    /// The service of a settled invoice, forgotten from now on.
    pub(crate) fn take(&self, hash: &PaymentHash) -> Option<T> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(hash).map(|(service, _)| service)
    }

    /// How many are remembered.
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(i: u32) -> PaymentHash {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&i.to_be_bytes());
        PaymentHash(bytes)
    }

    #[test]
    fn a_settlement_is_credited_once() {
        let p = Pending::<usize>::default();
        p.insert(hash(1), 3, 100, 0);
        assert_eq!(p.take(&hash(1)), Some(3));
        assert_eq!(p.take(&hash(1)), None);
        assert_eq!(p.take(&hash(2)), None);
    }

    #[test]
    fn a_full_table_drops_expired_entries_first_and_stays_bounded() {
        let p = Pending::<usize>::default();
        for i in 0..CAPACITY as u32 {
            // Every other entry has expired by `now = 50`.
            p.insert(hash(i), 0, if i % 2 == 0 { 10 } else { 100 }, 0);
        }
        p.insert(hash(u32::MAX), 1, 100, 50);
        assert_eq!(p.len(), CAPACITY / 2 + 1);
        assert_eq!(p.take(&hash(1)), Some(0), "unexpired entries are kept");
        assert_eq!(p.take(&hash(0)), None, "expired entries are gone");
        for i in 0..CAPACITY as u32 {
            p.insert(hash(i), 0, 100, 50);
        }
        assert!(p.len() <= CAPACITY, "{}", p.len());
    }
}
