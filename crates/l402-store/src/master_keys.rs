//! The seller's master keys by epoch (`root_key = HMAC(master_key[epoch], token_id)`), one of
//! them current. Generated on first start, rotatable; older epochs keep verifying until retired.
//! A retired epoch keeps its row (with `retired_at` set and the key overwritten by zeros), so
//! it is listed and never reused.

use l402_core::env::Rng;
use l402_core::keys::{KeyRing, MasterKey};
use zeroize::Zeroizing;

use crate::codec::int;
use crate::engine::{Decode, EngineError, Param, Row, Sql};
use crate::error::StoreError;
use crate::store::Store;

/// The epoch of the first master key.
pub const FIRST_EPOCH: u32 = 1;

/// One stored master key. `Debug` does not show the key.
#[derive(Debug, Clone)]
pub struct StoredMasterKey {
    /// The key epoch (the first four bytes of every token id minted under it).
    pub epoch: u32,
    /// The secret; `None` once the epoch is retired (the stored key is wiped).
    pub key: Option<MasterKey>,
    /// When it was generated, Unix seconds.
    pub created_at: u64,
    /// Whether new tokens are minted under it.
    pub current: bool,
    /// When it was retired, Unix seconds; tokens of a retired epoch no longer verify.
    pub retired_at: Option<u64>,
}

/// What [`MasterKeyTable::retire`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retired {
    /// Retired now: its key is wiped and its tokens stop verifying.
    Now,
    /// It was retired before (at these Unix seconds); nothing changed.
    Already(u64),
    /// It is the current epoch, which is never retired (rotate first); nothing changed.
    Current,
    /// No such epoch; nothing changed.
    Unknown,
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
        // Generated before the transaction (which may run on another thread); stored only if
        // there is no key yet.
        let candidate = MasterKey::generate(rng);
        let keys = self.store.transact(|sql| {
            let mut keys = all(sql)?;
            if keys.is_empty() {
                keys.push(insert(sql, FIRST_EPOCH, candidate, now)?);
            }
            Ok(keys)
        })?;
        self.ring(&keys)
    }

    /// The key ring of every stored epoch (what a running proxy reloads to follow
    /// [`rotate`](Self::rotate) and [`retire`](Self::retire)); `None` while no key exists.
    pub fn load(&self) -> Result<Option<KeyRing>, StoreError> {
        let keys = self.list()?;
        if keys.is_empty() {
            return Ok(None);
        }
        self.ring(&keys).map(Some)
    }

    /// Every stored key, retired ones included, by epoch.
    pub fn list(&self) -> Result<Vec<StoredMasterKey>, StoreError> {
        self.store.read(all)
    }

    /// Generates a key for a new epoch (one above the highest ever used, retired ones included)
    /// and makes it current. Returns the new epoch.
    pub fn rotate(&self, rng: &mut dyn Rng, now: u64) -> Result<u32, StoreError> {
        let path = self.store.path().to_owned();
        let key = MasterKey::generate(rng);
        let next = self.store.transact(|sql| {
            let highest = sql
                .query_one("SELECT MAX(epoch) FROM master_keys", &[])?
                .opt_int(0)?;
            let next = match highest {
                None => Some(FIRST_EPOCH),
                Some(h) => u32::try_from(h).ok().and_then(|h| h.checked_add(1)),
            };
            let Some(next) = next else {
                return Ok(None);
            };
            sql.execute("UPDATE master_keys SET current = 0 WHERE current = 1", &[])?;
            insert(sql, next, key, now)?;
            Ok(Some(next))
        })?;
        next.ok_or(StoreError::Corrupt {
            path,
            detail: "no key epoch is left after the highest one".into(),
        })
    }

    /// Retires a non-current epoch: its stored key is overwritten by zeros and every token
    /// minted under it stops verifying. The current epoch is never retired.
    pub fn retire(&self, epoch: u32, now: u64) -> Result<Retired, StoreError> {
        let outcome = self.store.transact(|sql| {
            let row = sql.query_opt(
                "SELECT current, retired_at FROM master_keys WHERE epoch = ?1",
                &[Param::int(i64::from(epoch))],
            )?;
            let row = match row {
                None => return Ok(Retired::Unknown),
                Some(r) => (r.int(0)? == 1, r.opt_uint(1)?),
            };
            Ok(match row {
                (true, _) => Retired::Current,
                (false, Some(at)) => Retired::Already(at),
                (false, None) => {
                    sql.execute(
                        "UPDATE master_keys SET retired_at = ?2, key = ?3 WHERE epoch = ?1",
                        &[
                            Param::int(i64::from(epoch)),
                            Param::int(int(now)),
                            Param::Blob(Some(vec![0; 32])),
                        ],
                    )?;
                    Retired::Now
                }
            })
        })?;
        if outcome == Retired::Now && !self.store.is_postgres() {
            // Best effort: move the overwritten page into the database file and truncate the
            // write-ahead log, which still holds the page with the old key. Busy while another
            // connection reads; the log is then reused and overwritten later.
            let _ = self
                .store
                .with_conn(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())));
        }
        Ok(outcome)
    }

    /// The key ring of `keys`, or `Corrupt` if none is current.
    fn ring(&self, keys: &[StoredMasterKey]) -> Result<KeyRing, StoreError> {
        ring(keys).ok_or_else(|| StoreError::Corrupt {
            path: self.store.path().to_owned(),
            detail: "master_keys has keys but none is current".into(),
        })
    }
}

/// A key ring of `keys`, or `None` if none is current.
fn ring(keys: &[StoredMasterKey]) -> Option<KeyRing> {
    let current = keys.iter().find(|k| k.current)?;
    let mut ring = KeyRing::new(current.epoch, current.key.as_ref()?);
    for k in keys.iter().filter(|k| !k.current) {
        match &k.key {
            Some(key) => ring.insert(k.epoch, key),
            None => ring.retire(k.epoch),
        }
    }
    Some(ring)
}

fn insert(
    sql: &mut dyn Sql,
    epoch: u32,
    key: MasterKey,
    now: u64,
) -> Result<StoredMasterKey, EngineError> {
    // The parameter's copy of the key is wiped once the statement ran.
    let params = [
        Param::int(i64::from(epoch)),
        Param::Blob(Some(key.as_bytes().to_vec())),
        Param::int(int(now)),
    ];
    let done = sql.execute(
        "INSERT INTO master_keys (epoch, key, created_at, current) VALUES (?1, ?2, ?3, 1)",
        &params,
    );
    let [_, Param::Blob(Some(mut bytes)), _] = params else {
        unreachable!("the key parameter is a blob")
    };
    zeroize::Zeroize::zeroize(&mut bytes);
    done?;
    Ok(StoredMasterKey {
        epoch,
        key: Some(key),
        created_at: now,
        current: true,
        retired_at: None,
    })
}

fn all(sql: &mut dyn Sql) -> Result<Vec<StoredMasterKey>, EngineError> {
    let rows = sql.query(
        "SELECT epoch, key, created_at, current, retired_at FROM master_keys ORDER BY epoch",
        &[],
    )?;
    Ok(rows.iter().map(read_key).collect::<Result<_, _>>()?)
}

fn read_key(r: &Row) -> Result<StoredMasterKey, Decode> {
    let epoch = r.uint(0)?;
    let retired_at = r.opt_uint(4)?;
    let key = match retired_at {
        Some(_) => None,
        None => Some(read_secret(r)?),
    };
    Ok(StoredMasterKey {
        epoch: u32::try_from(epoch).map_err(|_| Decode(format!("epoch {epoch} is too large")))?,
        key,
        created_at: r.uint(2)?,
        current: r.int(3)? == 1,
        retired_at,
    })
}

/// The key column, copied through a buffer that is zeroized on drop.
fn read_secret(r: &Row) -> Result<MasterKey, Decode> {
    let mut key = Zeroizing::new([0u8; 32]);
    let bytes = r.blob(1)?;
    if bytes.len() != key.len() {
        return Err(Decode("a master key must be 32 bytes".into()));
    }
    key.copy_from_slice(bytes);
    Ok(MasterKey::from_bytes(*key))
}
