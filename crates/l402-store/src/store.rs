//! [`Store`]: one SQLite file, opened safely for use by several threads and processes.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::StoreError;
use crate::migrations::{self, MigrateError};

/// How long a connection waits for another one (in this or another process) to release the
/// database lock before failing with [`StoreError::Locked`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded database. Cheap to clone (an `Arc`); every method is synchronous and blocking,
/// so async callers run them in `tokio::task::spawn_blocking`.
///
/// Safe for concurrent use: within a process a mutex serializes the connection; across
/// processes SQLite's file locks (WAL mode, a 5 s busy timeout) do, and every
/// read-check-write sequence runs in a `BEGIN IMMEDIATE` transaction.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    ///
    /// Creates missing parent directories (mode 0700 on unix), creates the file with mode 0600
    /// (and tightens an existing file to 0600), sets `journal_mode=WAL`, `synchronous=FULL` (a
    /// committed journal entry survives power loss), a [`BUSY_TIMEOUT`], and runs the schema
    /// migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        prepare_file(&path)?;
        let sql = |e| StoreError::from_sqlite(&path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite {
                path,
                detail: format!("cannot switch to WAL journaling (mode is {mode})"),
            });
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(sql)?;
        migrations::migrate(&mut conn).map_err(|e| match e {
            MigrateError::Sqlite(e) => StoreError::from_sqlite(&path, e),
            MigrateError::TooNew(found) => StoreError::TooNew {
                path: path.clone(),
                found,
                supported: migrations::SCHEMA_VERSION,
            },
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                conn: Mutex::new(conn),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checks the database can be used for writing now: SQLite's `quick_check` finds no
    /// corruption, and the write lock can be taken (then released without a change).
    pub fn health_check(&self) -> Result<(), StoreError> {
        let verdict: String =
            self.with_conn(|c| c.query_row("PRAGMA quick_check", [], |r| r.get(0)))?;
        if verdict != "ok" {
            return Err(StoreError::Corrupt {
                path: self.inner.path.clone(),
                detail: verdict,
            });
        }
        self.immediate(|_| Ok(Ok::<(), std::convert::Infallible>(())))
            .map(|_| ())
    }

    /// Runs `f` on the connection (outside any explicit transaction).
    pub(crate) fn with_conn<R>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        // A panic while holding the lock cannot leave a transaction open (dropping a
        // `Transaction` rolls it back), so a poisoned connection is still usable.
        let conn = self
            .inner
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&conn).map_err(|e| StoreError::from_sqlite(&self.inner.path, e))
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before anything is
    /// read, so a read-check-write sequence cannot interleave with another process's. Commits
    /// when `f` returns `Ok(Ok(_))`, rolls back otherwise.
    pub(crate) fn immediate<R, E>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<Result<R, E>, StoreError>,
    ) -> Result<Result<R, E>, StoreError> {
        let mut conn = self
            .inner
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let sql = |e| StoreError::from_sqlite(&self.inner.path, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        match f(&tx)? {
            Ok(r) => {
                tx.commit().map_err(sql)?;
                Ok(Ok(r))
            }
            Err(e) => {
                tx.rollback().map_err(sql)?;
                Ok(Err(e))
            }
        }
    }

    /// Like [`immediate`](Self::immediate) for bodies that only fail with SQLite errors.
    pub(crate) fn write<R>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        let path = &self.inner.path;
        self.immediate(|tx| Ok(f(tx)))?
            .map_err(|e: rusqlite::Error| StoreError::from_sqlite(path, e))
    }

    /// Converts a SQLite error for this database.
    pub(crate) fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.inner.path, e)
    }
}

/// Creates `dir` and its missing parents, readable by their owner only (mode 0700 on unix;
/// existing directories keep their mode): the home of databases, keys and wallet files.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Replaces `path` with `bytes`, readable by its owner only (mode 0600 on unix): writes a
/// temporary file beside it, syncs it and renames it over `path`, so a reader never sees half a
/// file.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".tmp{}", std::process::id()));
    let temp = path.with_file_name(name);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts.open(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Creates the parent directories and the file itself with private permissions.
fn prepare_file(path: &Path) -> Result<(), StoreError> {
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| StoreError::Io { path: p, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(io(dir))?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(path).map_err(io(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = file.metadata().map_err(io(path))?;
        if meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(io(path))?;
        }
    }
    drop(file);
    Ok(())
}

#[cfg(test)]
mod health_tests {
    use super::*;

    #[test]
    fn health_check_passes_then_reports_a_held_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l402.db");
        let store = Store::open(&path).unwrap();
        store.health_check().unwrap();
        // Another process holds the write lock past the busy timeout.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let err = store.health_check().unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
        other.execute_batch("ROLLBACK").unwrap();
        store.health_check().unwrap();
    }
}
