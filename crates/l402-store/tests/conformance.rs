//! The store's conformance suite: every public method, concurrent budget reservations across
//! connections, and a second process reading what the first wrote.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use l402_core::challenge::Scheme;
use l402_core::{Msat, PaymentHash, Preimage, TokenId};
use l402_store::{
    NewPayment, PaymentStatus, PaymentSuccess, ReportedStatus, Retired, SCHEMA_VERSION, SpendQuery,
    SpendTotals, Store, StoreError, TokenRecord,
};
use l402_testkit::process::rerun_test_binary;
use l402_testkit::require_env;

mod seller_suite;

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/l402.db");
    (dir, path)
}

fn token(scope: &str, n: u8) -> TokenRecord {
    TokenRecord {
        scope: scope.into(),
        origin: "http://127.0.0.1:8080".into(),
        scheme: Scheme::L402,
        macaroon: vec![n; 40],
        preimage: Preimage([n; 32]),
        payment_hash: Preimage([n; 32]).payment_hash(),
        amount: Msat::from_sat(10),
        fee: Msat(1500),
        created_at: 1_000,
        expires_at: Some(5_000),
        label: None,
        status: None,
    }
}

fn payment(n: u8, amount_sat: u64, at: u64) -> NewPayment {
    NewPayment {
        payment_hash: Preimage([n; 32]).payment_hash(),
        url: format!("http://api.test/weather/{n}"),
        origin: "http://api.test".into(),
        scope: "http://api.test/weather".into(),
        domain: "api.test".into(),
        scheme: Scheme::Lsat,
        bolt11: format!("lnbcrt-invoice-{n}"),
        macaroon: vec![n; 50],
        amount: Msat::from_sat(amount_sat),
        max_fee: Msat::from_sat(1),
        invoice_expires_at: at + 3600,
        created_at: at,
    }
}

fn query(now: u64) -> SpendQuery {
    SpendQuery {
        hour_since: now.saturating_sub(3600),
        day_since: now.saturating_sub(86_400),
        domain: Some("api.test".into()),
    }
}

/// A budget check admitting spending while the day's total stays within `limit`.
fn within(limit: Msat, cost: Msat) -> impl FnOnce(&SpendTotals) -> Result<(), Msat> {
    move |t: &SpendTotals| {
        if t.day.0 + cost.0 <= limit.0 {
            Ok(())
        } else {
            Err(t.day)
        }
    }
}

#[test]
fn open_creates_private_file_in_wal_mode_and_migrates_once() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700, "{dir_mode:o}");
    }
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: u32 = raw
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    drop(store);
    Store::open(&path).unwrap();
}

#[cfg(unix)]
#[test]
fn open_tightens_loose_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = temp();
    drop(Store::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn open_refuses_garbage_and_newer_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42; 8192]).unwrap();
    let err = Store::open(&garbage).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.db"), "{err}");

    let newer = dir.path().join("newer.db");
    drop(Store::open(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    let err = Store::open(&newer).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade l402"), "{err}");
}

#[test]
fn open_reports_unwritable_locations_as_io() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(file.join("sub/l402.db")).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
}

#[test]
fn tokens_put_get_list_remove() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let tokens = store.tokens();
    assert_eq!(tokens.get("http://a/x").unwrap(), None);
    let a = token("http://a/x", 1);
    let b = token("http://a/y", 2);
    tokens.put(&a).unwrap();
    tokens.put(&b).unwrap();
    assert_eq!(tokens.get("http://a/x").unwrap(), Some(a.clone()));
    assert_eq!(tokens.list().unwrap(), vec![a.clone(), b.clone()]);

    // Replacing a scope's token.
    let mut a2 = token("http://a/x", 3);
    a2.label = Some("imported".into());
    a2.expires_at = None;
    tokens.put(&a2).unwrap();
    assert_eq!(tokens.get("http://a/x").unwrap(), Some(a2.clone()));

    // remove_if only removes the token paid by that hash.
    assert!(!tokens.remove_if("http://a/x", &a.payment_hash).unwrap());
    assert!(tokens.remove_if("http://a/x", &a2.payment_hash).unwrap());
    assert!(tokens.remove("http://a/y").unwrap());
    assert!(!tokens.remove("http://a/y").unwrap());
    tokens.put(&a).unwrap();
    assert_eq!(tokens.clear().unwrap(), 1);
    assert!(tokens.list().unwrap().is_empty());
}

#[test]
fn a_reported_status_is_kept_with_its_token_only() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let tokens = store.tokens();
    let a = token("http://a/x", 1);
    tokens.put(&a).unwrap();
    let status = ReportedStatus {
        at: 2_000,
        expires_at: Some(5_000),
        ttl_secs: Some(2_990),
        balance_msat: None,
    };
    assert!(
        tokens
            .record_status("http://a/x", &a.payment_hash, &status)
            .unwrap()
    );
    let held = tokens.get("http://a/x").unwrap().unwrap();
    assert_eq!(held.status, Some(status));
    // Counted from the server's ttl: 100 s after reading it, 2,890 s are left.
    assert_eq!(held.status.unwrap().remaining_secs(2_100), Some(2_890));
    assert_eq!(held.status.unwrap().remaining_secs(9_000), Some(0));
    // A report about a token no longer held for the scope changes nothing.
    let b = token("http://a/x", 2);
    tokens.put(&b).unwrap();
    assert!(
        !tokens
            .record_status("http://a/x", &a.payment_hash, &status)
            .unwrap()
    );
    assert_eq!(tokens.get("http://a/x").unwrap().unwrap().status, None);
    // A token that never expires, with a balance, round-trips too.
    let metered = ReportedStatus {
        at: 3_000,
        expires_at: None,
        ttl_secs: None,
        balance_msat: Some(42_000),
    };
    assert!(
        tokens
            .record_status("http://a/x", &b.payment_hash, &metered)
            .unwrap()
    );
    let held = tokens.list().unwrap().remove(0);
    assert_eq!(held.status, Some(metered));
    assert_eq!(metered.remaining_secs(10_000), None);
}

#[test]
fn secrets_stay_out_of_debug() {
    let t = token("http://a/x", 0xab);
    let shown = format!("{t:?}");
    assert!(!shown.contains("171"), "{shown}");
    assert!(!shown.to_lowercase().contains("abab"), "{shown}");
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let p = payment(0xab, 10, 1_000);
    store
        .journal()
        .reserve(&p, &query(1_000), within(Msat::from_sat(100), Msat(0)))
        .unwrap()
        .unwrap();
    let rec = store.journal().get(&p.payment_hash).unwrap().unwrap();
    let shown = format!("{rec:?} {store:?}");
    assert!(!shown.contains("171, 171"), "{shown}");
}

#[test]
fn journal_lifecycle_success() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let j = store.journal();
    let p = payment(1, 10, 10_000);
    j.reserve(
        &p,
        &query(10_000),
        within(Msat::from_sat(100), Msat::from_sat(11)),
    )
    .unwrap()
    .unwrap();
    let rec = j.get(&p.payment_hash).unwrap().unwrap();
    assert_eq!(rec.status, PaymentStatus::Pending);
    assert_eq!(rec.payment, p);
    assert_eq!(rec.preimage, None);
    assert_eq!(j.pending().unwrap().len(), 1);
    assert_eq!(j.pending_for_scope(&p.scope).unwrap().len(), 1);
    assert!(j.pending_for_scope("http://other/x").unwrap().is_empty());
    // The reservation counts amount plus the maximum fee.
    let totals = store.spend().totals(&query(10_000)).unwrap();
    assert_eq!(totals.day, Msat::from_sat(11));
    assert_eq!(totals.hour, Msat::from_sat(11));
    assert_eq!(totals.total, Msat::from_sat(11));
    assert_eq!(totals.domain, Msat::from_sat(11));

    // Reserving the same hash again is refused while pending.
    let err = j
        .reserve(&p, &query(10_000), within(Msat::from_sat(100), Msat(0)))
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicatePayment(h) if h == p.payment_hash));

    let tok = token(&p.scope, 1);
    let id = TokenId([7; 32]);
    let success = PaymentSuccess {
        payment_hash: p.payment_hash,
        preimage: Preimage([1; 32]),
        fee: Msat(250),
        at: 10_005,
        token: Some(&tok),
        token_id: Some(id),
    };
    assert!(j.succeed(&success).unwrap());
    assert!(!j.succeed(&success).unwrap(), "idempotent");
    let rec = j.get(&p.payment_hash).unwrap().unwrap();
    assert_eq!(rec.status, PaymentStatus::Succeeded);
    assert_eq!(rec.preimage, Some(Preimage([1; 32])));
    assert_eq!(rec.fee, Some(Msat(250)));
    assert_eq!(rec.updated_at, 10_005);
    assert!(j.pending().unwrap().is_empty());
    assert_eq!(store.tokens().get(&p.scope).unwrap().as_ref(), Some(&tok));

    // Settled to amount plus the actual fee.
    let totals = store.spend().totals(&query(10_005)).unwrap();
    assert_eq!(totals.total, Msat(10_250));

    let receipts = store.receipts().list(10).unwrap();
    assert_eq!(receipts.len(), 1);
    let r = &receipts[0];
    assert_eq!(r.amount, Msat::from_sat(10));
    assert_eq!(r.fee, Msat(250));
    assert_eq!(r.total(), Msat(10_250));
    assert_eq!(r.token_id, Some(id));
    assert_eq!(r.url, p.url);
    assert_eq!(r.scope, p.scope);
    assert_eq!(r.paid_at, 10_005);
    assert_eq!(
        store.receipts().get(&p.payment_hash).unwrap().as_ref(),
        Some(r)
    );
    assert_eq!(store.receipts().count().unwrap(), 1);
    assert_eq!(j.list(10).unwrap().len(), 1);

    // A succeeded hash cannot be reserved again.
    assert!(matches!(
        j.reserve(&p, &query(10_010), within(Msat::from_sat(100), Msat(0))),
        Err(StoreError::DuplicatePayment(_))
    ));
    // Unknown hashes.
    let unknown = PaymentSuccess {
        payment_hash: PaymentHash([9; 32]),
        ..success
    };
    assert!(matches!(
        j.succeed(&unknown),
        Err(StoreError::UnknownPayment(_))
    ));
}

#[test]
fn journal_lifecycle_failure_releases_and_allows_retry() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let j = store.journal();
    let p = payment(2, 50, 20_000);
    j.reserve(
        &p,
        &query(20_000),
        within(Msat::from_sat(60), Msat::from_sat(51)),
    )
    .unwrap()
    .unwrap();
    assert!(j.fail(&p.payment_hash, 20_001).unwrap());
    assert!(
        !j.fail(&p.payment_hash, 20_002).unwrap(),
        "only pending rows fail"
    );
    assert_eq!(
        j.get(&p.payment_hash).unwrap().unwrap().status,
        PaymentStatus::Failed
    );
    assert_eq!(store.spend().totals(&query(20_001)).unwrap().total, Msat(0));
    // The same hash may be tried again after a failure.
    j.reserve(
        &p,
        &query(20_003),
        within(Msat::from_sat(60), Msat::from_sat(51)),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        store.spend().totals(&query(20_003)).unwrap().total,
        Msat::from_sat(51)
    );
    // A failed row found to have succeeded after all is corrected.
    assert!(j.fail(&p.payment_hash, 20_004).unwrap());
    let ok = PaymentSuccess {
        payment_hash: p.payment_hash,
        preimage: Preimage([2; 32]),
        fee: Msat(0),
        at: 20_005,
        token: None,
        token_id: None,
    };
    assert!(j.succeed(&ok).unwrap());
    assert_eq!(
        store.spend().totals(&query(20_005)).unwrap().total,
        Msat::from_sat(50)
    );
    assert_eq!(store.receipts().list(5).unwrap()[0].token_id, None);
    assert!(store.tokens().list().unwrap().is_empty());
}

#[test]
fn refused_check_writes_nothing_and_windows_slide() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let j = store.journal();
    let day = Msat::from_sat(25);
    j.reserve(
        &payment(1, 10, 100_000),
        &query(100_000),
        within(day, Msat::from_sat(11)),
    )
    .unwrap()
    .unwrap();
    j.reserve(
        &payment(2, 10, 100_100),
        &query(100_100),
        within(day, Msat::from_sat(11)),
    )
    .unwrap()
    .unwrap();
    let refused = j
        .reserve(
            &payment(3, 10, 100_200),
            &query(100_200),
            within(day, Msat::from_sat(11)),
        )
        .unwrap();
    assert_eq!(refused, Err(Msat::from_sat(22)));
    assert!(j.get(&payment(3, 10, 0).payment_hash).unwrap().is_none());

    // An hour later the hourly window is empty, the daily one is not.
    let later = store.spend().totals(&query(100_100 + 3_601)).unwrap();
    assert_eq!(later.hour, Msat(0));
    assert_eq!(later.day, Msat::from_sat(22));
    // A day later both are.
    let much_later = store.spend().totals(&query(100_200 + 86_400)).unwrap();
    assert_eq!(much_later.day, Msat(0));
    assert_eq!(much_later.total, Msat::from_sat(22));
    // Other domains do not count against this one.
    let other = store
        .spend()
        .totals(&SpendQuery {
            domain: Some("other.test".into()),
            ..query(100_200)
        })
        .unwrap();
    assert_eq!(other.domain, Msat(0));
    assert_eq!(other.total, Msat::from_sat(22));
}

/// Threads with their own connections race to reserve; the budget has room for `room`.
fn race(threads: u8, room: u64) -> usize {
    let (_dir, path) = temp();
    drop(Store::open(&path).unwrap());
    let barrier = Arc::new(Barrier::new(usize::from(threads)));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let path = path.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let store = Store::open(&path).unwrap();
                barrier.wait();
                store
                    .journal()
                    .reserve(
                        &payment(i + 1, 10, 50_000),
                        &query(50_000),
                        within(Msat::from_sat(11 * room), Msat::from_sat(11)),
                    )
                    .unwrap()
                    .is_ok()
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|won| *won)
        .count();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.journal().pending().unwrap().len(), wins);
    assert_eq!(
        store.spend().totals(&query(50_000)).unwrap().day,
        Msat::from_sat(11 * wins as u64)
    );
    wins
}

#[test]
fn two_connections_racing_for_room_for_one_exactly_one_wins() {
    for _ in 0..5 {
        assert_eq!(race(2, 1), 1);
    }
}

#[test]
fn many_connections_racing_for_room_for_three_exactly_three_win() {
    assert_eq!(race(8, 3), 3);
}

#[test]
fn a_second_connection_sees_the_first_ones_writes() {
    let (_dir, path) = temp();
    let a = Store::open(&path).unwrap();
    let b = Store::open(&path).unwrap();
    a.tokens().put(&token("http://a/x", 4)).unwrap();
    assert_eq!(
        b.tokens().get("http://a/x").unwrap(),
        Some(token("http://a/x", 4))
    );
    b.settings().set("k", "v").unwrap();
    assert_eq!(a.settings().get("k").unwrap().as_deref(), Some("v"));
}

const CHILD_ENV: &str = "L402_STORE_TEST_CHILD_DB";

/// Runs only as the child process of `another_process_sees_writes`: writes to the database the
/// parent names, then exits.
#[test]
#[ignore = "the child process of another_process_sees_writes, which runs it"]
fn child_process_writer() {
    let path = require_env(CHILD_ENV, "another_process_sees_writes");
    let store = Store::open(&path).unwrap();
    store.tokens().put(&token("http://child/x", 9)).unwrap();
    store
        .revocations()
        .revoke(&TokenId([9; 32]), "from the child", 77)
        .unwrap();
    let p = payment(9, 10, 1_000);
    store
        .journal()
        .reserve(&p, &query(1_000), within(Msat::from_sat(100), Msat(0)))
        .unwrap()
        .unwrap();
}

#[test]
fn another_process_sees_writes() {
    let (_dir, path) = temp();
    let parent = Store::open(&path).unwrap();
    let status = rerun_test_binary("child_process_writer")
        .stdout(std::process::Stdio::null())
        .env(CHILD_ENV, &path)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        parent.tokens().get("http://child/x").unwrap(),
        Some(token("http://child/x", 9))
    );
    assert_eq!(
        parent.revocations().load_all().unwrap()[0].reason,
        "from the child"
    );
    let pending = parent.journal().pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].payment.payment_hash,
        payment(9, 10, 0).payment_hash
    );
}

#[test]
fn seller_suite_on_sqlite() {
    seller_suite::run_all(&|_case| {
        let (dir, path) = temp();
        Box::new(move || {
            let _keep = &dir;
            Store::open(&path).unwrap()
        })
    });
}

#[test]
fn a_retired_master_key_is_wiped_in_the_file() {
    let (_dir, path) = temp();
    let keys = Store::open(&path).unwrap();
    let keys = keys.master_keys();
    keys.load_or_create(&mut seller_suite::CountingRng(0), 1)
        .unwrap();
    keys.rotate(&mut seller_suite::CountingRng(100), 2).unwrap();
    assert_eq!(keys.retire(1, 3).unwrap(), Retired::Now);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let stored: Vec<u8> = raw
        .query_row("SELECT key FROM master_keys WHERE epoch = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, [0u8; 32]);
}

#[test]
fn private_files_are_replaced_whole_and_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.txt");
    l402_store::write_private_file(&path, b"one").unwrap();
    l402_store::write_private_file(&path, b"two").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"two");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
    let missing = dir.path().join("no-such-dir").join("f");
    assert!(l402_store::write_private_file(&missing, b"x").is_err());
}

#[test]
fn a_locked_database_reports_locked() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let mut raw = rusqlite::Connection::open(&path).unwrap();
    let tx = raw
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let started = std::time::Instant::now();
    let err = store.settings().set("k", "v").unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "waited the busy timeout"
    );
    tx.rollback().unwrap();
    store.settings().set("k", "v").unwrap();
}

#[allow(dead_code)]
fn assert_send_sync(_: &Path) {
    fn is<T: Send + Sync>() {}
    is::<Store>();
}
