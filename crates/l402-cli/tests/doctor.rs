//! `l402 doctor` on the real binary: each check, for a setup that passes and one that is
//! broken, read from `--json`; plus `l402 wallet balance` for the dev and NWC wallets.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use l402_testkit::nwc::{NIP44_WALLET, world};
use l402_testkit::sample::sample_upstream;
use serde_json::Value;

/// `l402 doctor <args>` as a buyer with `data_dir`: its exit code and JSON report.
fn doctor(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut all = vec!["doctor", "--json"];
    all.extend_from_slice(args);
    let out = run(data_dir, &all, env);
    let report = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap(), report)
}

/// The status of the check `name` (`pass`, `warn`, `fail`), with its detail for messages.
fn status<'a>(report: &'a Value, name: &str) -> (&'a str, &'a str) {
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name:?} in {report}"));
    (
        check["status"].as_str().unwrap(),
        check["detail"].as_str().unwrap(),
    )
}

fn assert_check(report: &Value, name: &str, expected: &str, detail_has: &str) {
    let (got, detail) = status(report, name);
    assert_eq!(got, expected, "{name}: {detail}\n{report}");
    assert!(
        detail.contains(detail_has),
        "{name}: {detail:?} lacks {detail_has:?}"
    );
    if expected != "pass" {
        let check = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        assert!(
            check["fix"].as_str().is_some_and(|f| !f.is_empty()),
            "{check}"
        );
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A running dev wallet (`l402 wallet serve`) whose connection file is in `data`.
async fn dev_wallet(dir: &Path, data: &Path) -> ChildGuard {
    std::fs::create_dir_all(data).unwrap();
    chmod(data, 0o700);
    let data_arg = data.display().to_string();
    let mut p = spawn(dir, "wallet", &["wallet", "serve", "--data-dir", &data_arg]);
    l402_testkit::wait::wait_for_file(&data.join("dev-wallet.json"), Duration::from_secs(10));
    p.assert_running();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn a_buyer_with_a_running_wallet_passes_every_check_and_prices_a_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    let _wallet = dev_wallet(dir.path(), &data).await;
    let (_serve, base) = serve(dir.path(), &[]).await;
    let url = format!("{base}/api/weather?city=Paris");
    let (code, report) = doctor(&data, &[&url], &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["healthy"], true);
    assert_check(&report, "client config", "pass", "parses");
    assert_check(&report, "data directory", "pass", "writable and private");
    assert_check(&report, "secret files", "pass", "dev-wallet.json");
    assert_check(&report, "wallet", "pass", "regtest");
    assert_check(&report, "balance", "pass", "no limit");
    assert_check(&report, "budget", "pass", "left");
    assert_check(&report, &format!("url {url}"), "pass", "costs 2 sat");
    // Nothing was paid to learn the price.
    let receipts = run(&data, &["receipts", "--json"], &[]);
    assert_eq!(stdout(&receipts).trim(), "[]", "{}", stderr(&receipts));

    let text = run(&data, &["doctor"], &[]);
    let text = stdout(&text);
    assert!(text.contains("✓ wallet"), "{text}");
    assert!(text.ends_with("checks passed\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_buyer_setup_fails_each_check_with_a_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    std::fs::create_dir_all(&data).unwrap();

    // A config that does not parse stops the run after that check.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[budget]\nmax_cost_sat = \"lots\"\n").unwrap();
    let bad_arg = bad.display().to_string();
    let (code, report) = doctor(&data, &["--client-config", &bad_arg], &[]);
    assert_eq!(code, 1);
    assert_check(&report, "client config", "fail", "max_cost_sat");
    assert_eq!(report["checks"].as_array().unwrap().len(), 1, "{report}");

    // No wallet running; a used-up budget; a data directory others can read; an exposed
    // token store; a URL nobody answers.
    std::fs::write(data.join("client.toml"), "[budget]\nhourly_sat = 0\n").unwrap();
    chmod(&data, 0o755);
    let _ = run(&data, &["tokens", "list"], &[]); // creates client.db
    chmod(&data.join("client.db"), 0o644);
    let url = format!("http://127.0.0.1:{}/", free_port());
    let (code, report) = doctor(&data, &[&url], &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["healthy"], false);
    assert_check(&report, "data directory", "warn", "mode 755");
    assert_check(&report, "secret files", "fail", "client.db (644)");
    assert_check(&report, "wallet", "fail", "dev-wallet.json");
    assert_check(&report, "budget", "fail", "hourly");
    assert_check(&report, &format!("url {url}"), "fail", "onnection refused");

    // A data directory that is a file cannot be used.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let sub = file.join("sub").display().to_string();
    let (_, report) = doctor(&data, &["--data-dir", &sub], &[]);
    assert_check(&report, "data directory", "fail", "cannot be created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_price_over_the_budget_fails_the_url_check_without_paying() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    let _wallet = dev_wallet(dir.path(), &data).await;
    std::fs::write(data.join("client.toml"), "[budget]\nmax_cost_sat = 1\n").unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    let url = format!("{base}/api/weather?city=Paris");
    let (code, report) = doctor(&data, &[&url], &[]);
    assert_eq!(code, 1, "{report}");
    assert_check(&report, &format!("url {url}"), "fail", "nothing paid");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_nwc_wallet_reports_its_balance_and_an_empty_one_fails() {
    let w = world(NIP44_WALLET).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("client.toml"), "[wallet]\nkind = \"nwc\"\n").unwrap();
    let uri = w.service.connect(&w.relay_url);
    let env = [("L402_NWC_URI", uri.as_str())];

    let out = run(&data, &["wallet", "balance", "--json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let balance: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(balance["kind"], "nwc");
    assert_eq!(
        balance["spendable_msat"],
        l402_testkit::nwc::STARTING_BALANCE_MSAT
    );
    let out = run(&data, &["wallet", "balance"], &env);
    assert!(
        stdout(&out).contains("spendable: 1000000 sat"),
        "{}",
        stdout(&out)
    );
    let (_, report) = doctor(&data, &[], &env);
    assert_check(&report, "balance", "pass", "1000000 sat");

    w.service
        .starting_balance
        .store(0, std::sync::atomic::Ordering::Relaxed);
    let (code, report) = doctor(&data, &[], &env);
    assert_eq!(code, 1);
    assert_check(&report, "wallet", "pass", "regtest");
    assert_check(&report, "balance", "fail", "nothing to spend");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_budget_shows_the_balance_and_survives_a_missing_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    let out = run(&data, &["budget", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let budget: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        budget["wallet"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("dev-wallet.json")),
        "{budget}"
    );
    let out = run(&data, &["wallet", "balance"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("hint: start the dev wallet"),
        "{}",
        stderr(&out)
    );

    let _wallet = dev_wallet(dir.path(), &data).await;
    let out = run(&data, &["budget"], &[]);
    assert!(
        stdout(&out).contains("wallet     dev, spendable: no limit"),
        "{}",
        stdout(&out)
    );
}

/// A seller configuration in `dir` over `upstream`, with the dev wallet's connection file in
/// `dir/data` and `extra` appended to `[listen]`.
fn seller_config(dir: &Path, listen: &str, upstream: &str, listen_extra: &str) -> PathBuf {
    let data = dir.join("data");
    let path = dir.join("l402.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{d}\"\n[listen]\naddr = \"{listen}\"\n{listen_extra}\n[backend]\nkind = \"dev\"\n\
             [backend.dev]\nconnection_file = \"{d}/dev-wallet.json\"\n\n[[services]]\nname = \"weather\"\n\
             path_prefix = \"/api/weather\"\nupstream = \"{upstream}\"\nprice_sat = 2\n",
            d = data.display()
        ),
    )
    .unwrap();
    path
}

fn seller_doctor(dir: &Path, config: &Path) -> (i32, Value) {
    let config = config.display().to_string();
    doctor(&dir.join("buyer"), &["--config", &config], &[])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sound_seller_setup_passes_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let _wallet = dev_wallet(dir.path(), &dir.path().join("data")).await;
    let upstream = sample_upstream(dir.path(), |_| String::new()).await;
    let ca = l402_tls::test_ca::TestCa::new();
    let tls_dir = dir.path().join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap();
    let files = ca.write(&tls_dir, &ca.issue(&["localhost"])).unwrap();
    let tls = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"",
        files.cert.display(),
        files.key.display()
    );
    let listen = free_addr().to_string();
    let config = seller_config(
        dir.path(),
        &listen,
        &format!("http://{}", upstream.addr),
        &tls,
    );
    // A first start creates the store and the master keys.
    let config_arg = config.display().to_string();
    let mut p = spawn(dir.path(), "serve", &["serve", "--config", &config_arg]);
    l402_testkit::wait::wait_for_file(&dir.path().join("data/l402.db"), Duration::from_secs(10));
    p.assert_running();
    // The file appears before the first start has written the master keys.
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.kill();
    let (code, report) = seller_doctor(dir.path(), &config);
    assert_eq!(code, 0, "{report}");
    assert_check(&report, "config", "pass", "is valid");
    assert_check(&report, "data directory", "pass", "private");
    assert_check(&report, "secret files", "pass", "l402.db");
    assert_check(&report, "store", "pass", "writable and intact");
    assert_check(&report, "master keys", "pass", "current epoch 1");
    assert_check(&report, "backend", "pass", "dev answers");
    assert_check(&report, "upstream weather", "pass", "answers (HTTP");
    assert_check(&report, "tls", "pass", "valid until");
    assert_check(&report, "listen", "pass", "is free");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_seller_setup_fails_each_check_with_a_next_step() {
    let dir = tempfile::tempdir().unwrap();
    // An invalid file stops at the config check.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[services]]\nname = \"x\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = -3\n",
    )
    .unwrap();
    let (code, report) = seller_doctor(dir.path(), &bad);
    assert_eq!(code, 1);
    assert_check(&report, "config", "fail", "price_sat");

    // No dev wallet at the connection file, an upstream that is down, an expired
    // certificate, a taken port, a corrupt store.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let ca = l402_tls::test_ca::TestCa::new();
    let tls_dir = dir.path().join("tls");
    std::fs::create_dir_all(&tls_dir).unwrap();
    let files = ca
        .write(&tls_dir, &ca.issue_expired(&["localhost"]))
        .unwrap();
    let tls = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"",
        files.cert.display(),
        files.key.display()
    );
    let down = format!("http://127.0.0.1:{}", free_port());
    let config = seller_config(dir.path(), &listen, &down, &tls);
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    chmod(&data, 0o700);
    std::fs::write(data.join("l402.db"), vec![0x5a; 8192]).unwrap();
    chmod(&data.join("l402.db"), 0o600);
    let (code, report) = seller_doctor(dir.path(), &config);
    assert_eq!(code, 1, "{report}");
    assert_check(&report, "store", "fail", "l402.db");
    assert_check(&report, "backend", "fail", "dev-wallet.json");
    assert_check(&report, "upstream weather", "fail", "onnection refused");
    assert_check(&report, "tls", "fail", "expired");
    assert_check(&report, "listen", "fail", "taken by another program");

    // Master keys readable by others.
    std::fs::remove_file(data.join("l402.db")).unwrap();
    let store = l402_store::Store::open(data.join("l402.db")).unwrap();
    drop(store);
    chmod(&data.join("l402.db"), 0o640);
    let (_, report) = seller_doctor(dir.path(), &config);
    assert_check(&report, "secret files", "fail", "l402.db (640)");
    drop(taken);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_held_by_a_running_seller_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    // The seller made its data directory private.
    let mode = std::fs::metadata(dir.path().join("data"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let listen = base.trim_start_matches("http://");
    let upstream = sample_upstream(dir.path(), |_| String::new()).await;
    let sub = dir.path().join("seller");
    std::fs::create_dir_all(&sub).unwrap();
    let _wallet = dev_wallet(&sub, &sub.join("data")).await;
    let config = seller_config(&sub, listen, &format!("http://{}", upstream.addr), "");
    let (code, report) = seller_doctor(&sub, &config);
    assert_check(&report, "listen", "warn", "l402 serve already running?");
    assert_eq!(code, 0, "{report}");
}
