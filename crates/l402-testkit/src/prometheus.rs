//! A real Prometheus server (Debian's `prometheus`, path given by the tier) scraping admin
//! listeners every second, and instant queries against it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{ChildGuard, free_addr};

/// A Prometheus server on a free loopback port; stopped when dropped.
pub struct Prometheus {
    /// Its HTTP API, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    process: ChildGuard,
}

impl Prometheus {
    /// Starts `bin` with its storage and log in `dir`, scraping `targets` (`host:port`, path
    /// `/metrics`) every second as the job `l402`.
    pub fn start(bin: &str, dir: &Path, targets: &[String]) -> Self {
        let list = targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: l402\n    \
                 static_configs:\n      - targets: [{list}]\n"
            ),
        )
        .expect("writing prometheus.yml");
        let web = free_addr().to_string();
        let process = ChildGuard::spawn(
            Command::new(bin).args([
                &format!("--config.file={}", config.display()),
                &format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
                &format!("--web.listen-address={web}"),
            ]),
            &dir.join("prometheus.log"),
        );
        Self {
            url: format!("http://{web}"),
            process,
        }
    }

    /// The value of the first sample the instant query `expr` returns, if any.
    pub async fn query(&self, expr: &str) -> Option<f64> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/query", self.url),
            &[("query", expr)],
        )
        .ok()?;
        let bytes = crate::wait::http_client()
            .get(url)
            .send()
            .await
            .ok()?
            .bytes()
            .await
            .ok()?;
        let body: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        body["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
    }

    /// Polls `expr` every 500 ms until `wanted` accepts its value; panics with Prometheus's
    /// log after `limit`, or when it exits.
    pub async fn wait_for(
        &mut self,
        expr: &str,
        wanted: impl Fn(Option<f64>) -> bool,
        limit: Duration,
    ) -> Option<f64> {
        let deadline = Instant::now() + limit;
        loop {
            let value = self.query(expr).await;
            if wanted(value) {
                return value;
            }
            assert!(
                self.process.exited().is_none(),
                "prometheus exited:\n{}",
                self.process.log()
            );
            assert!(
                Instant::now() < deadline,
                "Prometheus: `{expr}` is {value:?} after {limit:?}:\n{}",
                self.process.log()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
