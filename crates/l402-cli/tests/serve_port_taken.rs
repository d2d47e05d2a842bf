//! `l402 serve` on a port another process holds: one clear line, exit code non-zero, and the
//! cause said once.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_port_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap().to_string();
    let data = dir.path().join("data").display().to_string();
    let mut serve = spawn(
        dir.path(),
        "serve",
        &["serve", "--listen", &addr, "--data-dir", &data],
    );
    let status = serve.wait_exit(Duration::from_secs(20));
    assert!(!status.success());
    let log = serve.log();
    assert!(log.contains(&format!("cannot listen on {addr}")), "{log}");
    assert_eq!(
        log.matches("Address already in use").count(),
        1,
        "the cause is said once: {log}"
    );
}
