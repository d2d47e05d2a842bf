//! The whole L402 flow through `l402 serve` with `[backend] kind = "nwc"` (the URI from an
//! environment variable), against a real Nostr relay on loopback and a NIP-47 wallet service
//! over a dev wallet (`l402_testkit::nwc`): paid by an `NwcBackend`, then by `l402 fetch` with
//! an `nwc` wallet. The backend itself is proven in l402-lightning's tests/nwc_relay.rs.

mod common;

use std::time::Instant;

use common::*;
use l402_lightning::{LightningBackend, Msat};
use l402_testkit::nwc::{NIP44_WALLET, world};
use nostr::nips::nip47::NostrWalletConnectUri;

#[tokio::test]
async fn l402_flow_through_l402_serve_with_an_nwc_backend() {
    let started = Instant::now();
    let w = world(NIP44_WALLET).await;
    let dir = tempfile::tempdir().unwrap();
    let (sample, _sample_task) = l402_sample::spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = free_addr();
    let config = write_weather_config(
        dir.path(),
        addr,
        "kind = \"nwc\"\n[backend.nwc]\nuri = { env = \"L402_TEST_NWC_URI\" }",
        sample,
    );
    let seller_uri = w.service.connect(&w.relay_url);
    let mut command = l402().command(["serve", "--config"]);
    command.arg(&config).env("L402_TEST_NWC_URI", &seller_uri);
    let mut serve = ChildGuard::spawn(&mut command, &dir.path().join("serve.log"));
    let base = format!("http://{addr}");
    wait_for(&format!("{base}/readyz"), 200, &mut serve).await;
    let secret = NostrWalletConnectUri::parse(&seller_uri)
        .unwrap()
        .secret
        .to_secret_hex();
    assert!(!serve.log().contains(&secret), "the URI's secret is logged");

    // 1. No credential: 402 with an invoice of the wallet behind the NWC connection.
    let url = format!("{base}/api/weather?city=Paris");
    let http = http_client();
    let first = http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 402, "log:\n{}", serve.log());

    // 2. The client checks the invoice before paying, then the payer (another connection to
    //    the same wallet service) pays it over NWC.
    let paid = Payer::new(&w.payer)
        .network(w.payer.node_info().await.unwrap().network)
        .max_amount(Msat::from_sat(10))
        .pay(&Challenge::of_response(&first))
        .await;
    assert_eq!(paid.plan.amount, Msat::from_sat(2));
    assert_eq!(
        paid.plan.invoice.payee_pubkey_hex,
        w.service.wallet.pubkey_hex()
    );

    // 3. Retried with the credential: 200 from the sample API.
    let ok = get_with(&url, &paid.token).await;
    assert_eq!(ok.status(), 200, "log:\n{}", serve.log());
    assert!(ok.text().await.unwrap().contains("Paris"));

    // 4. `l402 fetch` with an nwc wallet (URI in the environment) pays by itself.
    let fetch_uri = w.service.connect(&w.relay_url);
    let mut fetch = l402().command(["fetch", &format!("{base}/api/weather?city=Oslo")]);
    fetch
        .env("L402_DATA_DIR", dir.path().join("buyer"))
        .env("L402_WALLET", "nwc")
        .env("L402_NWC_URI", fetch_uri)
        .env("XDG_CONFIG_HOME", dir.path().join("config-home"));
    let out = tokio::task::spawn_blocking(move || fetch.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("Oslo"),
        "l402 fetch: {}\nstdout: {stdout}\nstderr: {stderr}\nserve log:\n{}",
        out.status,
        serve.log()
    );
    println!("L402 flow over NWC passed in {:?}", started.elapsed());
}
