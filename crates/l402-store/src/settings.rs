//! Small key-value settings (text values), for either side.

use crate::engine::Param;
use crate::error::StoreError;
use crate::store::Store;

/// The `settings` table. Get one with [`Store::settings`].
#[derive(Debug, Clone, Copy)]
pub struct SettingsTable<'a> {
    store: &'a Store,
}

impl Store {
    /// Key-value settings.
    pub fn settings(&self) -> SettingsTable<'_> {
        SettingsTable { store: self }
    }
}

impl SettingsTable<'_> {
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.store.read(|sql| {
            let row = sql.query_opt(
                "SELECT value FROM settings WHERE key = ?1",
                &[Param::text(key)],
            )?;
            Ok(row.map(|r| r.text(0)).transpose()?)
        })
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.store.transact(|sql| {
            sql.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[Param::text(key), Param::text(value)],
            )
            .map(|_| ())
        })
    }

    /// The value of `key`, set to `value` first if it was unset: when several processes race
    /// to set it, every one gets the first writer's value.
    pub fn get_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.store.transact(|sql| {
            sql.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                &[Param::text(key), Param::text(value)],
            )?;
            let row = sql.query_one(
                "SELECT value FROM settings WHERE key = ?1",
                &[Param::text(key)],
            )?;
            Ok(row.text(0)?)
        })
    }

    /// Removes `key`. Returns whether it was set.
    pub fn remove(&self, key: &str) -> Result<bool, StoreError> {
        self.store
            .transact(|sql| sql.execute("DELETE FROM settings WHERE key = ?1", &[Param::text(key)]))
            .map(|n| n > 0)
    }
}
