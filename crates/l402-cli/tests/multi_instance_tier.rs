//! The multi-instance tier: three `l402 serve` on one PostgreSQL store behind a real nginx.
//!
//! A token bought through the balancer works on every instance, and a real Prometheus scraping
//! the three admin listeners sees them all up and their paid requests; a revocation made on one
//! (`l402 revoke --store-url`, or the admin API of another) is refused by all within the
//! store refresh (2 s); one instance SIGKILLed under load loses at most its in-flight
//! requests while the others keep serving; with PostgreSQL stopped, paid requests still pass
//! (the paid path reads no database), unpaid ones still get their challenge (recorded once the
//! database is back), and only the paths that need the database answer 503, until it is back,
//! by itself.
//!
//! `scripts/tiers/postgres.sh` installs PostgreSQL, nginx and Prometheus from Debian, starts a throwaway
//! cluster and runs this file with `L402_TEST_POSTGRES_URL` (an empty database),
//! `L402_TEST_POSTGRES_DIR` (the cluster, for `scripts/lib/postgres.sh stop|start`) and
//! `L402_NGINX` and `L402_PROMETHEUS` set. `#[ignore]`d for the plain `cargo test`; without them it fails.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use l402_core::client::PaidToken;
use l402_lightning::dev::DevWalletClient;
use l402_store::{Store, StoreUrl};
use l402_testkit::prometheus::Prometheus;
use l402_testkit::require_env;

const WHO: &str = "scripts/tiers/postgres.sh";

/// One `l402 serve` instance.
struct Instance {
    process: ChildGuard,
    base: String,
    admin: String,
    data: PathBuf,
}

impl Instance {
    fn admin_macaroon(&self) -> String {
        std::fs::read_to_string(self.data.join("admin.macaroon"))
            .unwrap()
            .trim()
            .to_owned()
    }
}

/// Starts instance `i` selling the sample API at `upstream` through the dev wallet whose
/// connection file is `wallet`, on the store `store`.
async fn start_instance(
    dir: &Path,
    i: usize,
    store: &str,
    wallet: &Path,
    upstream: SocketAddr,
) -> Instance {
    let (listen, admin) = (free_addr(), free_addr());
    let data = dir.join(format!("data-{i}"));
    let config = dir.join(format!("l402-{i}.toml"));
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n\n[listen]\naddr = \"{listen}\"\n\n[admin]\nlisten = \"{admin}\"\n\n\
             [store]\nurl = \"{store}\"\n\n[backend]\nkind = \"dev\"\n\n[backend.dev]\n\
             connection_file = \"{wallet}\"\n\n[[services]]\nname = \"weather\"\n\
             path_prefix = \"/api/weather\"\nupstream = \"http://{upstream}\"\nprice_sat = 2\n\
             token_lifetime_secs = 3600\n",
            data = data.display(),
            wallet = wallet.display(),
        ),
    )
    .unwrap();
    let mut process = spawn(
        dir,
        &format!("serve-{i}"),
        &["serve", "--config", config.to_str().unwrap()],
    );
    let base = format!("http://{listen}");
    wait_for(&format!("{base}/healthz"), 200, &mut process).await;
    Instance {
        process,
        base,
        admin: format!("http://{admin}"),
        data,
    }
}

/// nginx balancing over `instances`, on a free port; returns it and its base URL. One process
/// (`master_process off`): killing it when the test ends leaves no worker behind.
fn start_nginx(nginx: &str, dir: &Path, instances: &[&Instance]) -> (ChildGuard, String) {
    let listen = free_addr();
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(prefix.join("tmp")).unwrap();
    let servers: String = instances
        .iter()
        .map(|i| {
            format!(
                "    server {} max_fails=1 fail_timeout=5s;\n",
                i.base.trim_start_matches("http://")
            )
        })
        .collect();
    let tmp = prefix.join("tmp").display().to_string();
    let conf = prefix.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "master_process off;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n\
             fastcgi_temp_path {tmp};\n  uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n\
             upstream l402 {{\n{servers}    keepalive 32;\n  }}\n\
             server {{\n    listen {listen};\n    location / {{\n\
             proxy_pass http://l402;\n      proxy_http_version 1.1;\n\
             proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n\
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
             proxy_connect_timeout 1s;\n      proxy_next_upstream error timeout;\n    }}\n  }}\n}}\n",
            p = prefix.display(),
        ),
    )
    .unwrap();
    let process = ChildGuard::spawn(
        Command::new(nginx).args([
            "-c",
            conf.to_str().unwrap(),
            "-p",
            prefix.to_str().unwrap(),
            "-g",
            "daemon off;",
        ]),
        &dir.join("nginx.log"),
    );
    (process, format!("http://{listen}"))
}

/// `scripts/lib/postgres.sh COMMAND ARGS…` (stop, start).
fn pg_ctl(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib/postgres.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "postgres.sh {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The token id minted with the challenge `token` paid for, read from the shared store once an
/// instance recorded it.
async fn token_id(store: &Store, token: &PaidToken) -> String {
    let hash = token.preimage.payment_hash();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let store = store.clone();
        let found = tokio::task::spawn_blocking(move || store.invoices().get(&hash))
            .await
            .unwrap()
            .unwrap();
        if let Some(invoice) = found {
            return invoice.token_id.to_hex();
        }
        assert!(
            Instant::now() < deadline,
            "the challenge was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls until every instance refuses `token`; returns how long it took.
async fn until_refused_everywhere(instances: &[&Instance], token: &PaidToken) -> Duration {
    let started = Instant::now();
    for instance in instances {
        let url = format!("{}/api/weather?city=Paris", instance.base);
        loop {
            if get_with(&url, token).await.status() == 402 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{} still accepts a revoked token",
                instance.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    started.elapsed()
}

async fn admin_get(instance: &Instance, path: &str) -> reqwest::StatusCode {
    http_client()
        .get(format!("{}{path}", instance.admin))
        .bearer_auth(instance.admin_macaroon())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL and nginx: run by scripts/tiers/postgres.sh"]
async fn three_instances_on_one_postgres_behind_nginx() {
    let store_url = require_env("L402_TEST_POSTGRES_URL", WHO);
    let pg_dir = require_env("L402_TEST_POSTGRES_DIR", WHO);
    let nginx = require_env("L402_NGINX", WHO);
    let prometheus_bin = require_env("L402_PROMETHEUS", WHO);
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // One dev wallet that every instance invoices through and the buyer pays from.
    let wallet_dir = dir.join("wallet");
    std::fs::create_dir_all(&wallet_dir).unwrap();
    let _wallet = spawn(
        dir,
        "wallet",
        &[
            "wallet",
            "serve",
            "--data-dir",
            wallet_dir.to_str().unwrap(),
        ],
    );
    let connection = wallet_dir.join("dev-wallet.json");
    l402_testkit::wait::wait_for_file(&connection, Duration::from_secs(10));
    let wallet = DevWalletClient::from_data_dir(&wallet_dir).unwrap();
    let (upstream, _sample) = l402_sample::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();

    let mut instances = Vec::new();
    for i in 0..3 {
        instances.push(start_instance(dir, i, &store_url, &connection, upstream).await);
    }
    let all: Vec<&Instance> = instances.iter().collect();
    let (_nginx, lb) = start_nginx(&nginx, dir, &all);
    wait_for_status(&format!("{lb}/healthz"), 200, Duration::from_secs(10), None).await;
    let store = Store::open_url(&StoreUrl::parse(&store_url)).unwrap();

    // 1. A token bought through the balancer opens every instance.
    let url = format!("{lb}/api/weather?city=Paris");
    let paid = Payer::new(&wallet).buy(&url).await;
    for instance in &all {
        let r = get_with(
            &format!("{}/api/weather?city=Paris", instance.base),
            &paid.token,
        )
        .await;
        assert_eq!(
            r.status(),
            200,
            "{} refuses a token minted by another",
            instance.base
        );
    }
    println!("PASS a token bought through nginx opens all three instances");

    // A real Prometheus scrapes the three admin listeners: all up, and the paid requests of
    // every instance add up (one through nginx, one on each instance).
    let targets: Vec<String> = all
        .iter()
        .map(|i| i.admin.trim_start_matches("http://").to_owned())
        .collect();
    let mut prometheus = Prometheus::start(&prometheus_bin, dir, &targets);
    let limit = Duration::from_secs(60);
    prometheus
        .wait_for(r#"count(up{job="l402"} == 1)"#, |v| v == Some(3.0), limit)
        .await;
    let paid_expr = r#"sum(l402_requests_total{job="l402",outcome="paid"})"#;
    prometheus
        .wait_for(paid_expr, |v| v == Some(3.0), limit)
        .await;
    println!("PASS Prometheus scrapes all three instances: up, 3 paid requests in all");

    // 2. Revoked with `l402 revoke` on the shared store: refused by all within the refresh.
    let id = token_id(&store, &paid.token).await;
    let out = l402()
        .command(["revoke", &id, "--store-url", &store_url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("password"), "{}", stdout(&out));
    let took = until_refused_everywhere(&all, &paid.token).await;
    println!("PASS `l402 revoke` refused by all three instances after {took:?}");
    assert!(took < Duration::from_millis(2500), "took {took:?}");

    // Revoked through instance 2's admin API: instances 0 and 1 follow.
    let second = Payer::new(&wallet).buy(&url).await;
    let id = token_id(&store, &second.token).await;
    let r = http_client()
        .post(format!("{}/api/v1/tokens/{id}/revoke", instances[2].admin))
        .bearer_auth(instances[2].admin_macaroon())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let took = until_refused_everywhere(&all, &second.token).await;
    println!("PASS an admin-API revocation on one instance refused by all after {took:?}");
    assert!(took < Duration::from_millis(2500), "took {took:?}");

    // 3. One instance SIGKILLed under load: at most its in-flight requests fail.
    let good = Payer::new(&wallet).buy(&url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    const CLIENTS: u64 = 8;
    let load: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
            let (url, token) = (url.clone(), good.token.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match http_client()
                        .get(&url)
                        .header("authorization", authorization(&token))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_kill = ok.load(Ordering::Relaxed);
    let pid = instances[0].process.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_kill = ok.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!(
        "PASS SIGKILL under load: {ok} paid requests served ({} after the kill), {failed} failed",
        after_kill - before_kill
    );
    assert!(
        failed <= CLIENTS,
        "{failed} failed: more than the in-flight ones"
    );
    assert!(after_kill > before_kill + 10, "the others stopped serving");
    for instance in &instances[1..] {
        let r = get_with(
            &format!("{}/api/weather?city=Paris", instance.base),
            &good.token,
        )
        .await;
        assert_eq!(r.status(), 200);
    }

    // 4. PostgreSQL stopped: the paid path and challenges work, the admin API answers 503.
    let live = &all[1..];
    pg_ctl(&["stop", &pg_dir]);
    for _ in 0..20 {
        assert_eq!(
            get_with(&url, &good.token).await.status(),
            200,
            "paid request, database down"
        );
    }
    let unpaid = http_client().get(&url).send().await.unwrap();
    assert_eq!(unpaid.status(), 402, "a challenge needs no database");
    let minted_while_down = challenged_invoice(unpaid).await.payment_hash;
    for instance in live {
        assert_eq!(
            admin_get(instance, "/api/v1/revocations").await,
            503,
            "the admin API needs the database"
        );
    }
    println!("PASS with PostgreSQL down: paid 200, unpaid 402, admin API 503");
    pg_ctl(&["start", &pg_dir]);
    let started = Instant::now();
    for instance in live {
        while admin_get(instance, "/api/v1/revocations").await != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the admin API did not recover"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    println!(
        "PASS PostgreSQL back: the admin API recovered by itself after {:?}",
        started.elapsed()
    );
    // The challenge minted while the database was down is in the ledger once it is back.
    loop {
        let store = store.clone();
        let found = tokio::task::spawn_blocking(move || store.invoices().get(&minted_while_down))
            .await
            .unwrap();
        if matches!(found, Ok(Some(_))) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the challenge minted while PostgreSQL was down was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("PASS the challenge minted while PostgreSQL was down was recorded once it was back");
    // And the shared state still flows: a revocation on instance 1 reaches instance 2.
    let id = token_id(&store, &good.token).await;
    let r = http_client()
        .post(format!("{}/api/v1/tokens/{id}/revoke", instances[1].admin))
        .bearer_auth(instances[1].admin_macaroon())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let took = until_refused_everywhere(live, &good.token).await;
    println!("PASS after the restart a revocation still reaches every instance ({took:?})");
    for instance in &mut instances[1..] {
        instance.process.assert_running();
    }
}
