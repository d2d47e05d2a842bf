//! The seller's consumed `Payment` (MPP) charge credentials: each Lightning charge is accepted
//! once, keyed by its payment hash. A row is kept until its challenge has expired (after which
//! the credential is refused anyway) and then may be pruned.

use l402_core::{Msat, PaymentHash};

use crate::codec::int;
use crate::engine::Param;
use crate::error::StoreError;
use crate::store::Store;

fn hash_param(h: &PaymentHash) -> Param {
    Param::text(h.to_hex())
}

/// One charge to consume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedCharge<'a> {
    /// The paid invoice's hash: the single-use key.
    pub payment_hash: PaymentHash,
    /// The challenge the credential answered.
    pub challenge_id: &'a str,
    /// The service it paid for.
    pub service: &'a str,
    /// The amount paid.
    pub amount: Msat,
    /// When it was used, Unix seconds.
    pub used_at: u64,
    /// When the row may be pruned (the challenge's expiry), Unix seconds.
    pub keep_until: u64,
}

/// The `mpp_charges` table. Get one with [`Store::mpp_charges`].
#[derive(Debug, Clone, Copy)]
pub struct MppChargeTable<'a> {
    store: &'a Store,
}

impl Store {
    /// The seller's consumed `Payment` charge credentials.
    pub fn mpp_charges(&self) -> MppChargeTable<'_> {
        MppChargeTable { store: self }
    }
}

impl MppChargeTable<'_> {
    /// Consumes a charge: `true` the first time its payment hash is seen, `false` after (a
    /// replay). One statement in a write transaction, so of two concurrent calls (threads,
    /// processes, or instances sharing one PostgreSQL) one wins.
    pub fn consume(&self, charge: &ConsumedCharge<'_>) -> Result<bool, StoreError> {
        self.store
            .transact(|sql| {
                sql.execute(
                    "INSERT INTO mpp_charges
                     (payment_hash, challenge_id, service, amount_msat, used_at, keep_until)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                    &[
                        hash_param(&charge.payment_hash),
                        Param::text(charge.challenge_id),
                        Param::text(charge.service),
                        Param::int(int(charge.amount.0)),
                        Param::int(int(charge.used_at)),
                        Param::int(int(charge.keep_until)),
                    ],
                )
            })
            .map(|n| n > 0)
    }

    /// Whether a charge with this payment hash was consumed (and not yet pruned).
    pub fn is_consumed(&self, payment_hash: &PaymentHash) -> Result<bool, StoreError> {
        self.store.read(|sql| {
            let row = sql.query_one(
                "SELECT COUNT(*) FROM mpp_charges WHERE payment_hash = ?1",
                &[hash_param(payment_hash)],
            )?;
            Ok(row.uint(0)? > 0)
        })
    }

    /// Deletes the rows whose challenge expired at or before `expired_by`; returns how many.
    pub fn prune(&self, expired_by: u64) -> Result<usize, StoreError> {
        self.store
            .transact(|sql| {
                sql.execute(
                    "DELETE FROM mpp_charges WHERE keep_until <= ?1",
                    &[Param::int(int(expired_by))],
                )
            })
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// How many consumed charges are recorded.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.store.read(|sql| {
            let row = sql.query_one("SELECT COUNT(*) FROM mpp_charges", &[])?;
            Ok(row.uint(0)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(h: u8, keep_until: u64) -> ConsumedCharge<'static> {
        ConsumedCharge {
            payment_hash: PaymentHash([h; 32]),
            challenge_id: "id",
            service: "weather",
            amount: Msat(21_000),
            used_at: 100,
            keep_until,
        }
    }

    #[test]
    fn consumes_once_and_prunes_after_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("l402.db")).unwrap();
        let table = store.mpp_charges();
        assert!(table.consume(&charge(1, 200)).unwrap());
        assert!(!table.consume(&charge(1, 200)).unwrap(), "a replay");
        assert!(table.consume(&charge(2, 300)).unwrap());
        assert!(table.is_consumed(&PaymentHash([1; 32])).unwrap());
        assert_eq!(table.count().unwrap(), 2);
        assert_eq!(table.prune(200).unwrap(), 1);
        assert!(!table.is_consumed(&PaymentHash([1; 32])).unwrap());
        assert!(table.is_consumed(&PaymentHash([2; 32])).unwrap());
    }

    #[test]
    fn concurrent_consumers_win_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l402.db");
        Store::open(&path).unwrap();
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let path = path.clone();
                    s.spawn(move || {
                        let store = Store::open(&path).unwrap();
                        usize::from(store.mpp_charges().consume(&charge(7, 1)).unwrap())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(wins, 1);
    }
}
