//! The seller's master keys by epoch (`root_key = HMAC(master_key[epoch], token_id)`), one of
//! them current. Generated on first start, rotatable; older epochs keep verifying until retired.

use l402_core::env::Rng;
use l402_core::keys::{KeyRing, MasterKey};
use rusqlite::{Row, Transaction, params};

use crate::codec::{int, uint};
use crate::error::StoreError;
use crate::store::Store;

/// The epoch of the first master key.
pub const FIRST_EPOCH: u32 = 1;

/// One stored master key. `Debug` does not show the key.
#[derive(Debug, Clone)]
pub struct StoredMasterKey {
    /// The key epoch (the first four bytes of every token id minted under it).
    pub epoch: u32,
    /// The secret.
    pub key: MasterKey,
    /// When it was generated, Unix seconds.
    pub created_at: u64,
    /// Whether new tokens are minted under it.
    pub current: bool,
}

/// The `master_keys` table. Get one with [`Store::master_keys`].
#[derive(Debug, Clone, Copy)]
pub struct MasterKeyTable<'a> {
    store: &'a Store,
}

impl Store {
    /// The seller's master keys.
    pub fn master_keys(&self) -> MasterKeyTable<'_> {
        MasterKeyTable { store: self }
    }
}

impl MasterKeyTable<'_> {
    /// The key ring of every stored epoch, generating the first key (epoch [`FIRST_EPOCH`])
    /// from `rng` if there is none. Safe when several processes start at once: exactly one key
    /// is generated.
    pub fn load_or_create(&self, rng: &mut dyn Rng, now: u64) -> Result<KeyRing, StoreError> {
        let keys = self.store.write(|tx| {
            let mut keys = all(tx)?;
            if keys.is_empty() {
                keys.push(insert(tx, FIRST_EPOCH, rng, now)?);
            }
            Ok(keys)
        })?;
        ring(&keys).ok_or_else(|| StoreError::Corrupt {
            path: self.store.path().to_owned(),
            detail: "master_keys has keys but none is current".into(),
        })
    }

    /// Every stored key, by epoch.
    pub fn list(&self) -> Result<Vec<StoredMasterKey>, StoreError> {
        self.store.with_conn(all)
    }

    /// Generates a key for a new epoch (one above the highest) and makes it current. Returns
    /// the new epoch.
    pub fn rotate(&self, rng: &mut dyn Rng, now: u64) -> Result<u32, StoreError> {
        let path = self.store.path().to_owned();
        let next = self.store.write(|tx| {
            let highest: Option<i64> =
                tx.query_row("SELECT MAX(epoch) FROM master_keys", [], |r| r.get(0))?;
            let next = match highest {
                None => Some(FIRST_EPOCH),
                Some(h) => u32::try_from(h).ok().and_then(|h| h.checked_add(1)),
            };
            let Some(next) = next else {
                return Ok(None);
            };
            tx.execute("UPDATE master_keys SET current = 0 WHERE current = 1", [])?;
            insert(tx, next, rng, now)?;
            Ok(Some(next))
        })?;
        next.ok_or(StoreError::Corrupt {
            path,
            detail: "no key epoch is left after the highest one".into(),
        })
    }

    /// Deletes a non-current epoch: every token minted under it stops verifying. Returns whether
    /// it was deleted (the current epoch never is).
    pub fn retire(&self, epoch: u32) -> Result<bool, StoreError> {
        self.store
            .write(|tx| {
                tx.execute(
                    "DELETE FROM master_keys WHERE epoch = ?1 AND current = 0",
                    [i64::from(epoch)],
                )
            })
            .map(|n| n > 0)
    }
}

/// A key ring of `keys`, or `None` if none is current.
fn ring(keys: &[StoredMasterKey]) -> Option<KeyRing> {
    let current = keys.iter().find(|k| k.current)?;
    let mut ring = KeyRing::new(current.epoch, &current.key);
    for k in keys.iter().filter(|k| !k.current) {
        ring.insert(k.epoch, &k.key);
    }
    Some(ring)
}

fn insert(
    tx: &Transaction<'_>,
    epoch: u32,
    rng: &mut dyn Rng,
    now: u64,
) -> rusqlite::Result<StoredMasterKey> {
    let key = MasterKey::generate(rng);
    tx.execute(
        "INSERT INTO master_keys (epoch, key, created_at, current) VALUES (?1, ?2, ?3, 1)",
        params![i64::from(epoch), key.as_bytes().as_slice(), int(now)],
    )?;
    Ok(StoredMasterKey {
        epoch,
        key,
        created_at: now,
        current: true,
    })
}

fn all(c: &rusqlite::Connection) -> rusqlite::Result<Vec<StoredMasterKey>> {
    let mut stmt =
        c.prepare("SELECT epoch, key, created_at, current FROM master_keys ORDER BY epoch")?;
    let rows = stmt.query_map([], read_key)?;
    rows.collect()
}

fn read_key(r: &Row<'_>) -> rusqlite::Result<StoredMasterKey> {
    let bytes: Vec<u8> = r.get(1)?;
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Blob,
            "a master key must be 32 bytes".into(),
        )
    })?;
    let epoch = uint(r.get(0)?)?;
    Ok(StoredMasterKey {
        epoch: u32::try_from(epoch)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, int(epoch)))?,
        key: MasterKey::from_bytes(key),
        created_at: uint(r.get(2)?)?,
        current: r.get::<_, i64>(3)? == 1,
    })
}
