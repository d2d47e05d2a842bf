//! `l402 serve` with `[backend] kind = "cln"` (CLNRest), as an operator runs it: `--check`
//! accepts the CLNRest fields and refuses a missing rune; startup against a CLNRest that is not
//! there fails fast, naming the backend, the URL and what to check. (The backend itself is
//! proven against a schema-driven CLNRest mock in l402-lightning's tests/cln_rest.rs.)

mod common;

use std::path::Path;
use std::time::Duration;

use common::{free_port, l402, spawn};

/// A syntactically valid PEM certificate block (the DER of a tiny SEQUENCE): enough for
/// `--check` and for startup to reach the connection attempt.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";

fn write_config(dir: &Path, cln_section: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("ca.pem"), CA_PEM).unwrap();
    std::fs::write(
        dir.join("rune.txt"),
        "tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0w\n",
    )
    .unwrap();
    let config = dir.join("l402.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[backend]
kind = "cln"

[backend.cln]
{cln_section}

[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://127.0.0.1:9"
price_sat = 3
"#
        ),
    )
    .unwrap();
    config
}

fn check(config: &Path) -> std::process::Output {
    l402()
        .command(["serve", "--check", "--config"])
        .arg(config)
        .output()
        .unwrap()
}

/// `l402 serve --check` refuses `config` with exit code 2; its stderr.
fn refused(config: &Path) -> String {
    let out = check(config);
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_accepts_clnrest_fields_and_refuses_a_missing_rune() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        r#"rest_url = "https://127.0.0.1:3010"
rune = { file = "rune.txt" }
rest_ca_cert_path = "ca.pem""#,
    );
    let ok = check(&config);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("configuration OK"));

    let config = write_config(dir.path(), r#"rest_url = "https://127.0.0.1:3010""#);
    let err = refused(&config);
    assert!(err.contains("rune") && err.contains("rest_url"), "{err}");

    let config = write_config(
        dir.path(),
        r#"rest_url = "https://127.0.0.1:3010"
rune = { file = "rune.txt" }
rpc_socket_path = "/run/lightning-rpc""#,
    );
    let err = refused(&config);
    assert!(err.contains("exactly one of"), "{err}");
}

#[test]
fn startup_with_an_unreachable_clnrest_fails_fast_and_says_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}");
    let config = write_config(
        dir.path(),
        &format!(
            r#"rest_url = "{url}"
rune = {{ file = "rune.txt" }}
rest_ca_cert_path = "ca.pem""#
        ),
    );
    let listen = format!("127.0.0.1:{}", free_port());
    let data = dir.path().join("data").display().to_string();
    let config_s = config.display().to_string();
    let mut proc_ = spawn(
        dir.path(),
        "serve",
        &[
            "serve",
            "--config",
            &config_s,
            "--listen",
            &listen,
            "--data-dir",
            &data,
        ],
    );
    // It must exit by itself: a serve that keeps running with an unreachable CLNRest fails.
    let status = proc_.wait_exit(Duration::from_secs(20));
    assert!(!status.success());
    let log = proc_.log();
    assert!(
        log.contains("cln backend") && log.contains(&url) && log.contains("clnrest-port"),
        "{log}"
    );
    assert!(
        !log.contains("tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9"),
        "rune leaked: {log}"
    );
}
