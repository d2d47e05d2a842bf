//! Runs the `axum_paywall` example's own code: start it, get a 402, pay through the dev wallet,
//! retry, get 200; then shut it down cleanly.

#[allow(dead_code)] // the example's `main` and usage printer are not called from here
#[path = "../examples/axum_paywall.rs"]
mod axum_paywall;

#[tokio::test]
async fn unpaid_402_then_paid_200() {
    let running = axum_paywall::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let body = axum_paywall::self_test(&running).await.unwrap();
    assert!(
        body.contains("(token "),
        "the handler saw the verified token: {body}"
    );
    tokio::time::timeout(std::time::Duration::from_secs(10), running.shutdown())
        .await
        .expect("graceful shutdown within 10 s")
        .unwrap();
}
