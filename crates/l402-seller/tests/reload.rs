//! A running seller takes a new configuration file (what SIGHUP and `POST /api/v1/reload` do):
//! new prices and services for the next request, tokens already sold keep working, counters
//! carry over, and a file that does not pass, or that changes what only a restart can, is
//! refused with the reason while the old configuration keeps serving.

use std::net::SocketAddr;
use std::path::Path;

use l402_admin_client::{
    AdminClient, AdminClientError, FULL_MACAROON_FILE, Method, READ_ONLY_MACAROON_FILE,
};
use l402_lightning::dev::DevWalletClient;
use l402_seller::{Seller, SellerError, SellerHandle, SellerOptions};
use l402_testkit::sample::sample_upstream;
use l402_testkit::wallet::{Payer, challenged_invoice, get_with};

/// The seller's file: weather at `weather_sat`, and the similarity route when `similarity`.
fn config_text(sample: SocketAddr, weather_sat: u64, similarity: bool) -> String {
    let mut text = format!(
        r#"
data_dir = "state"

[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://{sample}"
price_sat = {weather_sat}
"#
    );
    if similarity {
        text.push_str(&format!(
            r#"
[[services]]
name = "similarity"
path_prefix = "/api/similarity"
upstream = "http://{sample}"
price_sat = 7
"#
        ));
    }
    text
}

async fn price_msat(url: &str) -> u64 {
    let response = l402_testkit::wait::http_client()
        .get(url)
        .send()
        .await
        .unwrap();
    challenged_invoice(response).await.amount.unwrap().0
}

async fn metric(seller: &SellerHandle, key: &str) -> f64 {
    let text = l402_testkit::wait::http_client()
        .get(format!("http://{}/metrics", seller.admin_addr().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in\n{text}"))
}

/// The seller of `config`, with its admin listener.
async fn start(config: &Path) -> SellerHandle {
    Seller::start(
        SellerOptions::new()
            .config_file(config)
            .listen("127.0.0.1:0".parse().unwrap())
            .admin_listen("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap()
}

fn admin(seller: &SellerHandle, file: &str) -> AdminClient {
    let base = format!("http://{}", seller.admin_addr().unwrap());
    AdminClient::new(&base, &seller.data_dir().join(file)).unwrap()
}

/// An error with its sources, as the binary prints it.
fn anyhow_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        message = format!("{message}: {e}");
        source = e.source();
    }
    message
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_changes_prices_and_services_and_refuses_what_does_not_pass() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |s| config_text(s, 2, false)).await;
    let sample = upstream.addr;
    let seller = start(&upstream.config).await;
    let base = format!("http://{}", seller.proxy_addr());
    let weather = format!("{base}/api/weather?city=Oslo");
    let similarity = format!("{base}/api/similarity");

    assert_eq!(price_msat(&weather).await, 2_000);
    assert_eq!(
        l402_testkit::wait::http_client()
            .post(&similarity)
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "not sold yet"
    );
    let wallet = DevWalletClient::from_data_dir(seller.data_dir()).unwrap();
    let paid = Payer::new(&wallet).buy(&weather).await;
    assert_eq!(get_with(&weather, &paid.token).await.status(), 200);
    let challenged = r#"l402_requests_total{service="weather",route="*",outcome="challenged"}"#;
    let before = metric(&seller, challenged).await;
    assert_eq!(before, 2.0);

    // A new service, the old one unchanged: in force for the next request; the token sold
    // before still opens its service; counters carried over.
    write(&upstream.config, &config_text(sample, 2, true));
    let report = seller.reload_from_file().await.unwrap();
    assert_eq!(report.services, 2);
    let unpaid = l402_testkit::wait::http_client()
        .post(&similarity)
        .send()
        .await
        .unwrap();
    assert_eq!(challenged_invoice(unpaid).await.amount.unwrap().0, 7_000);
    assert_eq!(get_with(&weather, &paid.token).await.status(), 200);
    assert_eq!(price_msat(&weather).await, 2_000);
    assert_eq!(metric(&seller, challenged).await, before + 1.0);

    // A price rise: new challenges ask the new price, and a token sold at the old price no
    // longer opens the dearer route (its `weather_max_price_msat` caveat binds it to what it
    // paid; docs/OPERATIONS.md says so).
    write(&upstream.config, &config_text(sample, 5, true));
    seller.reload_from_file().await.unwrap();
    assert_eq!(price_msat(&weather).await, 5_000);
    assert_eq!(get_with(&weather, &paid.token).await.status(), 402);

    // A broken file: refused with the parser's reason; the running configuration stays.
    write(&upstream.config, "[[services]\nname = ");
    let err = seller.reload_from_file().await.unwrap_err();
    assert!(matches!(err, SellerError::Config(_)), "{err:?}");
    assert!(err.is_bad_input());
    assert_eq!(price_msat(&weather).await, 5_000);
    // A file that parses but does not pass the checks: refused by the same checks as at
    // start, naming the problem.
    let twice = config_text(sample, 5, true).replace("\"similarity\"", "\"weather\"");
    write(&upstream.config, &twice);
    let err = seller.reload_from_file().await.unwrap_err();
    let message = anyhow_chain(&err);
    assert!(message.contains("duplicate service name"), "{message}");
    assert_eq!(price_msat(&weather).await, 5_000);
    // What only a restart can change: refused by name, nothing changed.
    write(
        &upstream.config,
        &config_text(sample, 9, true).replace("data_dir = \"state\"", "data_dir = \"other\""),
    );
    let err = seller.reload_from_file().await.unwrap_err();
    assert!(
        matches!(err, SellerError::NeedsRestart("data_dir")),
        "{err:?}"
    );
    assert!(err.to_string().contains("restart"), "{err}");
    assert_eq!(price_msat(&weather).await, 5_000);

    // Through the admin API: read-only refused; the full macaroon reloads and says what.
    write(&upstream.config, &config_text(sample, 3, false));
    let reader = admin(&seller, READ_ONLY_MACAROON_FILE);
    match reader.call(Method::Post, "/api/v1/reload", None).await {
        Err(AdminClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "read_only"));
        }
        other => panic!("a read-only macaroon must not reload: {other:?}"),
    }
    assert_eq!(price_msat(&weather).await, 5_000);
    let full = admin(&seller, FULL_MACAROON_FILE);
    let answer = full
        .call(Method::Post, "/api/v1/reload", None)
        .await
        .unwrap();
    assert_eq!(answer["reloaded"], true);
    assert_eq!(answer["services"], 1);
    assert_eq!(price_msat(&weather).await, 3_000);
    let services = full
        .call(Method::Get, "/api/v1/services", None)
        .await
        .unwrap();
    let names: Vec<&str> = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["weather"], "{services}");
    assert_eq!(
        services["services"][0]["protocols"],
        serde_json::json!(["l402"]),
        "{services}"
    );
    // A refused reload through the API: 409 with the reason.
    write(&upstream.config, "not toml at all = = =");
    match full.call(Method::Post, "/api/v1/reload", None).await {
        Err(AdminClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (409, "reload_refused"));
        }
        other => panic!("a broken file must be refused: {other:?}"),
    }
    assert_eq!(price_msat(&weather).await, 3_000);
    seller.shutdown().await.unwrap();
}

/// The API call's error status and code.
async fn refused(call: Result<serde_json::Value, AdminClientError>) -> (u16, String) {
    match call {
        Err(AdminClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn services_are_put_and_deleted_live_through_the_admin_api_and_the_file_keeps_its_comments() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |s| {
        format!("# written by hand\n{}", config_text(s, 2, false))
    })
    .await;
    let sample = upstream.addr;
    let seller = start(&upstream.config).await;
    let base = format!("http://{}", seller.proxy_addr());
    let weather = format!("{base}/api/weather?city=Quito");
    let similarity = format!("{base}/api/similarity");
    let post_similarity = || async {
        l402_testkit::wait::http_client()
            .post(&similarity)
            .send()
            .await
            .unwrap()
    };
    let full = admin(&seller, FULL_MACAROON_FILE);
    let reader = admin(&seller, READ_ONLY_MACAROON_FILE);
    let maps = serde_json::json!({
        "path_prefix": "/api/similarity",
        "upstream": format!("http://{sample}"),
        "price_sat": 8,
        "routes": [{"methods": ["GET"], "path": "/api/similarity", "free": true}],
    });

    assert_eq!(
        refused(
            reader
                .call(Method::Put, "/api/v1/services/maps", Some(&maps))
                .await
        )
        .await,
        (403, "read_only".into())
    );
    let added = full
        .call(Method::Put, "/api/v1/services/maps", Some(&maps))
        .await
        .unwrap();
    assert_eq!(added["services"], 2);
    assert_eq!(
        challenged_invoice(post_similarity().await)
            .await
            .amount
            .unwrap()
            .0,
        8_000
    );
    let file = std::fs::read_to_string(&upstream.config).unwrap();
    assert!(file.starts_with("# written by hand\n"), "{file}");
    assert!(file.contains("name = \"maps\""), "{file}");
    assert!(file.contains("[[services.routes]]"), "{file}");

    // Changing one: the new price for the next request.
    let weather_terms = serde_json::json!({
        "name": "weather", "path_prefix": "/api/weather",
        "upstream": format!("http://{sample}"), "price_sat": 4,
    });
    full.call(
        Method::Put,
        "/api/v1/services/weather",
        Some(&weather_terms),
    )
    .await
    .unwrap();
    assert_eq!(price_msat(&weather).await, 4_000);

    // A service that does not pass: 400 with the checks' reason; file and prices unchanged.
    let before = std::fs::read_to_string(&upstream.config).unwrap();
    let broken = serde_json::json!({"upstream": "not a url", "price_sat": 4});
    let (status, code) = refused(
        full.call(Method::Put, "/api/v1/services/weather", Some(&broken))
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "invalid_service"));
    let mismatch = serde_json::json!({"name": "other", "upstream": "http://x"});
    let (status, _) = refused(
        full.call(Method::Put, "/api/v1/services/weather", Some(&mismatch))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(std::fs::read_to_string(&upstream.config).unwrap(), before);
    assert_eq!(price_msat(&weather).await, 4_000);

    // Deleting: gone from the proxy and the file; deleting again is 404.
    full.call(Method::Delete, "/api/v1/services/maps", None)
        .await
        .unwrap();
    assert_eq!(post_similarity().await.status(), 404);
    assert!(
        !std::fs::read_to_string(&upstream.config)
            .unwrap()
            .contains("maps")
    );
    assert_eq!(
        refused(
            full.call(Method::Delete, "/api/v1/services/maps", None)
                .await
        )
        .await,
        (404, "not_found".into())
    );
    // SIGHUP-style reload of the file the API wrote gives the same configuration.
    let report = seller.reload_from_file().await.unwrap();
    assert_eq!(report.services, 1);
    assert_eq!(price_msat(&weather).await, 4_000);
    seller.shutdown().await.unwrap();

    // Zero-config mode has no file to change: 409 with a clear code.
    let zero = Seller::start(
        SellerOptions::new()
            .listen("127.0.0.1:0".parse().unwrap())
            .admin_listen("127.0.0.1:0".parse().unwrap())
            .data_dir(dir.path().join("zero")),
    )
    .await
    .unwrap();
    let (status, code) = refused(
        admin(&zero, FULL_MACAROON_FILE)
            .call(Method::Put, "/api/v1/services/maps", Some(&maps))
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "no_config_file"));
    zero.shutdown().await.unwrap();
}
