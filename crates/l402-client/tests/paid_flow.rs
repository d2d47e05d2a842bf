//! End-to-end flows against a real paid server on loopback: pay, reuse, expiry, refused tokens,
//! a server that never lets go, 20 concurrent requests, attenuation for a sub-agent.

mod common;

use std::time::Duration;

use common::{PaidServer, ServerOptions, client, ledger_payments, text};
use l402_client::ErrorCategory;
use l402_client::{Budget, ClientError, L402Client, RequestSpec};
use l402_core::client::StopReason;
use l402_core::mint::Attenuation;
use l402_core::{Msat, Preimage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pays_once_then_reuses_the_token_across_paths_of_one_scope() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());

    let first = client.get(&server.at("weather/today")).await.unwrap();
    assert!(!first.reused_token);
    let receipt = first.payment.clone().expect("the first request pays");
    assert_eq!(receipt.amount, Msat::from_sat(10));
    assert_eq!(receipt.fee, Msat(0));
    assert_eq!(receipt.scope, server.at("weather"));
    assert!(receipt.token_id.is_some());
    assert_eq!(text(first).await, (200, "paid:/weather/today:0".into()));

    for path in ["weather/tomorrow", "weather/week?units=metric"] {
        let again = client.get(&server.at(path)).await.unwrap();
        assert!(again.reused_token, "{path}");
        assert!(again.payment.is_none(), "{path}");
        assert_eq!(again.response.status(), 200);
    }
    assert_eq!(wallet.pays(), 1);
    assert_eq!(ledger_payments(&server.wallet_dir), 1);
    assert_eq!(server.challenges(), 1);
    assert_eq!(server.paid_requests(), 3);

    // Another scope needs its own payment.
    let other = client.get(&server.at("stocks/now")).await.unwrap();
    assert!(other.payment.is_some());
    assert_eq!(wallet.pays(), 2);

    // Receipts, tokens, budget status.
    let receipts = client.receipts(10).await.unwrap();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[1].payment_hash, receipt.payment_hash);
    let tokens = client.tokens().await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().any(|t| t.scope == server.at("weather")));
    let status = client.budget_status().await.unwrap();
    assert_eq!(status.daily.spent, Msat::from_sat(20));
    assert_eq!(
        status.daily.remaining,
        Some(Msat::from_sat(50_000 - 20)),
        "{status:?}"
    );

    // Forgetting the token means paying again.
    assert!(client.remove_token(&server.at("weather/x")).await.unwrap());
    assert!(!client.remove_token(&server.at("weather")).await.unwrap());
    let repaid = client.get(&server.at("weather/today")).await.unwrap();
    assert!(repaid.payment.is_some());
    assert_eq!(wallet.pays(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_server_is_a_network_error_and_pays_nothing() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    let result = client
        .get(&format!("https://127.0.0.1:{}/weather/x", server.port))
        .await;
    // Plain HTTP on the other end: a TLS handshake failure, reported as a network error.
    let err = result.unwrap_err();
    assert!(matches!(err, ClientError::Http(_)), "{err:?}");
    assert_eq!(err.category(), ErrorCategory::Network);
    assert_eq!(wallet.pays(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_resources_cost_nothing() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    let free = client.get(&server.at("free")).await.unwrap();
    assert_eq!(text(free).await, (200, "free".into()));
    assert_eq!(wallet.pays(), 0);
    assert_eq!(server.challenges(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_are_replayed_after_paying() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, _wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    let spec = RequestSpec::new(reqwest::Method::POST, &server.at("upload/x"))
        .unwrap()
        .header("content-type", "text/plain")
        .unwrap()
        .body("twelve bytes");
    let paid = client.execute(spec).await.unwrap();
    assert!(paid.payment.is_some());
    assert_eq!(text(paid).await, (200, "paid:/upload/x:12".into()));

    // A built reqwest::Request works too.
    let req = client
        .http()
        .post(server.at("upload/y"))
        .body("abc")
        .build()
        .unwrap();
    let paid = client.execute(req).await.unwrap();
    assert!(paid.reused_token);
    assert_eq!(text(paid).await, (200, "paid:/upload/y:3".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_leads_to_exactly_one_new_payment() {
    let server = PaidServer::start(ServerOptions {
        lifetime_secs: Some(2),
        ..ServerOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    assert!(
        client
            .get(&server.at("news/a"))
            .await
            .unwrap()
            .payment
            .is_some()
    );
    let tokens = client.tokens().await.unwrap();
    assert!(
        tokens[0].expires_at.is_some(),
        "expiry read from the caveats"
    );
    assert!(client.get(&server.at("news/b")).await.unwrap().reused_token);
    assert_eq!(wallet.pays(), 1);

    tokio::time::sleep(Duration::from_millis(3100)).await;
    let after = client.get(&server.at("news/c")).await.unwrap();
    assert!(after.payment.is_some());
    assert_eq!(after.response.status(), 200);
    assert_eq!(wallet.pays(), 2);
    assert!(client.get(&server.at("news/d")).await.unwrap().reused_token);
    assert_eq!(wallet.pays(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_dropped_and_paid_for_once() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    let first = client.get(&server.at("maps/a")).await.unwrap();
    let old_hash = first.payment.unwrap().payment_hash;

    server.rotate_keys();
    let second = client.get(&server.at("maps/b")).await.unwrap();
    assert_eq!(second.response.status(), 200);
    let new_hash = second.payment.expect("a fresh payment").payment_hash;
    assert_ne!(new_hash, old_hash);
    assert!(!second.reused_token);
    assert_eq!(wallet.pays(), 2);
    assert_eq!(server.challenges(), 2);
    let tokens = client.tokens().await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].payment_hash, new_hash);
    // Right after (within the in-memory lookup's second): the new token, never the refused one.
    for path in ["maps/c", "maps/d"] {
        let next = client.get(&server.at(path)).await.unwrap();
        assert!(next.reused_token, "{path}");
        assert_eq!(next.response.status(), 200);
    }
    assert_eq!((wallet.pays(), server.challenges()), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_always_wants_payment_gets_paid_once_and_the_client_stops() {
    let server = PaidServer::start(ServerOptions {
        always_402: true,
        ..ServerOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    let err = client.get(&server.at("trap/x")).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused(StopReason::StillRequiredAfterPayment)
        ),
        "{err:?}"
    );
    assert_eq!(err.category(), ErrorCategory::PaymentFailed);
    assert_eq!(wallet.pays(), 1);
    assert_eq!(server.challenges(), 2);

    // With a cached (now refused) token: dropped, one fresh payment, then stop.
    let err = client.get(&server.at("trap/y")).await.unwrap_err();
    assert!(matches!(
        err,
        ClientError::Refused(StopReason::StillRequiredAfterPayment)
    ));
    assert_eq!(wallet.pays(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_requests_pay_once() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            let url = server.at(&format!("burst/{i}"));
            tokio::spawn(async move { client.get(&url).await })
        })
        .collect();
    let mut paid = 0;
    for task in tasks {
        let response = task.await.unwrap().unwrap();
        assert_eq!(response.response.status(), 200);
        paid += usize::from(response.payment.is_some());
    }
    assert_eq!(paid, 1);
    assert_eq!(wallet.pays(), 1);
    assert_eq!(ledger_payments(&server.wallet_dir), 1);
    assert_eq!(client.receipts(100).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attenuated_token_lets_a_sub_agent_do_less() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (parent, parent_wallet) = client(&server, &dir.path().join("parent.db"), Budget::default());
    // The parent can read and write.
    assert_eq!(
        parent
            .get(&server.at("docs/read/1"))
            .await
            .unwrap()
            .response
            .status(),
        200
    );
    assert_eq!(
        parent
            .get(&server.at("docs/write/1"))
            .await
            .unwrap()
            .response
            .status(),
        200
    );
    assert_eq!(parent_wallet.pays(), 1);

    let handed = parent
        .attenuate(
            &server.at("docs"),
            &Attenuation {
                capabilities: vec![("docs".into(), vec!["read".into()])],
                ..Attenuation::default()
            },
        )
        .await
        .unwrap();
    assert!(handed.starts_with("L402 "));

    // The sub-agent has no money to spend: it may only use what it was handed.
    let (child, child_wallet) = client(
        &server,
        &dir.path().join("child.db"),
        Budget {
            total: Some(Msat(0)),
            ..Budget::default()
        },
    );
    let info = child
        .import_token(&server.at("docs"), &handed, Some("from parent".into()))
        .await
        .unwrap();
    assert_eq!(info.scope, server.at("docs"));
    let read = child.get(&server.at("docs/read/2")).await.unwrap();
    assert!(read.reused_token);
    assert_eq!(read.response.status(), 200);
    let write = child.get(&server.at("docs/write/2")).await.unwrap();
    assert_eq!(
        write.response.status(),
        403,
        "the server enforces the narrowed capability"
    );
    assert_eq!(child_wallet.pays(), 0);
    // The parent's own token is unchanged.
    assert_eq!(
        parent
            .get(&server.at("docs/write/3"))
            .await
            .unwrap()
            .response
            .status(),
        200
    );

    assert!(matches!(
        parent
            .attenuate(&server.at("nothing"), &Attenuation::default())
            .await,
        Err(ClientError::NoToken(_))
    ));
    assert!(matches!(
        child
            .import_token(&server.at("docs"), "L402 bogus:00", None)
            .await,
        Err(ClientError::InvalidToken(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lsat_only_servers_get_lsat_credentials() {
    let server = PaidServer::start(ServerOptions {
        lsat_only: true,
        ..ServerOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (client, wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    assert_eq!(
        client
            .get(&server.at("old/a"))
            .await
            .unwrap()
            .response
            .status(),
        200
    );
    assert!(client.get(&server.at("old/b")).await.unwrap().reused_token);
    assert_eq!(wallet.pays(), 1);
    let handed = client
        .attenuate(&server.at("old"), &Attenuation::default())
        .await
        .unwrap();
    assert!(handed.starts_with("LSAT "), "{handed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_pay_off_a_challenge_is_reported_not_paid() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wallet = common::CountingWallet::counting(server.wallet.clone());
    let client: L402Client =
        common::builder(wallet.clone(), &dir.path().join("c.db"), Budget::default())
            .auto_pay(false)
            .build()
            .unwrap();
    let err = client.get(&server.at("quote/x")).await.unwrap_err();
    let ClientError::PaymentRequired { amount, scope, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*amount, Msat::from_sat(10));
    assert_eq!(scope, &server.at("quote"));
    assert_eq!(err.category(), ErrorCategory::OverBudget);
    assert_eq!(wallet.pays(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show_in_debug_output() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (client, _wallet) = client(&server, &dir.path().join("c.db"), Budget::default());
    let paid = client.get(&server.at("secret/a")).await.unwrap();
    let hash = paid.payment.as_ref().unwrap().payment_hash;
    let record = client
        .store()
        .tokens()
        .get(&server.at("secret"))
        .unwrap()
        .unwrap();
    let preimage_hex = record.preimage.to_hex();
    assert!(Preimage(record.preimage.0).pays(&hash));
    let shown = format!(
        "{paid:?} {client:?} {record:?} {:?} {:?}",
        client.tokens().await.unwrap(),
        client.store().journal().get(&hash).unwrap()
    );
    assert!(!shown.contains(&preimage_hex), "{shown}");
    let mac_b64 = l402_core::base64_codec::encode_std(&record.macaroon);
    assert!(!shown.contains(&mac_b64[..20]), "{shown}");
}
