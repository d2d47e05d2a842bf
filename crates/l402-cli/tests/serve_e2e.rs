//! `l402 serve` end to end, as a new user runs it: the real binary on loopback, paid through
//! the dev wallet's loopback API from "another process" (this test).

mod common;

use l402_testkit::sample::sample_upstream;
use std::time::{Duration, Instant};

use common::*;
use l402_lightning::dev::DevWalletClient;
use l402_testkit::wait::wait_for_file;
use tonic::metadata::MetadataMap;

#[tokio::test(flavor = "multi_thread")]
async fn zero_config_http_and_grpc_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proc_, base) = serve(dir.path(), &[]).await;
    wait_for(&format!("{base}/readyz"), 200, &mut proc_).await;
    let wallet = DevWalletClient::from_data_dir(&dir.path().join("data")).unwrap();

    // HTTP: 402 → pay → 200, and the token is reused with no new payment.
    let weather = format!("{base}/api/weather?city=Paris");
    let token = Payer::new(&wallet).buy(&weather).await.token;
    let r = get_with(&weather, &token).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["city"], "Paris");
    assert_eq!(
        get_with(&format!("{base}/api/weather?city=Oslo"), &token)
            .await
            .status(),
        200
    );

    // A token for one service does not open another.
    assert_refused(
        http_client()
            .post(format!("{base}/api/similarity"))
            .header("authorization", authorization(&token))
            .json(&serde_json::json!({"a": [1.0, 0.0], "b": [1.0, 1.0]}))
            .send()
            .await
            .unwrap(),
        "wrong_service",
    )
    .await;

    // gRPC through the proxy (h2c): Trailers-Only payment required, pay, retry with the
    // `macaroon` metadata Aperture's clients send.
    let channel = tonic::transport::Endpoint::from_shared(base.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = l402_sample::greeter::say_hello(channel.clone(), "agent", MetadataMap::new())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Internal);
    assert_eq!(status.message(), "payment required");
    let challenge = grpc_challenge(&status);
    assert_eq!(challenge.www_authenticate.len(), 2);
    let grpc_token = Payer::new(&wallet).pay(&challenge).await.token;
    assert_eq!(
        paid_say_hello(channel, &grpc_token).await,
        "Hello, agent! (paid with L402)"
    );

    // SIGTERM drains and exits 0.
    assert_eq!(
        proc_.terminate(Duration::from_secs(10)),
        Some(0),
        "log:\n{}",
        proc_.log()
    );

    // Every request has its access line, as the fmt layer writes the event: the time, the
    // level, the message and the fields.
    let log = proc_.log();
    let paid = log
        .lines()
        .filter(|line| {
            line.contains(
                " INFO request handled method=GET path=\"/api/weather\" client=127.0.0.1 service=\"weather\" status=200 latency_ms=",
            )
        })
        .collect::<Vec<_>>();
    assert!(paid.len() >= 2, "the paid weather requests in:\n{log}");
    for line in paid {
        let (time, rest) = line.split_at(28);
        assert!(
            time.len() == 28 && time.ends_with("Z ") && time.as_bytes()[10] == b'T',
            "{line}"
        );
        assert!(rest.starts_with(" INFO request handled "), "{line}");
        let latency = rest.rsplit_once("latency_ms=").unwrap().1;
        assert!(latency.parse::<f64>().is_ok_and(|ms| ms >= 0.0), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn config_features_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            r#"
[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://{sample}"
price_sat = 3
token_lifetime_secs = 2
invoice_expiry_secs = 120
memo = "weather by the call"
free_paths = ["/api/weather/free"]
freebies_per_ip = 1

[[services]]
name = "similarity"
path_prefix = "/api/similarity"
upstream = "http://{sample}"
price_sat = 7
capabilities = ["compute"]

[[services.routes]]
methods = ["GET"]
path = "/api/similarity"
free = true

[[services.routes]]
methods = ["POST"]
path = "/api/similarity"
price_sat = 9
capabilities_required = ["admin"]
"#
        )
    })
    .await;
    let config = upstream.config.clone();

    // --check accepts it; a typo is refused with file, line and key, exit code 2.
    let ok = serve_check(&config);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[listen]\naddr = \"127.0.0.1:1\"\nbogus = 1\n").unwrap();
    let err = serve_check_refuses(&bad);
    assert!(
        err.contains("bad.toml") && err.contains(":3") && err.contains("bogus"),
        "{err}"
    );

    let config_s = config.display().to_string();
    let (_proc, base) = serve(dir.path(), &["--config", &config_s]).await;
    let wallet = DevWalletClient::from_data_dir(&dir.path().join("data")).unwrap();
    let http = http_client();

    // Freebies: the first unpaid request per IP passes, the next is challenged.
    let url = format!("{base}/api/weather?city=Rome");
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    // Invoice: price, memo and expiry from the config.
    let invoice = challenged_invoice(http.get(&url).send().await.unwrap()).await;
    assert_eq!(invoice.amount.unwrap().0, 3_000);
    assert_eq!(invoice.description.as_deref(), Some("weather by the call"));
    assert_eq!(invoice.expiry_secs, 120);

    // Free path: never challenged (the upstream answers 404 for it; what matters is no 402).
    assert_ne!(
        http.get(format!("{base}/api/weather/free"))
            .send()
            .await
            .unwrap()
            .status(),
        402
    );

    // Token lifetime: valid now, expired (fresh 402 naming the reason) after 2 s.
    let token = Payer::new(&wallet).buy(&url).await.token;
    assert_eq!(get_with(&url, &token).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_refused(get_with(&url, &token).await, "expired").await;

    // Per-route rules: GET free, POST priced 9 sat and needing a capability the service never
    // grants: the route's challenge mints it, so the paid token gets in (a token lacking it
    // would be refused: capabilities are enforced).
    let sim = format!("{base}/api/similarity");
    assert_ne!(http.get(&sim).send().await.unwrap().status(), 402);
    let r = http
        .post(&sim)
        .json(&serde_json::json!({"a": [1.0], "b": [2.0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 402);
    let challenge = Challenge::of_response(&r);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["price_sat"], 9);
    let token = Payer::new(&wallet).pay(&challenge).await.token;
    let paid = http
        .post(&sim)
        .header("authorization", authorization(&token))
        .json(&serde_json::json!({"a": [1.0], "b": [2.0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200, "{:?}", paid.text().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn lightning_backend_killed_mid_run() {
    let dir = tempfile::tempdir().unwrap();
    let wallet_dir = dir.path().join("wallet");
    let wallet_dir_s = wallet_dir.display().to_string();
    let port = free_port().to_string();
    let wallet_args = [
        "wallet",
        "serve",
        "--data-dir",
        &wallet_dir_s,
        "--port",
        &port,
    ];
    let mut wallet_proc = spawn(dir.path(), "wallet", &wallet_args);
    let conn = wallet_dir.join("dev-wallet.json");
    wait_for_file(&conn, Duration::from_secs(20));

    let upstream = sample_upstream(dir.path(), |sample| format!(
            "[backend]\nkind = \"dev\"\n[backend.dev]\nconnection_file = \"{}\"\n[[services]]\nname = \"weather\"\npath_prefix = \"/api\"\nupstream = \"http://{sample}\"\nprice_sat = 2\n",
            conn.display()
        )).await;
    let config = upstream.config.clone();
    let config_s = config.display().to_string();
    let (mut serve_proc, base) = serve(dir.path(), &["--config", &config_s]).await;
    let wallet = DevWalletClient::from_data_dir(&wallet_dir).unwrap();
    let url = format!("{base}/api/weather?city=Lima");
    let token = Payer::new(&wallet).buy(&url).await.token;
    assert_eq!(get_with(&url, &token).await.status(), 200);

    // Kill the backend: new challenges get 503 + Retry-After quickly, paid tokens keep working
    // (the paid path never calls the backend), readiness reports it.
    wallet_proc.kill();
    assert_backend_down(&base, &url, &token, Duration::from_secs(6)).await;

    // Restart it: the proxy recovers by itself, and the process never exited.
    let _wallet_again = spawn(dir.path(), "wallet2", &wallet_args);
    wait_for(&format!("{base}/readyz"), 200, &mut serve_proc).await;
    assert_eq!(http_client().get(&url).send().await.unwrap().status(), 402);
    let fresh = Payer::new(&wallet).buy(&url).await.token;
    assert_eq!(get_with(&url, &fresh).await.status(), 200);
}

#[test]
fn demo_runs_the_whole_flow_and_exits_0() {
    let out = l402().command(["demo"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "402 Payment Required",
        "grpc-status 13",
        "Hello, agent! (paid with L402)",
        "(no new payment)",
        "reused its cached token",
        "402 with a Payment session challenge: 1 sat per token, deposit 200 sat",
        ") to the refund invoice",
        "in 5 payments for 9 paid calls",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // The metered call adds up to the sat: deposit = tokens used + refund.
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("deposit 200 sat = "))
        .unwrap_or_else(|| panic!("no deposit line in:\n{stdout}"));
    assert!(line.ends_with('✓'), "{line}");
    let used: u64 = line
        .split(" tokens")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    for needle in [
        format!("total {} sat in 5 payments", 10 + used),
        format!("refund {} sat (succeeded)", 200 - used),
    ] {
        assert!(stdout.contains(&needle), "missing {needle:?} in:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_a_token_takes_effect_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    let wallet = DevWalletClient::from_data_dir(&data).unwrap();
    let url = format!("{base}/api/weather?city=Kyiv");
    let token = Payer::new(&wallet).buy(&url).await.token;
    let r = get_with(&url, &token).await;
    assert_eq!(r.status(), 200);
    // The upstream-facing token id is what an operator revokes.
    let revoke = |extra: &[&str]| {
        let mut cmd = l402().command(["revoke"]);
        cmd.args(extra).arg("--data-dir").arg(&data);
        cmd.output().unwrap()
    };
    let id = {
        let mac = l402_core::macaroon::Macaroon::decode_v2(&token.macaroon).unwrap();
        l402_core::identifier::Identifier::decode(mac.identifier())
            .unwrap()
            .token_id
            .to_hex()
    };
    let out = revoke(&[&id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    loop {
        let r = get_with(&url, &token).await;
        if r.status() == 402 {
            assert_eq!(
                r.json::<serde_json::Value>().await.unwrap()["reason"],
                "revoked"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "revocation not applied within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(revoke(&[&id, "--undo"]).status.success());
    let started = Instant::now();
    while get_with(&url, &token).await.status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "un-revocation not applied within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(revoke(&["not-hex"]).status.code(), Some(2));
}

#[test]
fn check_refuses_an_invalid_rate_limit_or_trusted_proxy_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.toml");
    let text = "[listen]\naddr = \"127.0.0.1:0\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n\n\
                [clients]\nrate_limit = { requests = 0, per = \"1s\" }\n\n\
                [[services]]\nname = \"weather\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 1\n\
                rate_limit = { requests = 10, per = \"250ms\" }\n";
    std::fs::write(&path, text).unwrap();
    let err = serve_check_refuses(&path);
    assert!(
        err.contains("flood.toml:6") && err.contains("clients.rate_limit.requests"),
        "{err}"
    );
    assert!(
        err.contains("flood.toml:12")
            && err.contains("services[0].rate_limit.per")
            && err.contains("whole number of seconds"),
        "{err}"
    );

    std::fs::write(&path, "[listen]\ntrusted_proxies = [\"10.0.0.0/33\"]\n").unwrap();
    let err = serve_check_refuses(&path);
    assert!(
        err.contains("flood.toml:2") && err.contains("10.0.0.0/33") && err.contains("prefix"),
        "{err}"
    );
}

/// `l402 serve --check --config <config>`.
fn serve_check(config: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_l402"))
        .args(["serve", "--check", "--config"])
        .arg(config)
        .output()
        .unwrap()
}

/// `l402 serve --check --config <config>`, which must refuse it (exit code 2); its stderr.
fn serve_check_refuses(config: &std::path::Path) -> String {
    let out = serve_check(config);
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}
