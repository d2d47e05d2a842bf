//! The path-normalisation tier: `l402 serve` in front of real upstreams that normalise paths
//! their own way, each with a priced handler (`/api/weather…`) and a free one (`/api/free/…`).
//! The service is free by default with a priced route and a free path: the shape in which a
//! path priced as one thing and served as another turns into free access. For every tricky
//! spelling, the test asks the upstream directly (what it would serve) and through `l402 serve`
//! (what an unpaid client gets), prints both, and fails if any unpaid request reaches a priced
//! handler; then it pays once and checks the priced handler is reached with the token (under
//! spellings that normalise to it).
//!
//! `scripts/tiers/paths.sh` starts the upstreams (nginx from Debian, Python's `http.server`,
//! Go's `net/http`) and runs this file with `L402_PATHS_UPSTREAMS` set to
//! `name=http://127.0.0.1:PORT` entries separated by spaces. The test is `#[ignore]`d (the
//! plain `cargo test` has no such upstreams); run without the variable it fails, naming it.

mod common;

use common::*;
use l402_lightning::dev::DevWalletClient;
use l402_testkit::raw_http::raw_get;
use l402_testkit::require_env;

/// Request targets written as sent. Each is either a spelling of the priced `/api/weather`
/// (directly, or through the free `/api/free/` prefix) or a free path.
const TRICKY: &[&str] = &[
    "/api/weather",
    "/api/weather?city=Rome",
    "/api/%77eather",
    "/api/%77%65%61%74%68%65%72",
    "/%61pi/weather",
    "/api//weather",
    "//api/weather",
    "/api/./weather",
    "/api/weather/",
    "/api/weather/.",
    "/api/weather;x=1",
    "/api/weather%3b",
    "/api/weather%2f",
    "/api/free/../weather",
    "/api/free/x/../../weather",
    "/api/free/%2e%2e/weather",
    "/api/free/.%2e/weather",
    "/api/free/%2E%2E/%2e%2e/api/weather",
    "/api/free/..%2fweather",
    "/api/free/..%2Fweather",
    "/api/free/%2e%2e%2fweather",
    "/api/free/..%5cweather",
    "/api/free/..\\weather",
    "/api/free/..;/weather",
    "/api/free;/../weather",
    "/api/free/%252e%252e/weather",
    "/api/free/..%00/weather",
    "/api/free/..%c0%af../weather",
    "/API/WEATHER",
    "/api/free/x",
    "/api/free/%78",
];

/// The `l402 serve` configuration for one upstream.
fn config(upstream: &str) -> String {
    format!(
        r#"
[[services]]
name = "api"
upstream = "{upstream}"
price_sat = 0
free_paths = ["/api/free/*"]

[[services.routes]]
path = "/api/weather/*"
price_sat = 5
"#
    )
}

/// `200 priced /api/weather`, `402`, `400`…: the status, then the handler and the path the
/// upstream saw when it answered itself (its body's first line).
fn describe(status: u16, body: &str) -> String {
    let first = body.lines().next().unwrap_or("");
    let from_upstream = ["priced ", "free ", "none "]
        .iter()
        .any(|kind| first.starts_with(kind));
    if from_upstream {
        format!("{status} {first}")
    } else {
        status.to_string()
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the upstreams of scripts/tiers/paths.sh"]
async fn no_unpaid_request_reaches_a_priced_handler() {
    let upstreams = require_env("L402_PATHS_UPSTREAMS", "scripts/tiers/paths.sh");
    let mut violations = Vec::new();
    let mut tested = 0;
    for entry in upstreams.split_whitespace() {
        let (name, url) = entry
            .split_once('=')
            .unwrap_or_else(|| panic!("L402_PATHS_UPSTREAMS entry `{entry}` is not name=url"));
        let upstream_addr = url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("`{url}` is not http://IP:PORT"));
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("l402.toml");
        std::fs::write(&config_path, config(url)).unwrap();
        let config_arg = config_path.display().to_string();
        let (_serve, base) = serve(dir.path(), &["--config", &config_arg]).await;
        let proxy_addr = base.strip_prefix("http://").unwrap().parse().unwrap();

        println!(
            "\n{name} ({url}): request target | upstream directly | through l402 serve, unpaid"
        );
        let mut other_spellings_priced = 0;
        for target in TRICKY {
            let direct = raw_get(upstream_addr, "127.0.0.1", target, &[]).await;
            let proxied = raw_get(proxy_addr, "127.0.0.1", target, &[]).await;
            let (direct, proxied_text) = (
                describe(direct.status, &direct.body),
                describe(proxied.status, &proxied.body),
            );
            println!("  {target:<40} | {direct:<40} | {proxied_text}");
            if direct.contains(" priced ") && !target.starts_with("/api/weather") {
                other_spellings_priced += 1;
            }
            if proxied_text.contains(" priced ") {
                violations.push(format!("{name}: {target} reached {proxied_text} unpaid"));
            }
            tested += 1;
        }

        // The table means something for this upstream: it serves other spellings as priced.
        assert!(
            other_spellings_priced > 0,
            "{name} served no other spelling of /api/weather as priced: is it the right upstream?"
        );

        // The priced handler is reachable: pay once, then the token opens the route under any
        // spelling that normalises to it.
        let wallet = DevWalletClient::from_data_dir(&dir.path().join("data")).unwrap();
        let token = Payer::new(&wallet)
            .buy(&format!("{base}/api/weather"))
            .await
            .token;
        let credential = format!("Authorization: {}", authorization(&token));
        for target in ["/api/weather", "/api/%77eather", "/api/free/../weather"] {
            let paid = raw_get(proxy_addr, "127.0.0.1", target, &[&credential]).await;
            let paid = describe(paid.status, &paid.body);
            println!("  {target:<40} | paid                                     | {paid}");
            if !paid.starts_with("200 priced /api/weather") {
                violations.push(format!("{name}: paid {target} answered {paid}"));
            }
        }
    }
    assert!(tested > 0, "L402_PATHS_UPSTREAMS names no upstream");
    assert!(
        violations.is_empty(),
        "unpaid requests reached a priced handler, or paid ones did not:\n{}",
        violations.join("\n")
    );
}
