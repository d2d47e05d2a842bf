//! Every budget limit refuses with its typed error and message, and nothing is paid.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{CountingWallet, PaidServer, ServerOptions, builder, ledger_payments};
use l402_client::ErrorCategory;
use l402_client::clock::{Clock, SystemClock};
use l402_client::{Budget, BudgetError, ClientError, L402Client, Limit};
use l402_core::Msat;
use l402_core::client::StopReason;
use l402_core::invoice::InvoiceCheckError;

/// A client with `budget` and a zero fee cap, so costs are the invoice amounts (10 sat each).
fn client_with(
    server: &PaidServer,
    dir: &std::path::Path,
    budget: Budget,
) -> (L402Client, Arc<CountingWallet>) {
    let wallet = CountingWallet::counting(server.wallet.clone());
    let client = builder(wallet.clone(), &dir.join("c.db"), budget)
        .max_fee(Msat(0))
        .build()
        .unwrap();
    (client, wallet)
}

fn exceeded(err: &ClientError) -> (&Limit, Msat, Msat, Msat) {
    match err {
        ClientError::Budget(BudgetError::Exceeded {
            limit,
            would_spend,
            limit_value,
            already_spent,
        }) => (limit, *would_spend, *limit_value, *already_spent),
        other => panic!("expected a budget refusal, got {other:?}"),
    }
}

/// Pays until `budget` refuses (see [`spend_until_refused`]) and checks the refusal: `pays`
/// payments went through first, then `limit` refused as [`assert_exceeded`] describes.
async fn refused_after(
    budget: Budget,
    pays: usize,
    limit: Limit,
    amounts: [u64; 3],
    message: &str,
) -> Refused {
    let r = spend_until_refused(budget).await;
    assert_eq!(r.pays, pays);
    assert_exceeded(&r.err, limit, amounts, message);
    r
}

/// Asserts that `err` is a refusal by `limit`, with the payment's cost, the limit's value and
/// what was already spent (in sat), and a message that starts with `message`.
fn assert_exceeded(err: &ClientError, limit: Limit, [cost, value, spent]: [u64; 3], message: &str) {
    assert_eq!(
        exceeded(err),
        (
            &limit,
            Msat::from_sat(cost),
            Msat::from_sat(value),
            Msat::from_sat(spent)
        )
    );
    assert!(err.to_string().starts_with(message), "{err}");
}

/// A fresh server and a client with a budget that paid scopes s0, s1, ... until it refused.
struct Refused {
    server: PaidServer,
    _dir: tempfile::TempDir,
    client: L402Client,
    wallet: Arc<CountingWallet>,
    /// The refusal.
    err: ClientError,
    /// How many payments went through before it.
    pays: usize,
}

/// Starts a server and a client with `budget` (see [`client_with`]) and pays until refused.
async fn spend_until_refused(budget: Budget) -> Refused {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client_with(&server, dir.path(), budget);
    for i in 0..10 {
        match client.get(&server.at(&format!("s{i}/x"))).await {
            Ok(r) => assert_eq!(r.response.status(), 200),
            Err(err) => {
                let pays = wallet.pays();
                return Refused {
                    server,
                    _dir: dir,
                    client,
                    wallet,
                    err,
                    pays,
                };
            }
        }
    }
    panic!("the budget never refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_limit() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wallet = CountingWallet::counting(server.wallet.clone());
    // The default 10 sat fee cap counts: 10 sat invoice + 10 sat fee > 15 sat.
    let client = builder(
        wallet.clone(),
        &dir.path().join("c.db"),
        Budget {
            max_per_request: Some(Msat::from_sat(15)),
            ..Budget::unlimited()
        },
    )
    .build()
    .unwrap();
    let err = client.get(&server.at("a/x")).await.unwrap_err();
    let (limit, cost, value, already) = exceeded(&err);
    assert_eq!(
        (limit, cost, value, already),
        (
            &Limit::PerRequest,
            Msat::from_sat(20),
            Msat::from_sat(15),
            Msat(0)
        )
    );
    assert_eq!(
        err.to_string(),
        "would exceed the per-request limit by 5 sat: this payment costs 20 sat \
         (invoice plus maximum routing fee), the limit is 15 sat"
    );
    assert_eq!(err.category(), ErrorCategory::OverBudget);
    assert_eq!(wallet.pays(), 0);
    assert_eq!(ledger_payments(&server.wallet_dir), 0);
    assert!(
        client.store().journal().list(10).unwrap().is_empty(),
        "nothing journaled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_limit() {
    let message = "would exceed the hourly budget by 5 sat: 20 sat of 25 sat already spent, \
                   this payment costs 10 sat";
    let r = refused_after(
        Budget {
            hourly: Some(Msat::from_sat(25)),
            ..Budget::unlimited()
        },
        2,
        Limit::Hourly,
        [10, 25, 20],
        message,
    )
    .await;
    assert_eq!(r.err.to_string(), message);
    assert_eq!(ledger_payments(&r.server.wallet_dir), 2);
    let status = r.client.budget_status().await.unwrap();
    assert_eq!(status.hourly.spent, Msat::from_sat(20));
    assert_eq!(status.hourly.remaining, Some(Msat::from_sat(5)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_limit() {
    refused_after(
        Budget {
            daily: Some(Msat::from_sat(35)),
            ..Budget::unlimited()
        },
        3,
        Limit::Daily,
        [10, 35, 30],
        "would exceed the daily budget by 5 sat",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_limit() {
    refused_after(
        Budget {
            total: Some(Msat::from_sat(10)),
            ..Budget::unlimited()
        },
        1,
        Limit::Total,
        [10, 10, 10],
        "would exceed the total budget by 10 sat",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_domain_limit() {
    let r = refused_after(
        Budget {
            per_domain: [("127.0.0.1".to_owned(), Msat::from_sat(15))].into(),
            ..Budget::unlimited()
        },
        1,
        Limit::Domain("127.0.0.1".into()),
        [10, 15, 10],
        "would exceed the budget for 127.0.0.1 by 5 sat",
    )
    .await;
    // Another host name (same server) has its own, unlimited, budget.
    let other = r
        .client
        .get(&format!("http://localhost:{}/s0/x", r.server.port))
        .await
        .unwrap();
    assert!(other.payment.is_some());
    assert_eq!(r.wallet.pays(), 2);
    let status = r.client.budget_status().await.unwrap();
    assert_eq!(
        status.per_domain["127.0.0.1"].remaining,
        Some(Msat::from_sat(5))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_and_allow_lists() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let localhost = format!("http://localhost:{}/a/x", server.port);

    let (denied, wallet) = client_with(
        &server,
        &dir.path().join("1"),
        Budget {
            deny_domains: vec!["127.0.0.1".into()],
            allow_domains: vec!["127.0.0.1".into(), "localhost".into()],
            ..Budget::unlimited()
        },
    );
    let err = denied.get(&server.at("a/x")).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Budget(BudgetError::DomainDenied { domain, rule })
            if domain == "127.0.0.1" && rule == "127.0.0.1"),
        "deny wins over allow: {err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::OverBudget);
    assert!(denied.get(&localhost).await.unwrap().payment.is_some());
    assert_eq!(wallet.pays(), 1);

    let (allowed, wallet) = client_with(
        &server,
        &dir.path().join("2"),
        Budget {
            allow_domains: vec!["localhost".into()],
            ..Budget::unlimited()
        },
    );
    let err = allowed.get(&server.at("a/x")).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Budget(BudgetError::DomainNotAllowed { domain }) if domain == "127.0.0.1"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "payments to 127.0.0.1 are not allowed: it is not on the allow list"
    );
    assert_eq!(wallet.pays(), 0);
    // Free resources are not payments: lists do not apply.
    assert_eq!(
        allowed
            .get(&server.at("free"))
            .await
            .unwrap()
            .response
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_over_max_cost_is_refused_before_the_budget() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wallet = CountingWallet::counting(server.wallet.clone());
    let client = builder(
        wallet.clone(),
        &dir.path().join("c.db"),
        Budget::unlimited(),
    )
    .max_cost(Msat::from_sat(9))
    .build()
    .unwrap();
    let err = client.get(&server.at("a/x")).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax { amount, max }))
                if amount == Msat::from_sat(10) && max == Msat::from_sat(9)
        ),
        "{err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::OverBudget);
    assert_eq!(wallet.pays(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_on_one_store_share_the_budget() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let budget = Budget {
        daily: Some(Msat::from_sat(15)),
        ..Budget::unlimited()
    };
    // Separate clients, separate connections, one file: as two processes would.
    let (a, wa) = client_with(&server, dir.path(), budget.clone());
    let (b, wb) = client_with(&server, dir.path(), budget);
    let (pa, pb) = (server.at("p/x"), server.at("q/x"));
    let (ra, rb) = tokio::join!(a.get(&pa), b.get(&pb));
    let outcomes = [ra.is_ok(), rb.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "{ra:?} {rb:?}"
    );
    let refused = ra.err().or(rb.err()).unwrap();
    assert!(matches!(exceeded(&refused).0, Limit::Daily));
    assert_eq!(wa.pays() + wb.pays(), 1);
}

/// A clock the test moves.
struct MovableClock(AtomicU64);

impl Clock for MovableClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_window_rolls() {
    let server = PaidServer::start(ServerOptions {
        invoice_expiry_secs: 7200,
        ..ServerOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(MovableClock(AtomicU64::new(SystemClock.now_unix())));
    let wallet = CountingWallet::counting(server.wallet.clone());
    let client = builder(
        wallet.clone(),
        &dir.path().join("c.db"),
        Budget {
            hourly: Some(Msat::from_sat(10)),
            ..Budget::unlimited()
        },
    )
    .max_fee(Msat(0))
    .clock(clock.clone())
    .build()
    .unwrap();
    client.get(&server.at("a/x")).await.unwrap();
    let err = client.get(&server.at("b/x")).await.unwrap_err();
    assert!(matches!(exceeded(&err).0, Limit::Hourly));
    // 59 minutes later: still inside the window.
    clock.0.fetch_add(59 * 60, Ordering::SeqCst);
    assert!(client.get(&server.at("b/x")).await.is_err());
    // Past the hour: room again (this server's invoices live two hours).
    clock.0.fetch_add(60, Ordering::SeqCst);
    assert!(
        client
            .get(&server.at("b/x"))
            .await
            .unwrap()
            .payment
            .is_some()
    );
    assert_eq!(wallet.pays(), 2);
}
