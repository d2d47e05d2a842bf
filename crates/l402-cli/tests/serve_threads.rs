//! `l402 serve --threads N`: one thread serves the whole paid flow and drains on SIGTERM; more
//! threads are more threads; a count out of range is a usage error.

mod common;

use std::time::Duration;

use common::*;
use l402_lightning::dev::DevWalletClient;

/// The threads of process `pid` (Linux).
fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("/proc/PID/task")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_thread_serves_the_paid_flow_and_more_threads_are_more() {
    let dir = tempfile::tempdir().unwrap();
    let (mut one, base) = serve(dir.path(), &["--threads", "1"]).await;
    wait_for(&format!("{base}/readyz"), 200, &mut one).await;
    let wallet = DevWalletClient::from_data_dir(&dir.path().join("data")).unwrap();

    // 402 → pay → 200, then the token again with no payment.
    let weather = format!("{base}/api/weather?city=Paris");
    let token = Payer::new(&wallet).buy(&weather).await.token;
    for _ in 0..3 {
        assert_eq!(get_with(&weather, &token).await.status(), 200);
    }

    let four_dir = tempfile::tempdir().unwrap();
    let (mut four, _) = serve(four_dir.path(), &["--threads", "4"]).await;
    let (t1, t4) = (threads_of(one.id()), threads_of(four.id()));
    assert!(
        t4 >= t1 + 3,
        "--threads 4 runs {t4} threads, --threads 1 {t1}"
    );

    // A graceful stop on one thread: exit code 0, the drain logged.
    assert_eq!(
        one.terminate(Duration::from_secs(20)),
        Some(0),
        "{}",
        one.log()
    );
    assert!(one.log().contains("shutting down"), "{}", one.log());
    four.terminate(Duration::from_secs(20));
}

#[test]
fn a_thread_count_out_of_range_is_a_usage_error() {
    for count in ["0", "1025", "many"] {
        let out = l402()
            .command(["serve", "--threads", count, "--check"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--threads {count}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--threads"), "--threads {count}: {err}");
    }
}
