//! Shared harness for the end-to-end tests: the real `l402` binary on loopback (its path from
//! `CARGO_BIN_EXE_l402`), through `l402_testkit`.

#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::time::Duration;

pub use l402_testkit::l402::L402Bin;
pub use l402_testkit::wait::{http_client, wait_for_status};
pub use l402_testkit::wallet::{Challenge, Payer, authorization, challenged_invoice, get_with};
pub use l402_testkit::{ChildGuard, free_addr, free_port, now_unix};

/// The binary under test.
pub fn l402() -> L402Bin {
    L402Bin::new(env!("CARGO_BIN_EXE_l402"))
}

/// Runs `l402 <args>`, its stderr in `<dir>/<name>.log`.
pub fn spawn(dir: &Path, name: &str, args: &[&str]) -> ChildGuard {
    ChildGuard::spawn(&mut l402().command(args), &dir.join(format!("{name}.log")))
}

/// Waits (20 s at most) until `GET url` answers `status`; panics with the log if `process`
/// exits first.
pub async fn wait_for(url: &str, status: u16, process: &mut ChildGuard) {
    wait_for_status(url, status, Duration::from_secs(20), Some(process)).await;
}

/// Starts `l402 serve` with `extra` args on a free port, data in `<dir>/data`; returns it once
/// `/healthz` answers, with its base URL.
pub async fn serve(dir: &Path, extra: &[&str]) -> (ChildGuard, String) {
    let addr = free_addr().to_string();
    let data = dir.join("data").display().to_string();
    let mut args = vec!["serve", "--listen", &addr, "--data-dir", &data];
    args.extend_from_slice(extra);
    let mut p = spawn(dir, "serve", &args);
    let base = format!("http://{addr}");
    wait_for(&format!("{base}/healthz"), 200, &mut p).await;
    (p, base)
}

/// The challenge a gRPC payment-required status carries (`www-authenticate` metadata).
pub fn grpc_challenge(status: &tonic::Status) -> Challenge {
    let values = status
        .metadata()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().expect("ASCII www-authenticate").to_owned());
    Challenge::grpc(status.code() as u32, status.message(), values)
}

/// The sample Greeter's `SayHello("agent")` with `token` as Aperture's `macaroon` metadata;
/// the reply's message.
pub async fn paid_say_hello(
    channel: tonic::transport::Channel,
    token: &l402_core::client::PaidToken,
) -> String {
    let mut metadata = tonic::metadata::MetadataMap::new();
    metadata.insert(
        "macaroon",
        tonic::metadata::MetadataValue::try_from(token.grpc_metadata_value().unwrap()).unwrap(),
    );
    l402_sample::greeter::say_hello(channel, "agent", metadata)
        .await
        .expect("the paid call succeeds")
        .into_inner()
        .message
}

/// Asserts `r` is a 402 whose JSON body gives `reason` (why the token was refused).
pub async fn assert_refused(r: reqwest::Response, reason: &str) {
    assert_eq!(r.status(), 402);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["reason"],
        reason
    );
}

/// With the Lightning backend down: an unpaid request to `url` answers 503 with `Retry-After`
/// and `lightning_backend_unavailable` within `within`, `token` still opens `url` (the paid
/// path never calls the backend), and `/readyz` reports not ready.
pub async fn assert_backend_down(
    base: &str,
    url: &str,
    token: &l402_core::client::PaidToken,
    within: Duration,
) {
    let started = std::time::Instant::now();
    let r = http_client().get(url).send().await.unwrap();
    assert!(
        started.elapsed() < within,
        "503 took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some(), "no Retry-After");
    // No oracle for outsiders: neither body names the node or repeats its error.
    let body = r.json::<serde_json::Value>().await.unwrap();
    assert_eq!(body["error"], "lightning_backend_unavailable");
    assert!(body.get("detail").is_none(), "{body}");
    assert_eq!(get_with(url, token).await.status(), 200);
    let ready = http_client()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let ready = ready.text().await.unwrap();
    assert!(ready.contains("backend unavailable"), "{ready}");
    for leak in ["127.0.0.1", "refused", "unreachable at", "http"] {
        assert!(!ready.contains(leak), "/readyz shows {leak:?}: {ready}");
    }
}

/// A seller configuration selling `/api/weather` of `upstream` at 2 sat (tokens valid an
/// hour), data in `<dir>/data`, listening on `listen`, with `backend` as its `[backend]`
/// section (TOML text, e.g. `kind = "nwc"\n[backend.nwc]\n…`); written to `<dir>/l402.toml`.
pub fn write_weather_config(
    dir: &Path,
    listen: std::net::SocketAddr,
    backend: &str,
    upstream: std::net::SocketAddr,
) -> std::path::PathBuf {
    let path = dir.join("l402.toml");
    let text = format!(
        "data_dir = \"{data}\"\n\n[listen]\naddr = \"{listen}\"\n\n[backend]\n{backend}\n\n\
         [[services]]\nname = \"weather\"\npath_prefix = \"/api/weather\"\n\
         upstream = \"http://{upstream}\"\nprice_sat = 2\ntoken_lifetime_secs = 3600\n\
         memo = \"l402 test: weather\"\n",
        data = dir.join("data").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `l402 <args>` as a buyer with `data_dir` (and an empty client configuration of its own
/// there, so the user's `~/.config/l402` never leaks in) and extra environment.
pub fn run(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let config = data_dir.join("client.toml");
    if !config.exists() {
        std::fs::create_dir_all(data_dir).unwrap();
        std::fs::write(&config, "").unwrap();
    }
    let mut cmd = l402().command(args);
    cmd.env("L402_DATA_DIR", data_dir)
        .env("L402_CLIENT_CONFIG", &config)
        .env_remove("L402_CRASH_AFTER_PAY_FOR_TESTS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `l402 receipts --json` of the buyer in `data`, as its rows.
pub fn receipts(data: &Path) -> Vec<serde_json::Value> {
    let out = run(data, &["receipts", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A finished command's stdout.
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A finished command's stderr.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `l402 mcp <args>` with `env`, its stderr in `log`, driven over its stdio by an rmcp client
/// (the agent host); the child (killed when dropped) and the initialized client.
pub async fn mcp_stdio(
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
    log: &Path,
) -> (
    tokio::process::Child,
    rmcp::service::RunningService<rmcp::RoleClient, ()>,
) {
    use rmcp::ServiceExt;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_l402"));
    command.arg("mcp").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).expect("creating the MCP server's log"))
        .kill_on_drop(true)
        .spawn()
        .expect("spawning l402 mcp");
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let agent = ().serve(io).await.unwrap_or_else(|e| {
        panic!(
            "l402 mcp did not initialize: {e}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        )
    });
    (child, agent)
}
