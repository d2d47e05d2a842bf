//! The buyer with no wallet running: it works until a payment is due, and then says what is
//! missing (the real binary; the dev wallet's connection file is absent from its data dir).

mod common;

use common::*;
use l402_testkit::sample::sample_upstream;

#[tokio::test(flavor = "multi_thread")]
async fn a_free_page_is_fetched_without_a_wallet() {
    let dir = tempfile::tempdir().unwrap();
    // The sample API itself, with no paywall in front: every page is free.
    let upstream = sample_upstream(dir.path(), |_| String::new()).await;
    let url = format!("http://{}/api/weather?city=Paris", upstream.addr);
    let out = run(&dir.path().join("buyer"), &["fetch", &url], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Paris"), "{}", stdout(&out));
    let out = run(
        &dir.path().join("buyer"),
        &["fetch", "--dry-run", &url],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_down_is_a_network_error_not_a_wallet_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/api/weather", free_port());
    let out = run(&dir.path().join("buyer"), &["fetch", &url], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert_eq!(
        err.matches("Connection refused").count(),
        1,
        "the cause, said once: {err}"
    );
    assert!(
        !err.contains("wallet"),
        "the wallet was never needed: {err}"
    );
    assert!(
        !err.contains("outcome is unknown"),
        "nothing was in flight: {err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_records_can_be_read_without_a_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let buyer = dir.path().join("buyer");
    for args in [
        &["receipts"][..],
        &["receipts", "--json"],
        &["budget"],
        &["budget", "--json"],
        &["tokens", "list"],
        &["tokens", "list", "--json"],
    ] {
        let out = run(&buyer, args, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "l402 {args:?}: {}",
            stderr(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_due_without_a_wallet_names_it_and_journals_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    // A buyer whose data dir has no dev wallet connection file.
    let buyer = dir.path().join("buyer");
    let url = format!("{base}/api/weather?city=Paris");
    let out = run(&buyer, &["fetch", &url], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("dev-wallet.json") && err.contains("l402 wallet serve"),
        "the error names the wallet and what to do: {err}"
    );
    assert!(err.contains("nothing was paid"), "{err}");
    assert!(
        !err.contains("outcome is unknown"),
        "nothing was in flight: {err}"
    );
    let out = run(&buyer, &["receipts", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let receipts: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(receipts.as_array().map(Vec::len), Some(0), "{receipts}");
}
