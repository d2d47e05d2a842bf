//! `[payment] prefer`: a client that does not list L402 never pays an L402 challenge.

mod common;

use common::{PaidServer, ServerOptions, builder, ledger_payments};
use l402_client::mpp::PaymentScheme;
use l402_client::{Budget, ClientError, ErrorCategory};
use l402_testkit::paid_server::CountingWallet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_l402_challenge_is_not_paid_when_only_payment_is_preferred() {
    let server = PaidServer::start(ServerOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wallet = CountingWallet::counting(server.wallet.clone());
    let client = builder(wallet.clone(), &dir.path().join("c.db"), Budget::default())
        .prefer(vec![PaymentScheme::Mpp])
        .build()
        .unwrap();
    let err = client.get(&server.at("weather/today")).await.unwrap_err();
    assert!(matches!(err, ClientError::SchemeNotAllowed(_)), "{err}");
    assert_eq!(err.category(), ErrorCategory::PaymentFailed);
    assert!(err.nothing_paid());
    assert_eq!(wallet.pays(), 0);
    assert_eq!(ledger_payments(&server.wallet_dir), 0);

    // The default preference pays it.
    let client = builder(wallet.clone(), &dir.path().join("d.db"), Budget::default())
        .build()
        .unwrap();
    let paid = client.get(&server.at("weather/today")).await.unwrap();
    assert_eq!(paid.response.status(), 200);
    assert_eq!(wallet.pays(), 1);
    assert_eq!(ledger_payments(&server.wallet_dir), 1);
}
