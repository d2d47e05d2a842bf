//! The seller's store conformance suite on a real PostgreSQL (`scripts/tiers/postgres.sh` starts
//! a throwaway cluster and sets `L402_TEST_POSTGRES_URL`): each case on a database of its own,
//! created here and dropped afterwards. Also: a database that is down answers
//! `StoreError::Unavailable` quickly, and URLs never show their password.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use l402_store::{Store, StoreError, StoreUrl};
use l402_testkit::require_env;

mod seller_suite;

fn server_url() -> String {
    require_env("L402_TEST_POSTGRES_URL", "scripts/tiers/postgres.sh")
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let authority = url.find("://").expect("a URL") + 3;
    let path = url[authority..]
        .find('/')
        .map_or(url.len(), |i| authority + i);
    let end = url[path..].find('?').map_or(url.len(), |i| path + i);
    format!("{}/{db}{}", &url[..path], &url[end..])
}

/// A fresh database, dropped (with its connections) when the value is dropped.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(case: &str) -> Self {
        let admin = server_url();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("l402_test_{}_{n}", std::process::id());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting for case {case}: {e}"));
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = with_database(&admin, &name);
        Self { admin, name, url }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[test]
#[ignore = "needs PostgreSQL: run by scripts/tiers/postgres.sh"]
fn seller_suite_on_postgres() {
    seller_suite::run_all(&|case| {
        let db = Database::create(case);
        Box::new(move || {
            let url = StoreUrl::parse(&db.url);
            Store::open_url(&url).unwrap_or_else(|e| panic!("{e}"))
        })
    });
}

#[test]
#[ignore = "needs PostgreSQL: run by scripts/tiers/postgres.sh"]
fn migrations_run_once_and_the_buyer_tables_are_sqlite_only() {
    let db = Database::create("migrations");
    let url = StoreUrl::parse(&db.url);
    let first = Store::open_url(&url).unwrap();
    assert!(first.is_postgres());
    drop(Store::open_url(&url).unwrap());
    let mut raw = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let version: i64 = raw
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, i64::from(l402_store::SCHEMA_VERSION));
    let err = first.tokens().list().unwrap_err();
    assert!(matches!(err, StoreError::SqliteOnly { .. }), "{err:?}");
    raw.execute("UPDATE schema_version SET version = 999", &[])
        .unwrap();
    let err = Store::open_url(&url).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "{err:?}"
    );
}

#[test]
#[ignore = "needs PostgreSQL: run by scripts/tiers/postgres.sh"]
fn a_server_that_is_gone_answers_unavailable_and_hides_the_password() {
    // A server that answers nothing: a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = StoreUrl::parse(&format!("postgres://l402:hunter2@127.0.0.1:{port}/l402"));
    let started = Instant::now();
    let err = Store::open_url(&url).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_transient() && err.is_unavailable());
    assert!(started.elapsed() < Duration::from_secs(5));
    for shown in [err.to_string(), format!("{err:?}"), format!("{url:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    // A store whose server goes away mid-life answers Unavailable, then recovers by itself.
    let db = Database::create("gone");
    let store = Store::open_url(&StoreUrl::parse(&db.url)).unwrap();
    store.settings().set("k", "v").unwrap();
    let mut raw = postgres::Client::connect(&db.admin, postgres::NoTls).unwrap();
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name
    );
    raw.batch_execute(&kill).unwrap();
    // The next call finds its connection broken, reconnects and answers.
    assert_eq!(store.settings().get("k").unwrap().as_deref(), Some("v"));
    raw.batch_execute(&kill).unwrap();
    store.settings().set("k", "w").unwrap();
    assert_eq!(store.settings().get("k").unwrap().as_deref(), Some("w"));
}
