//! The seller's store conformance suite: every method of the tables several seller instances
//! share (revocations, invoices, master keys, settings, consumed `Payment` charges, prepaid sessions), written once and run on each engine:
//! on SQLite by `tests/conformance.rs`, on PostgreSQL by `tests/postgres.rs`.

use std::sync::Barrier;

use l402_core::env::Rng;
use l402_core::keys::RootKeyError;
use l402_core::{Msat, PaymentHash, TokenId};
use l402_store::{
    Close, Credit, DailyRevenue, InvoiceFilter, InvoiceRecord, InvoiceUpdate, NewSession, Opened,
    RefundOutcome, Reserve, Retired, Store,
};

/// Opens another handle on the database of one case (empty when the case starts).
pub type Open = dyn Fn() -> Store + Sync;

/// Opens `n` handles (as `n` instances), then runs `each(i, handle)` on a thread per handle,
/// all released at once; the results in order. The handles are opened before the threads
/// start: one that failed to open inside a thread would leave the others waiting at the
/// barrier forever (a hang, not a failure).
fn race<T: Send>(open: &Open, n: usize, each: impl Fn(usize, Store) -> T + Sync) -> Vec<T> {
    let stores: Vec<Store> = (0..n).map(|_| open()).collect();
    let barrier = Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .into_iter()
            .enumerate()
            .map(|(i, store)| {
                let (barrier, each) = (&barrier, &each);
                scope.spawn(move || {
                    barrier.wait();
                    each(i, store)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// One case: it gets an opener of its (initially empty) database.
pub type Case = fn(&Open);

/// Every case, by name. Each runs on a fresh, empty database.
pub const CASES: &[(&str, Case)] = &[
    ("revocations", revocations),
    ("invoices", invoices),
    (
        "invoices_are_searched_by_filter_and_summed_per_day",
        invoices_are_searched_by_filter_and_summed_per_day,
    ),
    (
        "invoice_updates_apply_in_order_in_one_batch",
        invoice_updates_apply_in_order_in_one_batch,
    ),
    (
        "expired_unpaid_invoices_are_pruned_and_paid_ones_stay",
        expired_unpaid_invoices_are_pruned_and_paid_ones_stay,
    ),
    (
        "master_keys_create_once_rotate_and_retire",
        master_keys_create_once_rotate_and_retire,
    ),
    (
        "master_keys_load_does_not_create",
        master_keys_load_does_not_create,
    ),
    (
        "master_keys_concurrent_first_start_generates_one_key",
        master_keys_concurrent_first_start_generates_one_key,
    ),
    (
        "a_second_handle_sees_the_first_ones_writes",
        a_second_handle_sees_the_first_ones_writes,
    ),
    ("settings", settings),
    (
        "mpp_charges_are_consumed_once_across_handles_and_pruned",
        mpp_charges_are_consumed_once_across_handles_and_pruned,
    ),
    (
        "sessions_open_credit_reserve_settle_close_with_a_ledger",
        sessions_open_credit_reserve_settle_close_with_a_ledger,
    ),
    (
        "sessions_concurrent_reservations_never_overspend",
        sessions_concurrent_reservations_never_overspend,
    ),
];

/// Runs every case, each on the fresh database `fresh(name)` returns an opener for, and
/// reports which failed (all are run).
pub fn run_all(fresh: &dyn Fn(&str) -> Box<Open>) {
    let mut failed = Vec::new();
    for (name, case) in CASES {
        let open = fresh(name);
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&*open))).is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}

fn revocations(open: &Open) {
    let store = open();
    let r = store.revocations();
    let (a, b) = (TokenId([1; 32]), TokenId([2; 32]));
    assert!(r.load_all().unwrap().is_empty());
    assert!(r.revoke(&a, "abuse", 10).unwrap());
    assert!(!r.revoke(&a, "again", 11).unwrap());
    assert!(r.revoke(&b, "refund", 12).unwrap());
    let all = r.load_all().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].token_id, all[0].revoked_at, all[0].reason.as_str()),
        (a, 10, "abuse")
    );
    assert!(r.load_set().unwrap().contains(&b));
    assert!(r.unrevoke(&a).unwrap());
    assert!(!r.unrevoke(&a).unwrap());
    assert_eq!(r.load_set().unwrap().len(), 1);
}

fn invoices(open: &Open) {
    let store = open();
    let inv = store.invoices();
    let rec = InvoiceRecord {
        payment_hash: PaymentHash([3; 32]),
        service: "weather".into(),
        amount: Msat::from_sat(21),
        bolt11: "lnbcrt210n1...".into(),
        created_at: 500,
        settled_at: None,
        token_id: TokenId([4; 32]),
        expires_at: Some(1_100),
    };
    assert!(inv.record_challenge(&rec).unwrap());
    assert!(!inv.record_challenge(&rec).unwrap());
    assert_eq!(inv.get(&rec.payment_hash).unwrap(), Some(rec.clone()));
    assert!(inv.mark_settled(&rec.payment_hash, 510).unwrap());
    assert!(!inv.mark_settled(&rec.payment_hash, 520).unwrap());
    assert!(!inv.mark_settled(&PaymentHash([0; 32]), 520).unwrap());
    assert_eq!(
        inv.get(&rec.payment_hash).unwrap().unwrap().settled_at,
        Some(510)
    );
    let second = InvoiceRecord {
        payment_hash: PaymentHash([5; 32]),
        created_at: 600,
        ..rec.clone()
    };
    inv.record_challenge(&second).unwrap();
    let list = inv.list(10).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].payment_hash, second.payment_hash, "newest first");
    assert_eq!(inv.list(1).unwrap().len(), 1);
}

fn invoices_are_searched_by_filter_and_summed_per_day(open: &Open) {
    let store = open();
    let inv = store.invoices();
    const DAY: u64 = 86_400;
    // 2026-01-01T00:00:00Z and the next day.
    let day1 = 1_767_225_600;
    let record =
        |n: u8, service: &str, sat: u64, created: u64, settled: Option<u64>| InvoiceRecord {
            payment_hash: PaymentHash([n; 32]),
            service: service.into(),
            amount: Msat::from_sat(sat),
            bolt11: format!("lnbcrt{n}"),
            created_at: created,
            settled_at: settled,
            token_id: TokenId([n; 32]),
            expires_at: Some(created + 3600),
        };
    for r in [
        record(1, "weather", 2, day1 + 10, Some(day1 + 20)),
        record(2, "weather", 2, day1 + 30, None),
        record(3, "similarity", 5, day1 + 40, Some(day1 + 50)),
        record(4, "weather", 3, day1 + DAY + 5, Some(day1 + DAY + 6)),
        record(5, "weather", 2, day1 + DAY - 1, Some(day1 + DAY + 1)),
    ] {
        inv.record_challenge(&r).unwrap();
    }
    let hashes = |filter: InvoiceFilter, limit| -> Vec<u8> {
        inv.search(&filter, limit)
            .unwrap()
            .iter()
            .map(|r| r.payment_hash.0[0])
            .collect()
    };
    assert_eq!(hashes(InvoiceFilter::default(), 10), [4, 5, 3, 2, 1]);
    assert_eq!(hashes(InvoiceFilter::default(), 2), [4, 5]);
    let weather = InvoiceFilter {
        service: Some("weather".into()),
        ..Default::default()
    };
    assert_eq!(hashes(weather.clone(), 10), [4, 5, 2, 1]);
    let unpaid = InvoiceFilter {
        settled: Some(false),
        ..weather.clone()
    };
    assert_eq!(hashes(unpaid, 10), [2]);
    let paid = InvoiceFilter {
        settled: Some(true),
        ..Default::default()
    };
    assert_eq!(hashes(paid, 10), [4, 5, 3, 1]);
    let page = InvoiceFilter {
        before: Some(day1 + DAY - 1),
        since: Some(day1 + 30),
        ..Default::default()
    };
    assert_eq!(hashes(page, 10), [3, 2]);
    let by_token = InvoiceFilter {
        token_id: Some(TokenId([3; 32])),
        ..Default::default()
    };
    assert_eq!(hashes(by_token, 10), [3]);

    // Revenue counts by the day of settlement: invoice 5, made on day 1, settled on day 2.
    let days = inv.revenue_by_day(day1).unwrap();
    fn row(d: &DailyRevenue) -> (&str, &str, u64, u64) {
        (d.day.as_str(), d.service.as_str(), d.settled, d.revenue.0)
    }
    assert_eq!(
        days.iter().map(row).collect::<Vec<_>>(),
        [
            ("2026-01-01", "similarity", 1, 5_000),
            ("2026-01-01", "weather", 1, 2_000),
            ("2026-01-02", "weather", 2, 5_000),
        ]
    );
    assert_eq!(inv.revenue_by_day(day1 + DAY).unwrap().len(), 1);
}

fn invoice_updates_apply_in_order_in_one_batch(open: &Open) {
    let store = open();
    let inv = store.invoices();
    let rec = |n: u8| InvoiceRecord {
        payment_hash: PaymentHash([n; 32]),
        service: "weather".into(),
        amount: Msat::from_sat(1),
        bolt11: format!("lnbcrt10n1{n}"),
        created_at: 100 + u64::from(n),
        settled_at: None,
        token_id: TokenId([n; 32]),
        expires_at: Some(1_000),
    };
    let settled = |n: u8, at: u64| InvoiceUpdate::Settled {
        payment_hash: PaymentHash([n; 32]),
        at,
    };
    let mut updates: Vec<InvoiceUpdate> = (1..=200)
        .map(|n| InvoiceUpdate::Challenge(rec(n)))
        .collect();
    // A settlement queued right behind its challenge finds the row; one before it does not.
    updates.push(settled(7, 150));
    updates.push(settled(7, 160));
    updates.insert(0, settled(9, 140));
    updates.push(InvoiceUpdate::Challenge(rec(1)));
    assert_eq!(
        inv.apply(&updates).unwrap(),
        201,
        "200 rows and one settlement"
    );
    assert_eq!(inv.count().unwrap(), 200);
    assert_eq!(
        inv.get(&PaymentHash([7; 32])).unwrap().unwrap().settled_at,
        Some(150)
    );
    assert_eq!(
        inv.get(&PaymentHash([9; 32])).unwrap().unwrap().settled_at,
        None
    );
    assert_eq!(inv.apply(&[]).unwrap(), 0);
}

fn expired_unpaid_invoices_are_pruned_and_paid_ones_stay(open: &Open) {
    let store = open();
    let inv = store.invoices();
    let rec = |n: u8, expires_at: Option<u64>| InvoiceRecord {
        payment_hash: PaymentHash([n; 32]),
        service: "weather".into(),
        amount: Msat::from_sat(1),
        bolt11: "lnbcrt10n1...".into(),
        created_at: 100,
        settled_at: None,
        token_id: TokenId([n; 32]),
        expires_at,
    };
    let unpaid_expired = rec(1, Some(700));
    let paid_expired = rec(2, Some(700));
    let unpaid_live = rec(3, Some(2_000));
    let unknown_expiry = rec(4, None);
    for r in [
        &unpaid_expired,
        &paid_expired,
        &unpaid_live,
        &unknown_expiry,
    ] {
        inv.record_challenge(r).unwrap();
    }
    inv.mark_settled(&paid_expired.payment_hash, 650).unwrap();
    assert_eq!(inv.count().unwrap(), 4);
    assert_eq!(inv.prune_unpaid(699).unwrap(), 0, "nothing expired yet");
    assert_eq!(inv.prune_unpaid(700).unwrap(), 1);
    assert_eq!(inv.get(&unpaid_expired.payment_hash).unwrap(), None);
    assert!(
        inv.get(&paid_expired.payment_hash).unwrap().is_some(),
        "paid stays"
    );
    assert!(inv.get(&unpaid_live.payment_hash).unwrap().is_some());
    assert!(inv.get(&unknown_expiry.payment_hash).unwrap().is_some());
    assert_eq!(
        inv.prune_unpaid(u64::MAX).unwrap(),
        1,
        "the live one, once expired"
    );
    assert_eq!(
        inv.count().unwrap(),
        2,
        "the paid row and the row of unknown expiry"
    );
}

/// Bytes counting up from a seed: distinct, reproducible keys.
pub struct CountingRng(pub u8);

impl Rng for CountingRng {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.0;
            self.0 = self.0.wrapping_add(1);
        }
    }
}

fn master_keys_create_once_rotate_and_retire(open: &Open) {
    let store = open();
    let keys = store.master_keys();
    let ring = keys.load_or_create(&mut CountingRng(0), 100).unwrap();
    assert_eq!(ring.current_epoch(), l402_store::FIRST_EPOCH);
    let again = keys.load_or_create(&mut CountingRng(200), 101).unwrap();
    let id = ring.new_token_id(&mut CountingRng(9));
    assert_eq!(
        ring.derive(&id).unwrap().as_bytes(),
        again.derive(&id).unwrap().as_bytes(),
        "the second call loads, it does not generate"
    );
    let listed = keys.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
    assert_eq!(listed[0].created_at, 100);
    assert!(!format!("{listed:?}").contains("[0, 1, 2"), "key redacted");

    let next = keys.rotate(&mut CountingRng(50), 200).unwrap();
    assert_eq!(next, 2);
    let ring2 = keys.load_or_create(&mut CountingRng(0), 201).unwrap();
    assert_eq!(ring2.current_epoch(), 2);
    assert!(ring2.derive(&id).is_ok(), "old epochs keep verifying");
    assert_eq!(
        keys.retire(2, 202).unwrap(),
        Retired::Current,
        "the current epoch is never retired"
    );
    assert_eq!(keys.retire(7, 202).unwrap(), Retired::Unknown);
    assert_eq!(keys.retire(1, 202).unwrap(), Retired::Now);
    assert_eq!(keys.retire(1, 203).unwrap(), Retired::Already(202));
    let ring3 = keys.load_or_create(&mut CountingRng(0), 202).unwrap();
    assert_eq!(
        ring3.derive(&id).unwrap_err(),
        RootKeyError::RetiredEpoch(1)
    );
    let reloaded = keys.load().unwrap().expect("keys exist");
    assert_eq!(reloaded.current_epoch(), 2);
    assert_eq!(reloaded.retired_epochs().collect::<Vec<_>>(), [1]);

    // The retired epoch stays listed, without its key, and the stored key is wiped.
    let listed = keys.list().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].retired_at, Some(202));
    assert!(listed[0].key.is_none());
    assert!(listed[1].key.is_some() && listed[1].retired_at.is_none());

    // Epochs are never reused, even after the highest non-current one is retired.
    assert_eq!(keys.rotate(&mut CountingRng(70), 300).unwrap(), 3);
    assert_eq!(keys.retire(2, 301).unwrap(), Retired::Now);
    assert_eq!(keys.rotate(&mut CountingRng(90), 302).unwrap(), 4);
}

fn master_keys_load_does_not_create(open: &Open) {
    let store = open();
    assert!(store.master_keys().load().unwrap().is_none());
    assert!(store.master_keys().list().unwrap().is_empty());
}

fn master_keys_concurrent_first_start_generates_one_key(open: &Open) {
    drop(open());
    let derived: Vec<Vec<u8>> = race(open, 4, |i, store| {
        let ring = store
            .master_keys()
            .load_or_create(&mut CountingRng(i as u8 * 40), 1)
            .unwrap();
        let id = ring.new_token_id(&mut CountingRng(0));
        ring.derive(&id).unwrap().as_bytes().to_vec()
    });
    assert!(derived.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(open().master_keys().list().unwrap().len(), 1);
}

/// What one instance writes, another instance on the same database reads at once.
fn a_second_handle_sees_the_first_ones_writes(open: &Open) {
    let (one, two) = (open(), open());
    one.revocations()
        .revoke(&TokenId([7; 32]), "abuse", 1)
        .unwrap();
    assert!(
        two.revocations()
            .load_set()
            .unwrap()
            .contains(&TokenId([7; 32]))
    );
    let ring = one
        .master_keys()
        .load_or_create(&mut CountingRng(3), 1)
        .unwrap();
    two.master_keys().rotate(&mut CountingRng(5), 2).unwrap();
    assert_eq!(
        one.master_keys().load().unwrap().unwrap().current_epoch(),
        2
    );
    assert_eq!(ring.current_epoch(), 1);
    two.settings().set("admin", "root").unwrap();
    assert_eq!(
        one.settings().get("admin").unwrap().as_deref(),
        Some("root")
    );
    one.health_check().unwrap();
}

fn settings(open: &Open) {
    let store = open();
    let s = store.settings();
    assert_eq!(s.get("x").unwrap(), None);
    s.set("x", "1").unwrap();
    s.set("x", "2").unwrap();
    assert_eq!(s.get("x").unwrap().as_deref(), Some("2"));
    assert!(s.remove("x").unwrap());
    assert!(!s.remove("x").unwrap());
    assert_eq!(s.get_or_insert("y", "first").unwrap(), "first");
    assert_eq!(s.get_or_insert("y", "second").unwrap(), "first");
    assert_eq!(s.get("y").unwrap().as_deref(), Some("first"));
}

fn mpp_charges_are_consumed_once_across_handles_and_pruned(open: &Open) {
    let charge = |h: u8, keep_until: u64| l402_store::ConsumedCharge {
        payment_hash: PaymentHash([h; 32]),
        challenge_id: "id",
        service: "weather",
        amount: Msat(2_000),
        used_at: 10,
        keep_until,
    };
    // Eight handles (as eight instances) race for one charge: exactly one wins.
    let wins: usize = race(open, 8, |_, store| {
        usize::from(store.mpp_charges().consume(&charge(1, 100)).unwrap())
    })
    .into_iter()
    .sum();
    assert_eq!(wins, 1);
    let store = open();
    let table = store.mpp_charges();
    assert!(table.is_consumed(&PaymentHash([1; 32])).unwrap());
    assert!(!table.is_consumed(&PaymentHash([2; 32])).unwrap());
    assert!(table.consume(&charge(2, 200)).unwrap());
    assert_eq!(table.count().unwrap(), 2);
    assert_eq!(table.prune(100).unwrap(), 1);
    assert!(!table.is_consumed(&PaymentHash([1; 32])).unwrap());
    assert!(table.is_consumed(&PaymentHash([2; 32])).unwrap());
}

fn new_session(id: u8, deposit: u64) -> NewSession<'static> {
    NewSession {
        session_id: PaymentHash([id; 32]),
        service: "llm",
        deposit: Msat(deposit),
        return_invoice: Some("lnbcrt1preturn"),
        idle_timeout_secs: 300,
        now: 1_000,
    }
}

fn sessions_open_credit_reserve_settle_close_with_a_ledger(open: &Open) {
    let store = open();
    let table = store.sessions();
    let sid = PaymentHash([1; 32]);
    assert_eq!(table.open(&new_session(1, 10_000)).unwrap(), Opened::Opened);
    assert_eq!(
        table.open(&new_session(1, 10_000)).unwrap(),
        Opened::AlreadyOpen,
        "a repeated open credits nothing"
    );
    // A top-up is credited once, whichever handle retries it.
    let top = PaymentHash([2; 32]);
    assert_eq!(
        table.credit(&sid, &top, Msat(5_000), 1_001).unwrap(),
        Credit::Credited(Msat(15_000))
    );
    assert_eq!(
        open()
            .sessions()
            .credit(&sid, &top, Msat(5_000), 1_002)
            .unwrap(),
        Credit::AlreadyCredited
    );
    assert_eq!(
        table
            .credit(&PaymentHash([9; 32]), &PaymentHash([8; 32]), Msat(1), 1)
            .unwrap(),
        Credit::NotFound
    );
    // Reserve, settle at the real usage.
    assert_eq!(
        table.reserve(&sid, "llm", Msat(4_000), 1_003).unwrap(),
        Reserve::Reserved(Msat(11_000))
    );
    assert!(table.settle(&sid, Msat(4_000), Msat(1_500), 1_004).unwrap());
    assert_eq!(table.get(&sid).unwrap().unwrap().balance(), Msat(13_500));
    // Usage above the reservation is billed as the reservation.
    table.reserve(&sid, "llm", Msat(1_000), 1_005).unwrap();
    assert!(table.settle(&sid, Msat(1_000), Msat(9_999), 1_006).unwrap());
    assert_eq!(table.get(&sid).unwrap().unwrap().balance(), Msat(12_500));
    assert_eq!(
        table.reserve(&sid, "llm", Msat(12_501), 1_007).unwrap(),
        Reserve::Insufficient(Msat(12_500))
    );
    assert_eq!(
        table.reserve(&sid, "weather", Msat(1), 1_007).unwrap(),
        Reserve::WrongService
    );
    assert_eq!(
        table
            .reserve(&PaymentHash([7; 32]), "llm", Msat(1), 1_007)
            .unwrap(),
        Reserve::NotFound
    );
    // An in-flight reservation when the session closes stays billed.
    table.reserve(&sid, "llm", Msat(500), 1_008).unwrap();
    assert_eq!(
        table.close(&sid, 1_009).unwrap(),
        Close::Closed {
            refund: Msat(12_000),
            return_invoice: Some("lnbcrt1preturn".into())
        }
    );
    assert_eq!(table.close(&sid, 1_010).unwrap(), Close::AlreadyClosed);
    assert_eq!(
        table.close(&PaymentHash([7; 32]), 1_010).unwrap(),
        Close::NotFound
    );
    assert!(!table.settle(&sid, Msat(500), Msat(0), 1_011).unwrap());
    assert_eq!(
        table.reserve(&sid, "llm", Msat(1), 1_012).unwrap(),
        Reserve::Closed
    );
    assert_eq!(
        table
            .credit(&sid, &PaymentHash([3; 32]), Msat(1), 1_012)
            .unwrap(),
        Credit::Closed
    );
    table
        .record_refund(&sid, RefundOutcome::Succeeded, 1_013)
        .unwrap();
    // Recorded once.
    table
        .record_refund(&sid, RefundOutcome::Failed, 1_014)
        .unwrap();
    let closed = table.get(&sid).unwrap().unwrap();
    assert!(!closed.open);
    assert_eq!(closed.refund, Some(Msat(12_000)));
    assert_eq!(closed.refund_status.as_deref(), Some("succeeded"));
    assert_eq!(closed.balance(), Msat(0));
    // The ledger tells the whole story and adds up to the sat.
    let ledger = table.ledger(&sid).unwrap();
    let ops: Vec<(&str, i64)> = ledger
        .iter()
        .map(|l| (l.op.as_str(), l.amount_msat))
        .collect();
    assert_eq!(
        ops,
        [
            ("open", 10_000),
            ("topup", 5_000),
            ("reserve", -4_000),
            ("settle", 2_500),
            ("reserve", -1_000),
            ("reserve", -500),
            ("close", 0),
            ("refund", -12_000),
        ]
    );
    assert_eq!(ledger.iter().map(|l| l.amount_msat).sum::<i64>(), 0);
    assert_eq!(ledger.last().unwrap().balance, Msat(0));
    assert_eq!(table.idle(u64::MAX, 10).unwrap(), vec![]);
    table.open(&new_session(4, 1_000)).unwrap();
    let open_ones = table.list(Some(true), 10).unwrap();
    assert_eq!(open_ones.len(), 1);
    assert_eq!(open_ones[0].session_id, PaymentHash([4; 32]));
    assert_eq!(table.list(Some(false), 10).unwrap()[0].session_id, sid);
    assert_eq!(table.list(None, 10).unwrap().len(), 2);
    assert_eq!(table.list(None, 1).unwrap().len(), 1);
}

fn sessions_concurrent_reservations_never_overspend(open: &Open) {
    open().sessions().open(&new_session(5, 25_000)).unwrap();
    let sid = PaymentHash([5; 32]);
    let granted: u64 = race(open, 10, |_, store| {
        (0..5)
            .filter(|_| {
                matches!(
                    store
                        .sessions()
                        .reserve(&sid, "llm", Msat(1_000), 2_000)
                        .unwrap(),
                    Reserve::Reserved(_)
                )
            })
            .count() as u64
    })
    .into_iter()
    .sum();
    assert_eq!(
        granted, 25,
        "50 tries at 1 sat on a 25 sat balance: exactly 25 granted"
    );
    let session = open().sessions().get(&sid).unwrap().unwrap();
    assert_eq!(session.balance(), Msat(0));
    assert_eq!(session.spent, Msat(25_000));
    // Last used at 2_000 with a 300 s idle timeout.
    let idle = open().sessions().idle(2_300, 10).unwrap();
    assert_eq!(idle.len(), 1);
    assert!(open().sessions().idle(2_299, 10).unwrap().is_empty());
}
