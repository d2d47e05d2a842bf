//! `l402 admin` against a running `l402 serve --admin-listen`: JSON and human output, the
//! read-only macaroon refused for changes, and the exit codes for a refused macaroon (2) and
//! an admin listener that is not there (5).

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn l402_admin_reads_and_acts_with_clear_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let admin_addr = free_addr().to_string();
    let (_serve, base) = serve(dir.path(), &["--admin-listen", &admin_addr]).await;
    let data = dir.path().join("data");
    let url = format!("http://{admin_addr}");
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--url", &url];
        all.extend_from_slice(args);
        run(&data, &all, &[])
    };

    // One unpaid request, so the stats have something.
    let unpaid = http_client()
        .get(format!("{base}/api/weather?city=Paris"))
        .send()
        .await
        .unwrap();
    assert_eq!(unpaid.status(), 402);

    let status = admin(&["status", "--json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let status: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(status["role"], "full");
    assert_eq!(status["backend"]["kind"], "dev");

    let stats = admin(&["stats"]);
    assert!(stats.status.success(), "{}", stderr(&stats));
    let text = stdout(&stats);
    assert!(text.contains("nothing settled"), "{text}");
    assert!(
        text.contains("weather          GET,HEAD /api/weather")
            && text.contains("0 / 0 / 1 / 0 / 0"),
        "{text}"
    );

    let invoices = admin(&["invoices", "--state", "unpaid", "--json"]);
    let invoices: serde_json::Value = serde_json::from_str(&stdout(&invoices)).unwrap();
    assert_eq!(invoices["invoices"][0]["service"], "weather");
    let token = invoices["invoices"][0]["token_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The read-only macaroon cannot revoke: exit 2, and the message says which to use.
    let refused = admin(&["--read-only", "revoke", &token]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("read-only"),
        "{}",
        stderr(&refused)
    );
    let revoked = admin(&["revoke", &token, "--reason", "test"]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(stdout(&revoked).contains("revoked"));
    let listed = admin(&["revocations"]);
    assert!(stdout(&listed).contains(&token) && stdout(&listed).contains("test"));

    // Bad input: exit 2 with the API's reason.
    let bad = admin(&["revoke", "not-a-token"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("invalid token id"),
        "{}",
        stderr(&bad)
    );

    // No admin listener there: exit 5, and what to check.
    let nowhere = format!("http://{}", free_addr());
    let down = run(&data, &["admin", "--url", &nowhere, "status"], &[]);
    assert_eq!(down.status.code(), Some(5), "{}", stderr(&down));
    assert!(
        stderr(&down).contains("--admin-listen"),
        "{}",
        stderr(&down)
    );

    // No macaroon file: exit 2, naming the file.
    let empty = dir.path().join("empty");
    let missing = run(&empty, &["admin", "--url", &url, "status"], &[]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("admin.macaroon"),
        "{}",
        stderr(&missing)
    );
}
