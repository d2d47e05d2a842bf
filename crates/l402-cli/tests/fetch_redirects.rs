//! `l402 fetch -L` through a redirect to `l402 serve`: the origin that asks is paid, the token
//! goes only there, and a redirect into a denied host is refused before anything is sent.

mod common;

use common::*;
use l402_testkit::redirector::Redirector;

#[tokio::test(flavor = "multi_thread")]
async fn fetch_follows_redirects_through_the_checked_path() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    let front = Redirector::start(Some(base.clone())).await;
    let url = front.at("api/weather?city=Paris");

    // Without -L the redirect is the answer, and nothing is paid.
    let out = run(&data, &["fetch", "--json", &url], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["status"], 307, "{json}");

    // With -L the seller's challenge is paid, then its token is reused; the front never sees it.
    let out = run(&data, &["fetch", "-L", "--json", &url], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (json["status"].as_u64(), json["paid"]["amount_sat"].as_u64()),
        (Some(200), Some(2)),
        "{json}"
    );
    let out = run(&data, &["fetch", "-L", "--json", &url], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["status"], 200, "{json}");
    assert_eq!(json["reused_token"], true, "{json}");
    assert_eq!(json["paid"], serde_json::Value::Null, "{json}");
    assert!(
        front.authorizations().iter().all(Option::is_none),
        "{:?}",
        front.authorizations()
    );

    // A redirect into a denied host: refused (bad input), nothing sent there.
    let port = base.rsplit(':').next().unwrap();
    let denied = Redirector::start(Some(format!("http://localhost:{port}"))).await;
    let out = run(
        &data,
        &["fetch", "-L", &denied.at("api/weather?city=Oslo")],
        &[("L402_DENY_DOMAINS", "localhost")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused") && stderr(&out).contains("deny-list"),
        "{}",
        stderr(&out)
    );
}
