//! The seller started in this process with the dev wallet, zero-config and from a
//! configuration file, and bought from through the auto-paying client.

use l402_testkit::sample::sample_upstream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use l402_client::L402Client;
use l402_lightning::LightningBackend;
use l402_lightning::dev::DevWalletClient;
use l402_seller::{Seller, SellerError, SellerHandle, SellerOptions};
use l402_store::Store;

fn options(data_dir: &Path) -> SellerOptions {
    SellerOptions::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .data_dir(data_dir)
}

/// A buyer paying through the seller's dev wallet (its connection file is in the data dir).
fn buyer(seller: &SellerHandle, dir: &Path) -> L402Client {
    let wallet = DevWalletClient::from_data_dir(seller.data_dir()).unwrap();
    L402Client::builder()
        .wallet(Arc::new(wallet) as Arc<dyn LightningBackend>)
        .store_path(dir.join("client.db"))
        .build()
        .unwrap()
}

/// Waits until the seller's store reports the invoice of `payment_hash` settled.
async fn wait_settled(data_dir: &Path, payment_hash: &l402_core::PaymentHash) {
    let store = Store::open(data_dir.join("l402.db")).unwrap();
    let start = Instant::now();
    loop {
        let record = store.invoices().get(payment_hash).unwrap();
        if record.as_ref().is_some_and(|r| r.settled_at.is_some()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "invoice never recorded as settled: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_config_sells_the_sample_api_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seller = Seller::start(options(&data)).await.unwrap();
    assert!(seller.sample_addr().is_some());
    assert!(seller.dev_wallet_url().is_some());
    assert_eq!(seller.data_dir(), data);
    let base = format!("http://{}", seller.proxy_addr());
    let http = l402_testkit::wait::http_client();

    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let unpaid = http
        .get(format!("{base}/api/weather?city=Paris"))
        .send()
        .await
        .unwrap();
    assert_eq!(unpaid.status(), 402);
    // Priced by method: what the sample rejects is never charged (its 405 passes through),
    // what it serves is.
    for (method, path, status) in [
        (reqwest::Method::GET, "/api/similarity", 405),
        (reqwest::Method::DELETE, "/api/weather?city=Paris", 405),
        (reqwest::Method::POST, "/api/similarity", 402),
        (reqwest::Method::HEAD, "/api/weather?city=Paris", 402),
    ] {
        let r = http
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{method} {path}");
    }

    let client = buyer(&seller, dir.path());
    let paid = client
        .get(&format!("{base}/api/weather?city=Paris"))
        .await
        .unwrap();
    assert_eq!(paid.response.status(), 200);
    let receipt = paid.payment.expect("the first request pays");
    assert_eq!(receipt.amount.0, 2_000);
    let body: serde_json::Value = paid.response.json().await.unwrap();
    assert_eq!(body["city"], "Paris");
    // The challenge was recorded, and the settlement watcher marked it paid.
    wait_settled(&data, &receipt.payment_hash).await;

    // The token is reused: no second payment.
    let again = client
        .get(&format!("{base}/api/weather?city=Oslo"))
        .await
        .unwrap();
    assert_eq!(again.response.status(), 200);
    assert!(again.payment.is_none() && again.reused_token);

    let proxy = seller.proxy_addr();
    seller.shutdown().await.unwrap();
    assert!(
        !data.join("dev-wallet.json").exists(),
        "the dev wallet's connection file outlived the seller"
    );
    assert!(
        tokio::net::TcpStream::connect(proxy).await.is_err(),
        "the proxy still accepts connections after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_file_sets_prices_memo_expiry_and_free_paths() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            r#"
data_dir = "state"

[listen]
addr = "127.0.0.1:0"

[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://{sample}"
price_sat = 3
invoice_expiry_secs = 120
memo = "weather by the call"
free_paths = ["/api/weather/free"]
"#
        )
    })
    .await;
    let config = upstream.config.clone();
    let seller = Seller::start(SellerOptions::new().config_file(&config))
        .await
        .unwrap();
    // `data_dir` is relative to the file; no sample API without zero-config.
    assert_eq!(seller.data_dir(), dir.path().join("state"));
    assert!(seller.sample_addr().is_none());
    let base = format!("http://{}", seller.proxy_addr());
    let http = l402_testkit::wait::http_client();

    let url = format!("{base}/api/weather?city=Rome");
    let invoice =
        l402_testkit::wallet::challenged_invoice(http.get(&url).send().await.unwrap()).await;
    assert_eq!(invoice.amount.unwrap().0, 3_000);
    assert_eq!(invoice.description.as_deref(), Some("weather by the call"));
    assert_eq!(invoice.expiry_secs, 120);
    let free = http
        .get(format!("{base}/api/weather/free"))
        .send()
        .await
        .unwrap();
    assert_ne!(free.status(), 402);

    let paid = buyer(&seller, dir.path()).get(&url).await.unwrap();
    assert_eq!(paid.response.status(), 200);
    assert_eq!(paid.payment.unwrap().amount.0, 3_000);
    seller.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_config_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\nmemo = 5\n",
    )
    .unwrap();
    let err = Seller::start(options(&dir.path().join("data")).config_file(&config))
        .await
        .unwrap_err();
    assert!(matches!(err, SellerError::Config(_)), "{err:?}");
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("services[0].memo"), "{err}");
    // Nothing was started, so nothing was written.
    assert!(!dir.path().join("data").exists());
}

#[tokio::test]
async fn an_unreachable_dev_wallet_fails_the_start_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere").join("dev-wallet.json");
    let config = dir.path().join("l402.toml");
    std::fs::write(
        &config,
        format!(
            "[backend.dev]\nconnection_file = \"{}\"\n[[services]]\nname = \"a\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n",
            missing.display()
        ),
    )
    .unwrap();
    let err = Seller::start(options(&dir.path().join("data")).config_file(&config))
        .await
        .unwrap_err();
    assert!(matches!(err, SellerError::Backend(_)), "{err:?}");
    assert!(!err.is_bad_input());
    assert!(err.to_string().contains("nowhere"), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept: {err:?}"
    );
}
