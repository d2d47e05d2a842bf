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
use std::time::{Duration, Instant};

use common::*;
use l402_lightning::dev::DevWalletClient;
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

/// The value of the first sample a Prometheus instant query returns, if any.
async fn query(prometheus: &str, expr: &str) -> Option<f64> {
    let url =
        reqwest::Url::parse_with_params(&format!("{prometheus}/api/v1/query"), &[("query", expr)])
            .unwrap();
    let body: serde_json::Value = http_client()
        .get(url)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    body["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
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
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: l402\n    \
             static_configs:\n      - targets: ['{admin}']\n"
        ),
    )
    .unwrap();
    let web = free_addr().to_string();
    let mut prometheus = ChildGuard::spawn(
        Command::new(&prometheus_bin).args([
            &format!("--config.file={}", config.display()),
            &format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()),
            &format!("--web.listen-address={web}"),
        ]),
        &dir.path().join("prometheus.log"),
    );
    let prometheus_url = format!("http://{web}");
    let paid_expr = r#"sum(l402_requests_total{job="l402",service="weather",outcome="paid"})"#;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = query(&prometheus_url, r#"up{job="l402"}"#).await;
        let paid = query(&prometheus_url, paid_expr).await;
        if up == Some(1.0) && paid == Some(1.0) {
            println!("PASS Prometheus scraped the admin listener: up=1, paid requests=1");
            break;
        }
        assert!(
            prometheus.exited().is_none(),
            "prometheus exited:\n{}",
            prometheus.log()
        );
        assert!(
            Instant::now() < deadline,
            "Prometheus did not see the paid request within 60 s (up={up:?}, paid={paid:?}):\n{}",
            prometheus.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let revenue = query(
        &prometheus_url,
        r#"l402_revenue_msat_total{job="l402",service="weather"}"#,
    )
    .await;
    // The settlement may reach the counter a scrape after the paid request.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut revenue = revenue;
    while revenue != Some(paid.plan.amount.0 as f64) {
        assert!(
            Instant::now() < deadline,
            "revenue in Prometheus is {revenue:?}, expected {} msat",
            paid.plan.amount.0
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        revenue = query(
            &prometheus_url,
            r#"l402_revenue_msat_total{job="l402",service="weather"}"#,
        )
        .await;
    }
    println!("PASS Prometheus reports the revenue: {revenue:?} msat");
}
