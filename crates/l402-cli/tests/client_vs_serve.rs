//! The client library against the real `l402 serve`: 20 concurrent requests share one payment,
//! and an expired token leads to exactly one re-payment.

mod common;

use l402_testkit::sample::sample_upstream;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use l402_client::L402Client;
use l402_lightning::LightningBackend;
use l402_lightning::dev::DevWalletClient;

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_pay_once_and_expiry_pays_exactly_once_more() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |sample| format!("[[services]]\nname = \"weather\"\npath_prefix = \"/api/weather\"\nupstream = \"http://{sample}\"\nprice_sat = 2\ntoken_lifetime_secs = 3\n")).await;
    let config = upstream.config.clone();
    let config_s = config.display().to_string();
    let (_serve, base) = serve(dir.path(), &["--config", &config_s]).await;
    let wallet = DevWalletClient::from_data_dir(&dir.path().join("data")).unwrap();
    let client = Arc::new(
        L402Client::builder()
            .wallet(Arc::new(wallet) as Arc<dyn LightningBackend>)
            .store_path(dir.path().join("client.db"))
            .build()
            .unwrap(),
    );

    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            let url = format!("{base}/api/weather?city=c{i}");
            tokio::spawn(
                async move { client.get(&url).await.map(|p| p.response.status().as_u16()) },
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }
    assert_eq!(
        client.receipts(100).await.unwrap().len(),
        1,
        "20 concurrent requests, one payment"
    );

    // The token lives 3 s: after that, exactly one more payment, then reuse again.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    for i in 0..3 {
        let paid = client
            .get(&format!("{base}/api/weather?city=late{i}"))
            .await
            .unwrap();
        assert_eq!(paid.response.status(), 200);
    }
    assert_eq!(
        client.receipts(100).await.unwrap().len(),
        2,
        "expiry leads to exactly one re-payment"
    );
}
