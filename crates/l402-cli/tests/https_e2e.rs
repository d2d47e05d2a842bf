//! HTTPS end to end: `l402 serve` with its TLS listener and a test CA's certificate, bought
//! from by `l402 fetch https://…` and by the MCP server's `l402_fetch` tool; a wrong CA and an
//! expired certificate each give a clear error and pay nothing.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use l402_tls::test_ca::{Issued, TestCa};

/// A running TLS seller: the process, its base URL and the CA file that vouches for it.
struct TlsSeller {
    proc_: ChildGuard,
    base: String,
    ca: PathBuf,
    data: PathBuf,
}

/// `l402 serve` on `https://localhost:<port>` selling the sample API through the embedded dev
/// wallet, with `leaf` (issued by `ca`) as its certificate.
async fn tls_seller(dir: &Path, ca: &TestCa, leaf: &Issued) -> TlsSeller {
    let files = ca.write(dir, leaf).unwrap();
    let (sample, _task) = l402_sample::spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    std::mem::forget(_task);
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let data = dir.join("data");
    let config = dir.join("l402.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n[listen]\naddr = \"{addr}\"\ntls_cert = {cert:?}\ntls_key = {key:?}\n\
             [backend]\nkind = \"dev\"\n\
             [[services]]\nname = \"weather\"\npath_prefix = \"/api/weather\"\nupstream = \"http://{sample}\"\nprice_sat = 3\n\
             [[services]]\nname = \"greeter\"\npath_prefix = \"/helloworld.Greeter\"\nupstream = \"h2c://{sample}\"\nprice_sat = 1\n",
            cert = files.cert,
            key = files.key,
        ),
    )
    .unwrap();
    let proc_ = spawn(
        dir,
        "serve",
        &["serve", "--config", config.to_str().unwrap()],
    );
    let base = format!("https://localhost:{}", addr.port());
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::Insecure)
        .unwrap()
        .build()
        .unwrap();
    let start = Instant::now();
    loop {
        let up = http.get(format!("{base}/healthz")).send().await.is_ok();
        if up && data.join("dev-wallet.json").exists() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "TLS l402 serve never came up; log:\n{}",
            proc_.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    TlsSeller {
        proc_,
        base,
        ca: files.ca,
        data,
    }
}

/// Runs `l402 <args>` as a buyer sharing the seller's data directory (its dev wallet).
fn l402(seller: &TlsSeller, args: &[&str], env: &[(&str, &str)]) -> Output {
    let config = seller.data.join("client.toml");
    if !config.exists() {
        std::fs::write(&config, "").unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_l402"));
    cmd.args(args)
        .env("L402_DATA_DIR", &seller.data)
        .env("L402_CLIENT_CONFIG", &config)
        .env_remove("SSL_CERT_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn receipts(seller: &TlsSeller) -> usize {
    let out = l402(seller, &["receipts", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_buys_over_https_with_cacert_or_ssl_cert_file_and_refuses_an_unknown_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let seller = tls_seller(dir.path(), &ca, &ca.issue(&["localhost"])).await;
    let url = format!("{}/api/weather?city=Paris", seller.base);
    let ca_path = seller.ca.to_str().unwrap();

    // Without the CA: a TLS error naming the fix, exit 5, nothing paid.
    let out = l402(&seller, &["fetch", &url], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("not signed by a trusted CA") && err.contains("--cacert"),
        "{err}"
    );
    assert_eq!(receipts(&seller), 0);

    // With --cacert: paid once, and the body is the sample API's.
    let out = l402(&seller, &["fetch", &url, "--cacert", ca_path], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}\n{}", seller.proc_.log());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Paris"));
    assert_eq!(receipts(&seller), 1);

    // SSL_CERT_FILE works like --cacert (and the held token is reused: no second payment).
    let out = l402(&seller, &["fetch", &url], &[("SSL_CERT_FILE", ca_path)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(receipts(&seller), 1);

    // A CA file that does not exist is bad input, before any network or payment.
    let out = l402(
        &seller,
        &["fetch", &url, "--cacert", "/nonexistent/ca.pem"],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_is_refused_unless_insecure_is_given_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let seller = tls_seller(dir.path(), &ca, &ca.issue_expired(&["localhost"])).await;
    let url = format!("{}/api/weather?city=Oslo", seller.base);
    let ca_path = seller.ca.to_str().unwrap();

    let out = l402(&seller, &["fetch", &url, "--cacert", ca_path], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("certificate has expired"), "{err}");
    assert_eq!(receipts(&seller), 0);

    // No environment variable or config key turns verification off.
    let out = l402(
        &seller,
        &["fetch", &url],
        &[("L402_INSECURE", "1"), ("CURL_INSECURE", "1")],
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(receipts(&seller), 0);

    let out = l402(&seller, &["fetch", "-k", &url], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("NOT verified"), "{err}");
    assert_eq!(receipts(&seller), 1);
}

/// Sends one JSON-RPC message to an MCP server over stdio.
fn send(stdin: &mut impl Write, message: serde_json::Value) {
    writeln!(stdin, "{message}").unwrap();
    stdin.flush().unwrap();
}

/// Reads stdout lines until the response with `id`.
fn response(stdout: &mut impl BufRead, id: u64) -> serde_json::Value {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "MCP server closed stdout"
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        if value["id"] == id {
            return value;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mcp_fetch_tool_buys_over_https_with_cacert() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let seller = tls_seller(dir.path(), &ca, &ca.issue(&["localhost"])).await;
    let url = format!("{}/api/weather?city=Quito", seller.base);
    let client_config = seller.data.join("client.toml");
    std::fs::write(&client_config, "").unwrap();

    let mut mcp = Command::new(env!("CARGO_BIN_EXE_l402"))
        .args(["mcp", "--cacert", seller.ca.to_str().unwrap()])
        .env("L402_DATA_DIR", &seller.data)
        // The seller is on loopback, which `l402_fetch` refuses by default.
        .env("L402_MCP_ALLOW_PRIVATE_NETWORKS", "true")
        .env("L402_CLIENT_CONFIG", &client_config)
        .env_remove("SSL_CERT_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = mcp.stdin.take().unwrap();
    let mut stdout = BufReader::new(mcp.stdout.take().unwrap());
    let answer = tokio::task::spawn_blocking(move || {
        send(
            &mut stdin,
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "https-test", "version": "1"}}}),
        );
        response(&mut stdout, 1);
        send(
            &mut stdin,
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        );
        send(
            &mut stdin,
            serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                "name": "l402_fetch", "arguments": {"url": url}}}),
        );
        let answer = response(&mut stdout, 2);
        drop(stdin);
        answer
    })
    .await
    .unwrap();
    let _ = mcp.kill();
    let _ = mcp.wait();
    let result = &answer["result"];
    assert_eq!(result["isError"], false, "{answer}");
    let structured = &result["structuredContent"];
    assert_eq!(structured["status"], 200, "{answer}");
    assert_eq!(structured["payment"]["paid"], true, "{answer}");
    assert_eq!(structured["payment"]["amount_sat"], 3, "{answer}");
    assert!(
        structured["body"].as_str().unwrap().contains("Quito"),
        "{answer}"
    );
    assert_eq!(receipts(&seller), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_grpc_layer_buys_over_tls_and_refuses_an_unknown_ca() {
    use std::sync::Arc;

    use l402_client::grpc::{L402GrpcLayer, channel};
    use l402_lightning::LightningBackend;
    use l402_lightning::dev::DevWalletClient;
    use l402_tls::Trust;
    use tonic::metadata::MetadataMap;
    use tower::ServiceBuilder;

    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let seller = tls_seller(dir.path(), &ca, &ca.issue(&["localhost"])).await;
    let wallet = DevWalletClient::from_data_dir(&seller.data).unwrap();
    let client = l402_client::L402Client::builder()
        .wallet(Arc::new(wallet) as Arc<dyn LightningBackend>)
        .store_path(dir.path().join("client.db"))
        .build()
        .unwrap();

    // The web PKI does not know the test CA: the call fails and nothing is paid.
    let untrusted = ServiceBuilder::new()
        .layer(L402GrpcLayer::try_new(client.clone(), &seller.base).unwrap())
        .service(channel(&seller.base, &Trust::WebPki).unwrap());
    let err = l402_sample::greeter::say_hello(untrusted, "agent", MetadataMap::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}");
    assert!(client.receipts(10).await.unwrap().is_empty());

    let trusted = ServiceBuilder::new()
        .layer(L402GrpcLayer::try_new(client.clone(), &seller.base).unwrap())
        .service(channel(&seller.base, &Trust::CaFile(seller.ca.clone())).unwrap());
    let reply = l402_sample::greeter::say_hello(trusted, "agent", MetadataMap::new())
        .await
        .unwrap();
    assert!(!reply.into_inner().message.is_empty());
    let receipts = client.receipts(10).await.unwrap();
    assert_eq!(receipts.len(), 1, "{}", seller.proc_.log());
    assert_eq!(receipts[0].amount, l402_core::Msat::from_sat(1));
}
