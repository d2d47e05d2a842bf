//! Crash safety: a payment made but not recorded is found through the wallet and used, never
//! paid again; failed or never-started payments release their reservation; unresolved ones
//! block further payment for their scope.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{CountingWallet, PaidServer, ServerOptions, builder, ledger_payments};
use l402_client::ErrorCategory;
use l402_client::clock::{Clock, SystemClock};
use l402_client::{Budget, ClientError};
use l402_core::challenge::Scheme;
use l402_core::{Msat, PaymentHash};
use l402_lightning::dev::DevWallet;
use l402_lightning::{BackendError, LightningBackend, Network, PayOptions, PaymentResult};
use l402_store::{NewPayment, PaymentStatus};
use l402_testkit::hooked::{Hooked, WalletHook};
use l402_testkit::process::rerun_test_binary;
use l402_testkit::require_env;
use tokio::sync::Notify;

/// Pays through the inner wallet, then hangs forever: the caller's task can be aborted at the
/// worst moment (money gone, nothing recorded).
struct HangAfterPay {
    paid: Arc<Notify>,
}

#[async_trait]
impl WalletHook for HangAfterPay {
    async fn pay_invoice(
        &self,
        inner: &dyn LightningBackend,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        inner.pay_invoice(bolt11, opts).await?;
        self.paid.notify_one();
        std::future::pending().await
    }
}

/// A client on `store` pays for `vault/a` and is aborted before it records the payment.
async fn crash_after_paying(server: &PaidServer, store: &std::path::Path) {
    let paid = Arc::new(Notify::new());
    let hanging = Hooked::new(server.wallet.clone(), HangAfterPay { paid: paid.clone() });
    let first = builder(hanging, store, Budget::default()).build().unwrap();
    let url = server.at("vault/a");
    let task = tokio::spawn(async move { first.get(&url).await });
    paid.notified().await;
    task.abort();
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_interrupted_before_recording_is_recovered_not_repaid() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("c.db");
    crash_after_paying(&server, &store).await;
    assert_eq!(
        ledger_payments(&server.wallet_dir),
        1,
        "the money left the wallet"
    );

    // What the crash left behind.
    let wallet = CountingWallet::counting(server.wallet.clone());
    let second = builder(wallet.clone(), &store, Budget::default())
        .build()
        .unwrap();
    let pending = second.store().journal().pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert!(second.tokens().await.unwrap().is_empty());
    let hash = pending[0].payment.payment_hash;

    // A request on restart uses the paid token and pays nothing.
    let response = second.get(&server.at("vault/b")).await.unwrap();
    assert_eq!(response.response.status(), 200);
    assert!(response.payment.is_none());
    assert!(response.reused_token);
    assert_eq!(wallet.pays(), 0);
    assert_eq!(ledger_payments(&server.wallet_dir), 1);
    let record = second.store().journal().get(&hash).unwrap().unwrap();
    assert_eq!(record.status, PaymentStatus::Succeeded);
    let receipts = second.receipts(10).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].payment_hash, hash);
    let status = second.budget_status().await.unwrap();
    assert_eq!(
        status.daily.spent,
        Msat::from_sat(10),
        "settled to amount + actual fee"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_pending_reports_what_it_did() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("c.db");
    crash_after_paying(&server, &store).await;

    let wallet = CountingWallet::counting(server.wallet.clone());
    let client = builder(wallet.clone(), &store, Budget::default())
        .build()
        .unwrap();
    let now = SystemClock.now_unix();
    // Also: a payment the wallet never heard of, whose invoice has expired (never started),
    // and a fresh one the wallet has not heard of yet (maybe another process is starting it).
    let stale = journal(
        &client,
        0xa1,
        "http://elsewhere.test/x",
        now - 7200,
        now - 10,
    );
    let young = journal(&client, 0xa2, &server.at("young/x"), now, now + 3600);

    let report = client.recover_pending().await.unwrap();
    assert_eq!(report.completed.len(), 1);
    assert_eq!(report.failed, vec![stale]);
    assert_eq!(report.unresolved.len(), 1);
    assert_eq!(report.unresolved[0].payment_hash, young);
    assert!(
        report.unresolved[0].reason.contains("no record"),
        "{report:?}"
    );
    assert_eq!(client.tokens().await.unwrap().len(), 1);
    assert_eq!(wallet.pays(), 0);
    // Released reservations no longer count; the unresolved one still does.
    let status = client.budget_status().await.unwrap();
    assert_eq!(status.daily.spent, Msat::from_sat(10 + 10 + 1));

    // While the young payment is unresolved, its scope is not paid again.
    let err = client.get(&server.at("young/y")).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::PaymentPending { payment_hash, .. } if *payment_hash == young),
        "{err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::PaymentFailed);
    assert_eq!(wallet.pays(), 0);
    // Other scopes are not blocked.
    assert!(
        client
            .get(&server.at("other/y"))
            .await
            .unwrap()
            .payment
            .is_some()
    );
}

/// Journals a pending payment by hand, as a crashed client would have left it.
fn journal(
    client: &l402_client::L402Client,
    n: u8,
    url: &str,
    created_at: u64,
    invoice_expires_at: u64,
) -> PaymentHash {
    let target = client.target_of(url).unwrap();
    let payment = NewPayment {
        payment_hash: PaymentHash([n; 32]),
        url: url.to_owned(),
        origin: target.origin,
        scope: target.scope,
        domain: target.domain,
        scheme: Scheme::L402,
        bolt11: "lnbcrt1-never-paid".into(),
        macaroon: vec![1, 2, 3],
        amount: Msat::from_sat(10),
        max_fee: Msat::from_sat(1),
        invoice_expires_at,
        created_at,
    };
    client
        .store()
        .journal()
        .reserve(
            &payment,
            &l402_client::budget::spend_query(created_at, None),
            |_| Ok::<(), ()>(()),
        )
        .unwrap()
        .unwrap();
    payment.payment_hash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_that_cannot_be_asked_leaves_payments_unresolved() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let client = builder(
        server.wallet.clone(),
        &dir.path().join("c.db"),
        Budget::default(),
    )
    .build()
    .unwrap();
    let now = SystemClock.now_unix();
    let hash = journal(&client, 0xb1, &server.at("z/x"), now - 7200, now - 10);
    server.wallet.set_fault(l402_lightning::dev::DevFault::Down);
    let report = client.recover_pending().await.unwrap();
    assert_eq!(report.unresolved.len(), 1);
    assert!(
        report.unresolved[0].reason.contains("cannot be asked"),
        "{report:?}"
    );
    server.wallet.set_fault(l402_lightning::dev::DevFault::None);
    assert_eq!(client.recover_pending().await.unwrap().failed, vec![hash]);
}

const CHILD_URL: &str = "L402_CLIENT_TEST_CRASH_URL";
const CHILD_STORE: &str = "L402_CLIENT_TEST_CRASH_STORE";
const CHILD_WALLET: &str = "L402_CLIENT_TEST_CRASH_WALLET";

/// Runs only as the child of `a_process_killed_after_paying_never_pays_twice`: pays with the
/// crash hook on, so the process exits with status 137 right after the wallet paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of a_process_killed_after_paying_never_pays_twice, which runs it"]
async fn crash_child() {
    let parent = "a_process_killed_after_paying_never_pays_twice";
    let url = require_env(CHILD_URL, parent);
    let store = require_env(CHILD_STORE, parent);
    let wallet_dir = require_env(CHILD_WALLET, parent);
    let wallet = Arc::new(DevWallet::open(wallet_dir, Network::Regtest).unwrap());
    let client = builder(wallet, std::path::Path::new(&store), Budget::default())
        .crash_after_pay_for_tests(true)
        .build()
        .unwrap();
    let _ = client.get(&url).await;
    panic!("the crash hook should have ended the process");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_after_paying_never_pays_twice() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("c.db");
    let mut child = rerun_test_binary("crash_child");
    child
        .env(CHILD_URL, server.at("vault/a"))
        .env(CHILD_STORE, &store)
        .env(CHILD_WALLET, &server.wallet_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let status = tokio::task::spawn_blocking(move || child.status().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(137), "{status:?}");
    assert_eq!(ledger_payments(&server.wallet_dir), 1);

    let wallet = CountingWallet::counting(server.wallet.clone());
    let client = builder(wallet.clone(), &store, Budget::default())
        .build()
        .unwrap();
    assert_eq!(client.store().journal().pending().unwrap().len(), 1);
    let response = client.get(&server.at("vault/b")).await.unwrap();
    assert_eq!(response.response.status(), 200);
    assert!(response.reused_token);
    assert_eq!(wallet.pays(), 0);
    assert_eq!(ledger_payments(&server.wallet_dir), 1);
    assert_eq!(client.receipts(10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definitive_wallet_failure_releases_the_reservation() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // A wallet on another ledger: it cannot route to the server's node.
    let other = Arc::new(DevWallet::open(dir.path().join("other"), Network::Regtest).unwrap());
    let wallet = CountingWallet::counting(other);
    let client = builder(wallet.clone(), &dir.path().join("c.db"), Budget::default())
        .build()
        .unwrap();
    let err = client.get(&server.at("a/x")).await.unwrap_err();
    assert!(
        matches!(err, ClientError::PaymentFailed(BackendError::NoRoute)),
        "{err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::PaymentFailed);
    assert_eq!(wallet.pays(), 1);
    assert_eq!(client.budget_status().await.unwrap().daily.spent, Msat(0));
    let rows = client.store().journal().list(10).unwrap();
    assert_eq!(rows[0].status, PaymentStatus::Failed);
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_that_times_out_stays_pending_and_blocks_its_scope() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wallet = CountingWallet::counting(server.wallet.clone());
    let client = builder(wallet.clone(), &dir.path().join("c.db"), Budget::default())
        .payment_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    server
        .wallet
        .set_fault(l402_lightning::dev::DevFault::Slow(Duration::from_millis(
            800,
        )));
    let err = client.get(&server.at("slow/a")).await.unwrap_err();
    assert!(matches!(err, ClientError::PaymentPending { .. }), "{err:?}");
    assert_eq!(err.category(), ErrorCategory::PaymentFailed);
    assert_eq!(wallet.pays(), 1);
    // The reservation (10 sat + 10 sat fee cap) is kept while the outcome is unknown.
    assert_eq!(
        client.budget_status().await.unwrap().daily.spent,
        Msat::from_sat(20)
    );
    server.wallet.set_fault(l402_lightning::dev::DevFault::None);
    let again = client.get(&server.at("slow/b")).await.unwrap_err();
    assert!(
        matches!(again, ClientError::PaymentPending { .. }),
        "{again:?}"
    );
    assert_eq!(wallet.pays(), 1, "nothing more is paid for the scope");
    assert_eq!(ledger_payments(&server.wallet_dir), 0);
}
