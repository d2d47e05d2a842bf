//! [`Store`]: one SQLite file, opened safely for use by several threads and processes, or
//! (feature `postgres`) a PostgreSQL database shared by several seller instances.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::engine::sqlite::Lite;
use crate::engine::{EngineError, Sql};
use crate::error::StoreError;
use crate::migrations::{self, MigrateError};
use crate::url::StoreUrl;

/// How long a connection waits for another one (in this or another process) to release the
/// database lock before failing with [`StoreError::Locked`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded database. Cheap to clone (an `Arc`); every method is synchronous and blocking,
/// so async callers run them in `tokio::task::spawn_blocking`.
///
/// Safe for concurrent use: within a process a mutex serializes the connection; across
/// processes SQLite's file locks (WAL mode, a 5 s busy timeout) do, and every
/// read-check-write sequence runs in a `BEGIN IMMEDIATE` transaction.
///
/// On PostgreSQL ([`Store::open_url`] with a `postgres://` URL, feature `postgres`) only the
/// seller's tables exist (revocations, invoices, master keys, settings); every write
/// transaction first takes one advisory lock, the equivalent of SQLite's `BEGIN IMMEDIATE`
/// across instances. The buyer's tables (tokens, journal, receipts, spend) answer
/// [`StoreError::SqliteOnly`] there.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// The SQLite file, or the redacted PostgreSQL URL (for messages).
    path: PathBuf,
    engine: Engine,
    /// SQLite: a second connection for the hot single-statement writes ([`Store::single`]),
    /// opened on first use with `synchronous=NORMAL`.
    fast: std::sync::OnceLock<Mutex<Connection>>,
}

enum Engine {
    Sqlite(Mutex<Connection>),
    #[cfg(feature = "postgres")]
    Postgres(Box<Mutex<crate::engine::pg::Pg>>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// The PostgreSQL advisory lock every write transaction takes first (any constant; "l402").
#[cfg(feature = "postgres")]
pub(crate) const WRITE_LOCK: i64 = 0x6c34_3032;

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
                engine: Engine::Sqlite(Mutex::new(conn)),
                fast: std::sync::OnceLock::new(),
            }),
        })
    }

    /// Opens the store at `url`: a SQLite file ([`Store::open`]) or, with the `postgres`
    /// feature, a PostgreSQL database (connected and migrated now; reconnected by itself after
    /// the server went away). Without the feature a PostgreSQL URL is refused with
    /// [`StoreError::NoPostgres`].
    pub fn open_url(url: &StoreUrl) -> Result<Self, StoreError> {
        match url {
            StoreUrl::Sqlite(path) => Self::open(path),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(pg) => Self::connect_postgres(pg),
            #[cfg(not(feature = "postgres"))]
            StoreUrl::Postgres(pg) => Err(StoreError::NoPostgres {
                database: pg.redacted(),
            }),
        }
    }

    #[cfg(feature = "postgres")]
    fn connect_postgres(url: &crate::url::PostgresUrl) -> Result<Self, StoreError> {
        let config: postgres::Config =
            url.expose()
                .parse()
                .map_err(|_: postgres::Error| StoreError::BadUrl {
                    database: url.redacted(),
                })?;
        let mut pg = crate::engine::pg::Pg::new(config);
        let path = PathBuf::from(url.redacted());
        outside_runtime(|| migrations::migrate_pg(&mut pg)).map_err(|e| match e {
            migrations::PgMigrateError::Engine(e) => engine_error(&path, e),
            migrations::PgMigrateError::TooNew(found) => StoreError::TooNew {
                path: path.clone(),
                found,
                supported: migrations::SCHEMA_VERSION,
            },
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                engine: Engine::Postgres(Box::new(Mutex::new(pg))),
                fast: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The database file; on PostgreSQL, the URL with its password redacted.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// True when the store is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        !matches!(self.inner.engine, Engine::Sqlite(_))
    }

    /// Checks the database can be used for writing now: SQLite's `quick_check` finds no
    /// corruption, and the write lock can be taken (then released without a change).
    ///
    /// On PostgreSQL: the server answers and the write lock can be taken.
    pub fn health_check(&self) -> Result<(), StoreError> {
        if self.is_postgres() {
            return self.transact(|_| Ok(()));
        }
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
        let conn = self.sqlite()?;
        f(&conn).map_err(|e| StoreError::from_sqlite(&self.inner.path, e))
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken before anything is
    /// read, so a read-check-write sequence cannot interleave with another process's. Commits
    /// when `f` returns `Ok(Ok(_))`, rolls back otherwise.
    pub(crate) fn immediate<R, E>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<Result<R, E>, StoreError>,
    ) -> Result<Result<R, E>, StoreError> {
        let mut conn = self.sqlite()?;
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

    /// The SQLite connection, locked; [`StoreError::SqliteOnly`] on PostgreSQL (the buyer's
    /// tables live only in SQLite).
    fn sqlite(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        match &self.inner.engine {
            // A panic while holding the lock cannot leave a transaction open (dropping a
            // `Transaction` rolls it back), so a poisoned connection is still usable.
            Engine::Sqlite(conn) => Ok(conn.lock().unwrap_or_else(PoisonError::into_inner)),
            #[cfg(feature = "postgres")]
            Engine::Postgres(_) => Err(StoreError::SqliteOnly {
                database: self.inner.path.display().to_string(),
            }),
        }
    }

    /// Runs `f` (engine-neutral SQL, reads only) outside any explicit transaction. On
    /// PostgreSQL a call that finds the connection broken reconnects and runs once more.
    pub(crate) fn read<R: Send>(
        &self,
        f: impl Fn(&mut dyn Sql) -> Result<R, EngineError> + Send,
    ) -> Result<R, StoreError> {
        match &self.inner.engine {
            Engine::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut Lite(&conn)).map_err(|e| self.engine_err(e))
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(pg) => outside_runtime(move || {
                let mut pg = pg.lock().unwrap_or_else(PoisonError::into_inner);
                let mut retried = false;
                loop {
                    match f(&mut *pg) {
                        Ok(r) => return Ok(r),
                        Err(e) => {
                            let broken = pg_broken(&e);
                            if broken {
                                pg.drop_connection();
                            }
                            if !broken || retried {
                                return Err(self.engine_err(e));
                            }
                            retried = true;
                        }
                    }
                }
            }),
        }
    }

    /// Runs `f`, one write statement that is atomic by itself (a conditional `UPDATE`), with no
    /// explicit transaction: a single round trip to PostgreSQL and no store-wide lock, for the
    /// hot writes (a metered request's reservation and settlement). Not retried on a broken
    /// connection: the statement may have committed before the connection broke.
    ///
    /// On SQLite these run on a connection of their own with `synchronous=NORMAL`: atomic and
    /// isolated as any other write (no overspending), and durable across a crash of the process
    /// (the WAL is in the file), but not flushed to the disk one by one: a power loss may forget
    /// the last ones (the seller then loses the last reservations, or the buyer the return of
    /// their unused part). The next `synchronous=FULL` commit of the store (any other write)
    /// flushes them with it. Two flushes per metered request cost more than the request itself.
    pub(crate) fn single<R: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<R, EngineError> + Send,
    ) -> Result<R, StoreError> {
        match &self.inner.engine {
            Engine::Sqlite(_) => {
                let conn = self.fast_connection()?;
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut Lite(&conn)).map_err(|e| self.engine_err(e))
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(pg) => outside_runtime(move || {
                let mut pg = pg.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut *pg).map_err(|e| {
                    if pg_broken(&e) {
                        pg.drop_connection();
                    }
                    self.engine_err(e)
                })
            }),
        }
    }

    /// Runs `f` (engine-neutral SQL) in a write transaction: SQLite's `BEGIN IMMEDIATE`, or on
    /// PostgreSQL a transaction that first takes the store's advisory write lock, so a
    /// read-check-write sequence cannot interleave with another instance's. Commits when `f`
    /// returns `Ok`, rolls back otherwise.
    pub(crate) fn transact<R: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<R, EngineError> + Send,
    ) -> Result<R, StoreError> {
        self.transact_with(Durability::Flushed, f)
    }

    /// Like [`transact`](Self::transact), for rows whose loss in a power cut moves no money
    /// (unpaid challenges): atomic, isolated and durable across a crash of the process, but not
    /// flushed to the disk by its own commit. On SQLite it runs on the `synchronous=NORMAL`
    /// connection of [`single`](Self::single) (the store's next `synchronous=FULL` commit flushes
    /// it with its own); on PostgreSQL with `synchronous_commit = off` for the transaction.
    pub(crate) fn transact_relaxed<R: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<R, EngineError> + Send,
    ) -> Result<R, StoreError> {
        self.transact_with(Durability::Relaxed, f)
    }

    fn transact_with<R: Send>(
        &self,
        durability: Durability,
        f: impl FnOnce(&mut dyn Sql) -> Result<R, EngineError> + Send,
    ) -> Result<R, StoreError> {
        match &self.inner.engine {
            Engine::Sqlite(conn) => {
                let conn = match durability {
                    Durability::Flushed => conn,
                    Durability::Relaxed => self.fast_connection()?,
                };
                let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                let sql = |e| StoreError::from_sqlite(&self.inner.path, e);
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                let r = f(&mut Lite(&tx)).map_err(|e| self.engine_err(e))?;
                tx.commit().map_err(sql)?;
                Ok(r)
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres(pg) => outside_runtime(move || {
                let mut pg = pg.lock().unwrap_or_else(PoisonError::into_inner);
                let relax = match durability {
                    Durability::Flushed => "",
                    Durability::Relaxed => "SET LOCAL synchronous_commit = off; ",
                };
                let begin = format!("BEGIN; {relax}SELECT pg_advisory_xact_lock({WRITE_LOCK})");
                if let Err(e) = pg.batch(&begin) {
                    // A connection found broken before anything was sent: once more.
                    pg.drop_connection();
                    if !pg_broken(&e) {
                        return Err(self.engine_err(e));
                    }
                    pg.batch(&begin).map_err(|e| {
                        pg.drop_connection();
                        self.engine_err(e)
                    })?;
                }
                match f(&mut *pg) {
                    Ok(r) => {
                        pg.batch("COMMIT").map_err(|e| {
                            pg.drop_connection();
                            self.engine_err(e)
                        })?;
                        Ok(r)
                    }
                    Err(e) => {
                        if pg.batch("ROLLBACK").is_err() {
                            pg.drop_connection();
                        }
                        Err(self.engine_err(e))
                    }
                }
            }),
        }
    }

    /// The SQLite connection of [`Store::single`], opened on first use.
    fn fast_connection(&self) -> Result<&Mutex<Connection>, StoreError> {
        if let Some(conn) = self.inner.fast.get() {
            return Ok(conn);
        }
        let path = &self.inner.path;
        let sql = |e| StoreError::from_sqlite(path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(sql)?;
        // Another thread may have opened one meanwhile: either serves.
        let _ = self.inner.fast.set(Mutex::new(conn));
        Ok(self.inner.fast.get().expect("set just above"))
    }

    /// Converts an engine error for this database.
    pub(crate) fn engine_err(&self, e: EngineError) -> StoreError {
        engine_error(&self.inner.path, e)
    }
}

/// Whether a write transaction's commit waits for the disk.
#[derive(Debug, Clone, Copy)]
enum Durability {
    /// The commit is flushed (`synchronous=FULL`; PostgreSQL's default).
    Flushed,
    /// The commit reaches the log, and the disk with a later flushed commit.
    Relaxed,
}

/// Runs `f` on a thread of its own and waits for it. The blocking PostgreSQL client drives its
/// own small async runtime, which cannot start on a thread that is already inside one (an
/// async task calling the store directly, as SQLite allows): a fresh thread never is.
#[cfg(feature = "postgres")]
pub(crate) fn outside_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Whether a PostgreSQL call failed because the connection is gone (worth reconnecting).
#[cfg(feature = "postgres")]
fn pg_broken(e: &EngineError) -> bool {
    matches!(e, EngineError::Postgres(e) if crate::engine::pg::is_unavailable(e))
}

/// An engine error as a [`StoreError`] naming the database at `path`.
fn engine_error(path: &Path, e: EngineError) -> StoreError {
    match e {
        EngineError::Sqlite(e) => StoreError::from_sqlite(path, e),
        EngineError::Decode(d) => StoreError::Corrupt {
            path: path.to_owned(),
            detail: d.0,
        },
        #[cfg(feature = "postgres")]
        EngineError::Postgres(e) => StoreError::from_postgres(path, &e),
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
