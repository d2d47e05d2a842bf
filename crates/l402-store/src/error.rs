//! [`StoreError`]: what went wrong with the database, and what to do about it.

use std::path::{Path, PathBuf};

use l402_core::PaymentHash;
use rusqlite::ErrorCode;

/// Why a store operation failed. Every message names the database (file, or PostgreSQL URL with
/// its password redacted) and says what to do.
///
/// Messages never contain secrets (preimages, macaroons, keys).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The disk (or the file system's quota) is full.
    #[error("{}: the disk is full; free disk space and retry", path.display())]
    DiskFull {
        /// The database file.
        path: PathBuf,
    },
    /// Another connection held the database lock for longer than the busy timeout.
    #[error(
        "{}: the database is locked by another l402 process; retry, or stop the process that holds it",
        path.display()
    )]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file is not an l402 SQLite database, or it is damaged.
    #[error(
        "{} is corrupt or not an l402 database ({detail}); move it away to start with an empty store",
        path.display()
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong (never a secret value).
        detail: String,
    },
    /// The database (or its directory) cannot be written.
    #[error("{}: the database is read-only; check the permissions of the file and its directory", path.display())]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// The file or its directory could not be created, opened or changed.
    #[error("{}: {source}; check that the path exists and is writable", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer version of l402.
    #[error(
        "{} has schema version {found}, but this build knows only up to {supported}; upgrade l402",
        path.display()
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: u32,
        /// The newest schema version this build knows.
        supported: u32,
    },
    /// A payment with this hash is already journaled (pending or succeeded): paying it again
    /// could pay twice.
    #[error("a payment for {0} is already in the journal; resolve it before paying again")]
    DuplicatePayment(PaymentHash),
    /// No journaled payment has this hash.
    #[error("no payment for {0} in the journal")]
    UnknownPayment(PaymentHash),
    /// The database server cannot be reached now (down, restarting, refusing connections, or
    /// the connection broke). Retrying later may succeed: the store reconnects by itself.
    #[error("{}: the database is unavailable ({detail}); check that PostgreSQL is up and reachable", path.display())]
    Unavailable {
        /// The database (a PostgreSQL URL with its password redacted).
        path: PathBuf,
        /// What failed (never a secret value).
        detail: String,
    },
    /// Any other PostgreSQL failure.
    #[error("{}: PostgreSQL error: {detail}", path.display())]
    Postgres {
        /// The database (a PostgreSQL URL with its password redacted).
        path: PathBuf,
        /// PostgreSQL's description.
        detail: String,
    },
    /// The PostgreSQL URL does not parse.
    #[error(
        "{database} is not a valid PostgreSQL URL (postgres://user:password@host:port/database)"
    )]
    BadUrl {
        /// The URL, password redacted.
        database: String,
    },
    /// A PostgreSQL URL was given to a build without the `postgres` feature.
    #[error("{database}: this build of l402 has no PostgreSQL support (cargo feature `postgres`)")]
    NoPostgres {
        /// The URL, password redacted.
        database: String,
    },
    /// A buyer's table (token cache, journal, receipts, spend) was used on PostgreSQL, where
    /// only the seller's tables live.
    #[error("{database}: the buyer's tables live only in SQLite; open a SQLite file for them")]
    SqliteOnly {
        /// The URL, password redacted.
        database: String,
    },
    /// Any other SQLite failure.
    #[error("{}: SQLite error: {detail}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's description.
        detail: String,
    },
}

impl StoreError {
    /// Classifies a SQLite error for the database at `path`.
    pub(crate) fn from_sqlite(path: &Path, err: rusqlite::Error) -> Self {
        let path = path.to_owned();
        match &err {
            rusqlite::Error::SqliteFailure(e, _) => match e.code {
                ErrorCode::DiskFull => Self::DiskFull { path },
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::Locked { path },
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => Self::Corrupt {
                    path,
                    detail: err.to_string(),
                },
                ErrorCode::ReadOnly => Self::ReadOnly { path },
                ErrorCode::CannotOpen | ErrorCode::PermissionDenied => Self::Io {
                    path,
                    source: std::io::Error::other(err.to_string()),
                },
                _ => Self::Sqlite {
                    path,
                    detail: err.to_string(),
                },
            },
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..) => Self::Corrupt {
                path,
                detail: err.to_string(),
            },
            _ => Self::Sqlite {
                path,
                detail: err.to_string(),
            },
        }
    }

    /// Classifies a PostgreSQL error for the database at `path` (a redacted URL).
    #[cfg(feature = "postgres")]
    pub(crate) fn from_postgres(path: &Path, err: &postgres::Error) -> Self {
        let path = path.to_owned();
        let detail = match err.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => err.to_string(),
        };
        if crate::engine::pg::is_unavailable(err) {
            return Self::Unavailable { path, detail };
        }
        match err.code() {
            Some(c) if *c == postgres::error::SqlState::DISK_FULL => Self::DiskFull { path },
            Some(c) if *c == postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION => {
                Self::ReadOnly { path }
            }
            _ => Self::Postgres { path, detail },
        }
    }

    /// True when retrying later may succeed (the database was busy or unreachable).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Locked { .. } | Self::Unavailable { .. })
    }

    /// True when the database could not be reached or used now (down, busy, disk full): what a
    /// server answers with 503 Service Unavailable rather than 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Locked { .. } | Self::Unavailable { .. } | Self::DiskFull { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let p = Path::new("/tmp/x.db");
        assert!(
            StoreError::DiskFull { path: p.into() }
                .to_string()
                .contains("free disk space")
        );
        assert!(StoreError::Locked { path: p.into() }.is_transient());
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(matches!(
            StoreError::from_sqlite(p, busy),
            StoreError::Locked { .. }
        ));
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(matches!(
            StoreError::from_sqlite(p, full),
            StoreError::DiskFull { .. }
        ));
    }
}
