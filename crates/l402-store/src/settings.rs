//! Small key-value settings (text values), for either side.

use rusqlite::{OptionalExtension, params};

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
        self.store.with_conn(|c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
        })
    }

    /// The value of `key`, set to `value` first if it was unset: when several processes race
    /// to set it, every one gets the first writer's value.
    pub fn get_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )?;
            tx.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
        })
    }

    /// Removes `key`. Returns whether it was set.
    pub fn remove(&self, key: &str) -> Result<bool, StoreError> {
        self.store
            .write(|tx| tx.execute("DELETE FROM settings WHERE key = ?1", [key]))
            .map(|n| n > 0)
    }
}
