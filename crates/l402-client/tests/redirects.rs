//! Redirects: every hop is checked against the domain lists before anything is sent to it, a
//! challenge is judged, paid and retried at the origin that issued it, and a token never
//! travels to another origin (scheme, host and port).

mod common;

use common::{PaidServer, ServerOptions, builder, client, ledger_payments, text};
use l402_client::{Budget, BudgetError, ClientError};
use l402_testkit::redirector::Redirector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_bought_after_a_redirect_goes_only_to_the_origin_that_sold_it() {
    let seller = PaidServer::start(ServerOptions::default()).await;
    let front = Redirector::start(Some(seller.url.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&seller, &dir.path().join("c.db"), Budget::default());

    let first = client.get(&front.at("weather/today")).await.unwrap();
    let receipt = first
        .payment
        .clone()
        .expect("the seller's challenge is paid");
    assert_eq!(
        receipt.scope,
        seller.at("weather"),
        "scoped to the seller's origin"
    );
    assert_eq!(text(first).await, (200, "paid:/weather/today:0".into()));

    let again = client.get(&front.at("weather/today")).await.unwrap();
    assert!(again.reused_token && again.payment.is_none());
    assert_eq!(again.response.status(), 200);
    assert_eq!(wallet.pays(), 1);
    assert_eq!(
        front.authorizations(),
        vec![None, None],
        "the redirecting origin never sees the seller's token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_held_for_one_origin_is_not_sent_to_the_origin_it_redirects_to() {
    let other = Redirector::start(None).await;
    let first = Redirector::start(Some(other.url.clone())).await;
    let seller = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, _) = client(&seller, &dir.path().join("c.db"), Budget::default());
    // A token for the first origin (bought there, as far as the client knows).
    let bought = client.get(&seller.at("weather/x")).await.unwrap();
    assert!(bought.payment.is_some());
    let value = client
        .attenuate(&seller.at("weather"), &Default::default())
        .await
        .unwrap();
    client
        .import_token(&first.at("weather"), &value, None)
        .await
        .unwrap();

    let response = client.get(&first.at("weather/x")).await.unwrap();
    assert_eq!(response.response.status(), 200);
    assert_eq!(first.authorizations(), vec![Some(value)]);
    assert_eq!(
        other.authorizations(),
        vec![None],
        "no token crosses origins"
    );
}

/// A seller, and a front on 127.0.0.1 redirecting to it as `localhost`.
async fn seller_behind_localhost_redirect() -> (PaidServer, Redirector, tempfile::TempDir) {
    let seller = PaidServer::start(ServerOptions::default()).await;
    let front = Redirector::start(Some(format!("http://localhost:{}", seller.port))).await;
    (seller, front, tempfile::tempdir().unwrap())
}

/// A budget denying `localhost`.
fn deny_localhost() -> Budget {
    Budget {
        deny_domains: vec!["localhost".into()],
        ..Budget::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_into_a_denied_domain_is_refused_before_anything_is_sent() {
    let (seller, front, dir) = seller_behind_localhost_redirect().await;
    let (client, wallet) = client(&seller, &dir.path().join("c.db"), deny_localhost());

    let err = client.get(&front.at("weather/x")).await.unwrap_err();
    let ClientError::RedirectRefused { from, to, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(from, &front.at("weather/x"));
    assert_eq!(to, &format!("http://localhost:{}/weather/x", seller.port));
    assert!(reason.contains("deny-list entry \"localhost\""), "{err}");
    assert!(err.nothing_paid());
    assert_eq!(
        seller.challenges(),
        0,
        "nothing was sent to the denied host"
    );
    assert_eq!(wallet.pays(), 0);
    assert_eq!(ledger_payments(&seller.wallet_dir), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_outside_the_allow_list_is_refused() {
    let (seller, front, dir) = seller_behind_localhost_redirect().await;
    let budget = Budget {
        allow_domains: vec!["127.0.0.1".into()],
        ..Budget::default()
    };
    let (client, wallet) = client(&seller, &dir.path().join("c.db"), budget);
    let err = client.get(&front.at("weather/x")).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::RedirectRefused { reason, .. } if reason.contains("allow")),
        "{err}"
    );
    assert_eq!(seller.challenges(), 0);
    assert_eq!(wallet.pays(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_402_reached_through_a_redirect_to_a_denied_host_is_not_paid() {
    // A caller's HTTP client that follows redirects by itself: the hops are hidden, but the
    // challenge is still judged by the host that issued it.
    let (seller, front, dir) = seller_behind_localhost_redirect().await;
    let counting = l402_testkit::paid_server::CountingWallet::counting(seller.wallet.clone());
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .unwrap();
    let client = builder(counting.clone(), &dir.path().join("c.db"), deny_localhost())
        .http_client(http)
        .build()
        .unwrap();
    let err = client.get(&front.at("weather/x")).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Budget(BudgetError::DomainDenied { ref domain, .. }) if domain == "localhost"),
        "{err:?}"
    );
    assert_eq!(seller.challenges(), 1);
    assert_eq!(counting.pays(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loops_end_after_the_hop_limit_and_zero_hops_returns_the_redirect() {
    let seller = PaidServer::start(ServerOptions::default()).await;
    let a = Redirector::start(Some("http://127.0.0.1:1".into())).await;
    // b -> a -> port 1: with a limit of 1, the second hop is refused.
    let b = Redirector::start(Some(a.url.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let counting = l402_testkit::paid_server::CountingWallet::counting(seller.wallet.clone());
    let limited = builder(
        counting.clone(),
        &dir.path().join("c.db"),
        Budget::default(),
    )
    .max_redirects(1)
    .build()
    .unwrap();
    let err = limited.get(&b.at("x")).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::RedirectRefused { reason, .. } if reason == "more than 1 redirects"),
        "{err}"
    );
    let none = builder(counting, &dir.path().join("d.db"), Budget::default())
        .max_redirects(0)
        .build()
        .unwrap();
    let answer = none.get(&b.at("x")).await.unwrap();
    assert_eq!(answer.response.status(), 307);
}

/// Refuses one port (a stand-in for "a private address").
struct RefusePort(u16);

impl l402_client::DestinationGuard for RefusePort {
    fn check(&self, url: &reqwest::Url) -> Result<(), String> {
        if url.port() == Some(self.0) {
            Err(format!("port {} is refused", self.0))
        } else {
            Ok(())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_destination_guard_is_asked_at_every_hop() {
    let seller = PaidServer::start(ServerOptions::default()).await;
    let front = Redirector::start(Some(seller.url.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let counting = l402_testkit::paid_server::CountingWallet::counting(seller.wallet.clone());
    let client = builder(
        counting.clone(),
        &dir.path().join("c.db"),
        Budget::default(),
    )
    .destination_guard(std::sync::Arc::new(RefusePort(seller.port)))
    .build()
    .unwrap();
    let err = client.get(&front.at("weather/x")).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::DestinationRefused { url, reason }
            if url == &seller.at("weather/x") && reason.contains("refused")),
        "{err:?}"
    );
    assert_eq!(front.authorizations().len(), 1);
    assert_eq!(seller.challenges(), 0);
    assert_eq!(counting.pays(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_url_go_as_basic_authorization_not_in_the_request_line() {
    let server = Redirector::start(None).await;
    let seller = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, _) = client(&seller, &dir.path().join("c.db"), Budget::default());

    let url = format!("http://user:pw@127.0.0.1:{}/x", server.port);
    let response = client.get(&url).await.unwrap();
    assert_eq!(response.response.status(), 200);
    // base64("user:pw")
    assert_eq!(
        server.authorizations(),
        vec![Some("Basic dXNlcjpwdw==".to_owned())]
    );
}
