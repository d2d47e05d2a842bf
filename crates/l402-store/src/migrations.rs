//! Versioned schema migrations: a `schema_version` table and the SQL of each version, applied in
//! order inside one transaction (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL one holding the
//! store's advisory write lock), so processes that open the same database at the same moment
//! migrate it exactly once.
//!
//! Both engines share the version numbers: each [`Migration`] holds a version's SQL for SQLite
//! and for PostgreSQL side by side, so adding a table is one new entry. PostgreSQL holds only
//! the seller's tables (its text is empty for a version that changes only the buyer's).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// One schema version, in each engine's dialect.
pub(crate) struct Migration {
    /// The SQLite SQL (every table).
    pub(crate) sqlite: &'static str,
    /// The PostgreSQL SQL (the seller's tables only; may be empty).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) postgres: &'static str,
}

/// Each schema version; version `n` is `MIGRATIONS[n - 1]`. Never edit a released entry:
/// append a new one.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        sqlite: V1,
        postgres: PG_V1,
    },
    Migration {
        sqlite: V2,
        postgres: PG_V2,
    },
    Migration {
        sqlite: V3,
        postgres: PG_V3,
    },
    Migration {
        sqlite: V4,
        postgres: "",
    },
    Migration {
        sqlite: V5,
        postgres: PG_V5,
    },
    Migration {
        sqlite: V6,
        postgres: PG_V6,
    },
    Migration {
        sqlite: V7,
        postgres: "",
    },
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1: every table of the buyer and the seller.
///
/// Hashes and token ids are lower-case hex text (readable with the `sqlite3` shell); secrets
/// (macaroons, preimages, master keys) are blobs. Times are Unix seconds; amounts millisatoshis.
const V1: &str = "
CREATE TABLE tokens (
    scope        TEXT PRIMARY KEY,
    origin       TEXT NOT NULL,
    scheme       TEXT NOT NULL CHECK (scheme IN ('L402', 'LSAT')),
    macaroon     BLOB NOT NULL,
    preimage     BLOB NOT NULL,
    payment_hash TEXT NOT NULL,
    amount_msat  INTEGER NOT NULL CHECK (amount_msat >= 0),
    fee_msat     INTEGER NOT NULL CHECK (fee_msat >= 0),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    label        TEXT
) STRICT;

CREATE TABLE payments (
    payment_hash       TEXT PRIMARY KEY,
    url                TEXT NOT NULL,
    origin             TEXT NOT NULL,
    scope              TEXT NOT NULL,
    domain             TEXT NOT NULL,
    scheme             TEXT NOT NULL CHECK (scheme IN ('L402', 'LSAT')),
    bolt11             TEXT NOT NULL,
    macaroon           BLOB NOT NULL,
    amount_msat        INTEGER NOT NULL CHECK (amount_msat >= 0),
    max_fee_msat       INTEGER NOT NULL CHECK (max_fee_msat >= 0),
    invoice_expires_at INTEGER NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    preimage           BLOB,
    fee_msat           INTEGER CHECK (fee_msat >= 0),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX payments_by_state ON payments (state, scope);

CREATE TABLE receipts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    paid_at      INTEGER NOT NULL,
    url          TEXT NOT NULL,
    origin       TEXT NOT NULL,
    scope        TEXT NOT NULL,
    amount_msat  INTEGER NOT NULL CHECK (amount_msat >= 0),
    fee_msat     INTEGER NOT NULL CHECK (fee_msat >= 0),
    payment_hash TEXT NOT NULL UNIQUE,
    token_id     TEXT
) STRICT;

CREATE TABLE spend (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    origin       TEXT NOT NULL,
    domain       TEXT NOT NULL,
    amount_msat  INTEGER NOT NULL CHECK (amount_msat >= 0),
    status       TEXT NOT NULL CHECK (status IN ('reserved', 'spent', 'released')),
    payment_hash TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX spend_by_time ON spend (at);
CREATE INDEX spend_by_domain ON spend (domain);

CREATE TABLE revocations (
    token_id   TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    reason     TEXT NOT NULL
) STRICT;

CREATE TABLE invoices (
    payment_hash TEXT PRIMARY KEY,
    service      TEXT NOT NULL,
    amount_msat  INTEGER NOT NULL CHECK (amount_msat >= 0),
    bolt11       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    settled_at   INTEGER,
    token_id     TEXT NOT NULL
) STRICT;
CREATE INDEX invoices_by_time ON invoices (created_at);

CREATE TABLE master_keys (
    epoch      INTEGER PRIMARY KEY CHECK (epoch >= 0 AND epoch <= 4294967295),
    key        BLOB NOT NULL CHECK (length(key) = 32),
    created_at INTEGER NOT NULL,
    current    INTEGER NOT NULL DEFAULT 0 CHECK (current IN (0, 1))
) STRICT;
CREATE UNIQUE INDEX master_keys_one_current ON master_keys (current) WHERE current = 1;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
";

/// Version 2: retired master keys stay listed (`retired_at`, Unix seconds) with their key
/// overwritten by zeros, so `l402 keys list` shows them and an epoch is never reused.
const V2: &str = "
ALTER TABLE master_keys ADD COLUMN retired_at INTEGER;
";

/// Version 3: each issued invoice's expiry (`expires_at`, Unix seconds; unknown for rows
/// recorded before), so unpaid challenges can be pruned once their invoice has expired.
const V3: &str = "
ALTER TABLE invoices ADD COLUMN expires_at INTEGER;
CREATE INDEX invoices_unpaid_by_expiry ON invoices (expires_at) WHERE settled_at IS NULL;
";

/// Version 4: what the server last said about each held token in its `L402-Token` response
/// header (token introspection): when the client read it (`status_at`, its own clock), the
/// expiry and the seconds left by the server's clock then, and a balance for metered tokens.
/// All empty until the token has been used against a server that sends the header.
const V4: &str = "
ALTER TABLE tokens ADD COLUMN status_at INTEGER;
ALTER TABLE tokens ADD COLUMN status_expires_at INTEGER;
ALTER TABLE tokens ADD COLUMN status_ttl_secs INTEGER;
ALTER TABLE tokens ADD COLUMN status_balance_msat INTEGER;
";

/// PostgreSQL version 1: the seller's tables of SQLite's version 1 (`BIGINT` for integers,
/// `BYTEA` for blobs).
const PG_V1: &str = "
CREATE TABLE revocations (
    token_id   TEXT PRIMARY KEY,
    revoked_at BIGINT NOT NULL,
    reason     TEXT NOT NULL
);

CREATE TABLE invoices (
    payment_hash TEXT PRIMARY KEY,
    service      TEXT NOT NULL,
    amount_msat  BIGINT NOT NULL CHECK (amount_msat >= 0),
    bolt11       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    settled_at   BIGINT,
    token_id     TEXT NOT NULL
);
CREATE INDEX invoices_by_time ON invoices (created_at);

CREATE TABLE master_keys (
    epoch      BIGINT PRIMARY KEY CHECK (epoch >= 0 AND epoch <= 4294967295),
    key        BYTEA NOT NULL CHECK (octet_length(key) = 32),
    created_at BIGINT NOT NULL,
    current    BIGINT NOT NULL DEFAULT 0 CHECK (current IN (0, 1))
);
CREATE UNIQUE INDEX master_keys_one_current ON master_keys (current) WHERE current = 1;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// PostgreSQL version 2: as SQLite's.
const PG_V2: &str = "
ALTER TABLE master_keys ADD COLUMN retired_at BIGINT;
";

/// PostgreSQL version 3: as SQLite's.
const PG_V3: &str = "
ALTER TABLE invoices ADD COLUMN expires_at BIGINT;
CREATE INDEX invoices_unpaid_by_expiry ON invoices (expires_at) WHERE settled_at IS NULL;
";

/// Version 5: the seller's consumed `Payment` (MPP) charge credentials, one row per paid
/// invoice (lower-case hex payment hash), kept until the challenge expires (`keep_until`, Unix
/// seconds) so a charge is accepted once.
const V5: &str = "
CREATE TABLE mpp_charges (
    payment_hash TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL,
    service      TEXT NOT NULL,
    amount_msat  INTEGER NOT NULL,
    used_at      INTEGER NOT NULL,
    keep_until   INTEGER NOT NULL
) STRICT;
CREATE INDEX mpp_charges_by_expiry ON mpp_charges (keep_until);
";

/// PostgreSQL version 5: as SQLite's, so instances sharing one database accept a charge once
/// between them.
const PG_V5: &str = "
CREATE TABLE mpp_charges (
    payment_hash TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL,
    service      TEXT NOT NULL,
    amount_msat  BIGINT NOT NULL,
    used_at      BIGINT NOT NULL,
    keep_until   BIGINT NOT NULL
);
CREATE INDEX mpp_charges_by_expiry ON mpp_charges (keep_until);
";

/// Version 6: prepaid, metered sessions (the `Payment` scheme's Lightning session, and L402
/// tokens sold as a balance). `mpp_sessions` holds each session's balance as three running
/// totals (`deposit_msat` credited, `spent_msat` used or reserved, `refunded_msat` paid back),
/// so a debit is one conditional `UPDATE` that cannot overspend (the `CHECK` holds even against
/// a wrong query). Every change writes one `mpp_session_ledger` row through a trigger (the
/// statement names its operation and signed amount in `last_op` / `last_amount_msat`), in the
/// same statement: no change without its ledger line. `mpp_session_credits` credits each paid
/// deposit or top-up once, whatever the retries.
const V6: &str = "
CREATE TABLE mpp_sessions (
    session_id       TEXT PRIMARY KEY,
    service          TEXT NOT NULL,
    deposit_msat     INTEGER NOT NULL CHECK (deposit_msat >= 0),
    spent_msat       INTEGER NOT NULL CHECK (spent_msat >= 0),
    refunded_msat    INTEGER NOT NULL DEFAULT 0 CHECK (refunded_msat >= 0),
    return_invoice   TEXT,
    status           TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    refund_msat      INTEGER,
    refund_status    TEXT,
    idle_timeout     INTEGER NOT NULL CHECK (idle_timeout >= 0),
    opened_at        INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_op          TEXT NOT NULL,
    last_amount_msat INTEGER NOT NULL,
    CHECK (spent_msat + refunded_msat <= deposit_msat)
) STRICT;
CREATE INDEX mpp_sessions_by_idle ON mpp_sessions (status, (updated_at + idle_timeout));
CREATE TABLE mpp_session_credits (
    payment_hash TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    amount_msat  INTEGER NOT NULL,
    credited_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE mpp_session_ledger (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   TEXT NOT NULL,
    op           TEXT NOT NULL,
    amount_msat  INTEGER NOT NULL,
    balance_msat INTEGER NOT NULL,
    at           INTEGER NOT NULL
) STRICT;
CREATE INDEX mpp_session_ledger_by_session ON mpp_session_ledger (session_id, id);
CREATE TRIGGER mpp_session_opened AFTER INSERT ON mpp_sessions BEGIN
    INSERT INTO mpp_session_ledger (session_id, op, amount_msat, balance_msat, at)
    VALUES (NEW.session_id, NEW.last_op, NEW.last_amount_msat,
            NEW.deposit_msat - NEW.spent_msat - NEW.refunded_msat, NEW.updated_at);
END;
CREATE TRIGGER mpp_session_changed AFTER UPDATE ON mpp_sessions BEGIN
    INSERT INTO mpp_session_ledger (session_id, op, amount_msat, balance_msat, at)
    VALUES (NEW.session_id, NEW.last_op, NEW.last_amount_msat,
            NEW.deposit_msat - NEW.spent_msat - NEW.refunded_msat, NEW.updated_at);
END;
";

/// PostgreSQL version 6: as SQLite's (the ledger trigger as a PL/pgSQL function), so
/// instances sharing one database share every balance.
const PG_V6: &str = "
CREATE TABLE mpp_sessions (
    session_id       TEXT PRIMARY KEY,
    service          TEXT NOT NULL,
    deposit_msat     BIGINT NOT NULL CHECK (deposit_msat >= 0),
    spent_msat       BIGINT NOT NULL CHECK (spent_msat >= 0),
    refunded_msat    BIGINT NOT NULL DEFAULT 0 CHECK (refunded_msat >= 0),
    return_invoice   TEXT,
    status           TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    refund_msat      BIGINT,
    refund_status    TEXT,
    idle_timeout     BIGINT NOT NULL CHECK (idle_timeout >= 0),
    opened_at        BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_op          TEXT NOT NULL,
    last_amount_msat BIGINT NOT NULL,
    CHECK (spent_msat + refunded_msat <= deposit_msat)
);
CREATE INDEX mpp_sessions_by_idle ON mpp_sessions (status, (updated_at + idle_timeout));
CREATE TABLE mpp_session_credits (
    payment_hash TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    amount_msat  BIGINT NOT NULL,
    credited_at  BIGINT NOT NULL
);
CREATE TABLE mpp_session_ledger (
    id           BIGSERIAL PRIMARY KEY,
    session_id   TEXT NOT NULL,
    op           TEXT NOT NULL,
    amount_msat  BIGINT NOT NULL,
    balance_msat BIGINT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX mpp_session_ledger_by_session ON mpp_session_ledger (session_id, id);
CREATE FUNCTION mpp_session_ledger_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mpp_session_ledger (session_id, op, amount_msat, balance_msat, at)
    VALUES (NEW.session_id, NEW.last_op, NEW.last_amount_msat,
            NEW.deposit_msat - NEW.spent_msat - NEW.refunded_msat, NEW.updated_at);
    RETURN NULL;
END;
$$;
CREATE TRIGGER mpp_session_ledger_line AFTER INSERT OR UPDATE ON mpp_sessions
    FOR EACH ROW EXECUTE FUNCTION mpp_session_ledger_line();
";

/// Version 7 (buyer only): the `Payment` sessions the client holds, one open session per
/// scope (the newest wins; the client keys them by exact path), kept after closing with what
/// was deposited and refunded.
/// `preimage` (the opening deposit's, the session's bearer secret) is a blob; `challenge` is the
/// opening challenge as a `WWW-Authenticate` value (echoed in `bearer` and `close`); `url` and
/// `method` are the opening request's (a top-up or close goes to a priced request of the
/// service). `refund_msat`/`refund_status` are what the seller said on close;
/// `refund_received_msat` is what the client's own wallet saw arrive on the return invoice
/// (only that is credited back to budgets, at the session's `opened_at`).
const V7: &str = "
CREATE TABLE held_sessions (
    session_id           TEXT PRIMARY KEY,
    scope                TEXT NOT NULL,
    origin               TEXT NOT NULL,
    domain               TEXT NOT NULL,
    url                  TEXT NOT NULL,
    method               TEXT NOT NULL,
    challenge            TEXT NOT NULL,
    preimage             BLOB NOT NULL,
    return_invoice       TEXT NOT NULL,
    return_hash          TEXT NOT NULL,
    deposits             INTEGER NOT NULL CHECK (deposits >= 1),
    deposit_msat         INTEGER NOT NULL CHECK (deposit_msat >= 0),
    balance_msat         INTEGER CHECK (balance_msat >= 0),
    opened_at            INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    refund_msat          INTEGER CHECK (refund_msat >= 0),
    refund_status        TEXT,
    refund_received_msat INTEGER CHECK (refund_received_msat >= 0)
) STRICT;
CREATE INDEX held_sessions_open ON held_sessions (scope, opened_at) WHERE closed_at IS NULL;
CREATE INDEX held_sessions_by_time ON held_sessions (opened_at);
";

/// Why migrating failed: SQLite, or a file from a newer build.
#[derive(Debug)]
pub(crate) enum MigrateError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// The file's schema is newer than [`SCHEMA_VERSION`].
    TooNew(u32),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// Brings the schema up to [`SCHEMA_VERSION`]. Returns the version found before migrating.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, MigrateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             id      INTEGER PRIMARY KEY CHECK (id = 1),
             version INTEGER NOT NULL
         ) STRICT;",
    )?;
    let found: u32 = tx
        .query_row("SELECT version FROM schema_version WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(found));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(m.sqlite)?;
        tx.execute(
            "INSERT INTO schema_version (id, version) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            [i64::try_from(i + 1).unwrap_or(i64::MAX)],
        )?;
    }
    tx.commit()?;
    Ok(found)
}

/// Why migrating PostgreSQL failed: the engine, or a database from a newer build.
#[cfg(feature = "postgres")]
#[derive(Debug)]
pub(crate) enum PgMigrateError {
    /// PostgreSQL failed.
    Engine(crate::engine::EngineError),
    /// The database's schema is newer than [`SCHEMA_VERSION`].
    TooNew(u32),
}

/// Brings a PostgreSQL database up to [`SCHEMA_VERSION`], in one transaction holding the
/// store's advisory write lock. Returns the version found before migrating.
#[cfg(feature = "postgres")]
pub(crate) fn migrate_pg(pg: &mut crate::engine::pg::Pg) -> Result<u32, PgMigrateError> {
    use crate::engine::{Param, Sql};
    let run = |pg: &mut crate::engine::pg::Pg| -> Result<u32, PgMigrateError> {
        let e = PgMigrateError::Engine;
        pg.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({});
             CREATE TABLE IF NOT EXISTS schema_version (
                 id      INTEGER PRIMARY KEY CHECK (id = 1),
                 version BIGINT NOT NULL
             );",
            crate::store::WRITE_LOCK
        ))
        .map_err(e)?;
        let found = pg
            .query_opt("SELECT version FROM schema_version WHERE id = 1", &[])
            .map_err(e)?
            .map(|r| r.uint(0))
            .transpose()
            .map_err(|d| e(d.into()))?
            .unwrap_or(0);
        let found = u32::try_from(found).unwrap_or(u32::MAX);
        if found > SCHEMA_VERSION {
            return Err(PgMigrateError::TooNew(found));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            if !m.postgres.is_empty() {
                pg.batch(m.postgres).map_err(e)?;
            }
            pg.execute(
                "INSERT INTO schema_version (id, version) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                &[Param::int(i64::try_from(i + 1).unwrap_or(i64::MAX))],
            )
            .map_err(e)?;
        }
        pg.batch("COMMIT").map_err(e)?;
        Ok(found)
    };
    let outcome = run(pg);
    if outcome.is_err() && pg.batch("ROLLBACK").is_err() {
        pg.drop_connection();
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer_files() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_VERSION);
        conn.execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(MigrateError::TooNew(99))));
    }
}
