//! The metrics tier: `l402 serve --admin-listen` sells the sample API, a buyer pays and uses
//! a token, then Prometheus's own tools judge `/metrics`: `promtool check metrics` (format and
//! naming lint) must pass, and a real Prometheus server scraping the admin listener must see
//! the paid request.
//!
//! `scripts/tiers/metrics.sh` installs Debian's `prometheus` package (both programs) and runs
//! this file with `L402_PROMTOOL` and `L402_PROMETHEUS` set. The test is `#[ignore]`d (the
//! plain `cargo test` has no Prometheus); run without the variables it fails, naming them.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use l402_lightning::dev::DevWalletClient;
use l402_testkit::prometheus::Prometheus;
use l402_testkit::require_env;

/// Runs `promtool check metrics` on `text`; panics with its output unless it passes.
fn promtool_check(promtool: &str, text: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {promtool}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Prometheus: run by scripts/tiers/metrics.sh"]
async fn promtool_accepts_the_metrics_and_prometheus_scrapes_them() {
    let promtool = require_env("L402_PROMTOOL", "scripts/tiers/metrics.sh");
    let prometheus_bin = require_env("L402_PROMETHEUS", "scripts/tiers/metrics.sh");
    let dir = tempfile::tempdir().unwrap();
    let admin = free_addr().to_string();
    let (_serve, base) = serve(dir.path(), &["--admin-listen", &admin]).await;

    // One paid request, one unpaid.
    let url = format!("{base}/api/weather?city=Paris");
    let wallet = DevWalletClient::from_data_dir(&dir.path().join("data")).unwrap();
    let paid = Payer::new(&wallet).buy(&url).await;
    assert_eq!(get_with(&url, &paid.token).await.status(), 200);

    let text = http_client()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    promtool_check(&promtool, &text);
    println!(
        "PASS promtool check metrics ({} lines)",
        text.lines().count()
    );

    // A real Prometheus scraping the admin listener every second.
    let mut prometheus =
        Prometheus::start(&prometheus_bin, dir.path(), std::slice::from_ref(&admin));
    let limit = Duration::from_secs(60);
    prometheus
        .wait_for(r#"up{job="l402"}"#, |v| v == Some(1.0), limit)
        .await;
    let paid_expr = r#"sum(l402_requests_total{job="l402",service="weather",outcome="paid"})"#;
    prometheus
        .wait_for(paid_expr, |v| v == Some(1.0), limit)
        .await;
    println!("PASS Prometheus scraped the admin listener: up=1, paid requests=1");
    // The settlement may reach the counter a scrape after the paid request.
    let amount = paid.plan.amount.0 as f64;
    let revenue = prometheus
        .wait_for(
            r#"l402_revenue_msat_total{job="l402",service="weather"}"#,
            |v| v == Some(amount),
            Duration::from_secs(30),
        )
        .await;
    println!("PASS Prometheus reports the revenue: {revenue:?} msat");
}
