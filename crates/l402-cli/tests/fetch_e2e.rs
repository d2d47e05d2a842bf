//! `l402 fetch` and friends end to end: the real binary paying `l402 serve` through the dev
//! wallet, as an agent would run it.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

/// `l402 fetch <flags> <url> -H content-type: application/json -d <body>` from `data_dir`.
fn fetch_post_json(data_dir: &Path, flags: &[&str], url: &str, body: &str) -> Output {
    let mut args = vec!["fetch"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&[url, "-H", "content-type: application/json", "-d", body]);
    run(data_dir, &args, &[])
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_pays_once_per_service_and_respects_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    let weather = format!("{base}/api/weather?city=Paris");
    let similarity = format!("{base}/api/similarity");
    let sim_body = r#"{"a":[1,2],"b":[2,4]}"#;

    // Dry run: shows the price, pays nothing, exit 0.
    let out = run(&data, &["fetch", "--dry-run", "--json", &weather], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dry: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (dry["payment_required"].as_bool(), dry["price_sat"].as_u64()),
        (Some(true), Some(2))
    );
    assert!(receipts(&data).is_empty());

    // Two services behind one path segment: each is paid once, then both tokens are reused.
    let out = run(&data, &["fetch", "--json", &weather], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["status"], 200);
    assert_eq!(json["paid"]["amount_sat"], 2);
    assert!(json["body"].as_str().unwrap().contains("Paris"));
    let out = fetch_post_json(&data, &[], &similarity, sim_body);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("cosine"));
    assert!(stderr(&out).contains("* paid 5 sat"), "{}", stderr(&out));
    for _ in 0..2 {
        let out = run(&data, &["fetch", "--json", &weather], &[]);
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(
            (json["status"].as_u64(), json["reused_token"].as_bool()),
            (Some(200), Some(true))
        );
        assert!(json["token"]["ttl_secs"].as_u64().is_some(), "{json}");
        let out = fetch_post_json(&data, &[], &similarity, sim_body);
        assert!(
            out.status.success() && !stderr(&out).contains("* paid"),
            "{}",
            stderr(&out)
        );
    }
    let paid = receipts(&data);
    assert_eq!(paid.len(), 2, "exactly one payment per service");
    // What the server said about each token after use (L402-Token) is kept and shown.
    let out = run(&data, &["tokens", "list", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tokens: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for t in tokens.as_array().unwrap() {
        let status = &t["status"];
        assert!(status["reported_at"].is_u64(), "{t}");
        assert_eq!(status["expires_at"], t["expires_at"], "{t}");
        let ttl = status["ttl_secs"].as_u64().expect("sample tokens expire");
        assert!(t["seconds_left"].as_u64().unwrap() <= ttl, "{t}");
    }
    let text = stdout(&run(&data, &["tokens", "list"], &[]));
    assert!(
        text.contains(" s left)") && text.contains("(server checked "),
        "{text}"
    );
    // Times as people read them: RFC 3339 in JSON, a UTC date and "… ago" on a terminal.
    assert!(
        paid[0]["paid_at_rfc3339"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{paid:?}"
    );
    let text = stdout(&run(&data, &["receipts"], &[]));
    assert!(
        text.contains(" UTC (") && (text.contains("just now") || text.contains(" s ago")),
        "{text}"
    );

    // Budgets are enforced before paying: exit 3, a message naming the limit, nothing paid.
    let oslo_fresh = format!("{base}/helloworld.Greeter/x");
    let out = run(
        &data,
        &["fetch", "-X", "POST", &oslo_fresh],
        &[("L402_DAILY_BUDGET_SAT", "7")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("daily budget"), "{}", stderr(&out));
    let out = run(
        &data,
        &["fetch", "-X", "POST", &oslo_fresh, "--max-cost", "0"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(receipts(&data).len(), 2);

    // `l402 budget --json` reflects the spending.
    let out = run(&data, &["budget", "--json"], &[]);
    let budget: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(budget["daily"]["spent_msat"], 7_000);

    // Bad input and unreachable servers have their own exit codes.
    assert_eq!(
        run(&data, &["fetch", "not a url"], &[]).status.code(),
        Some(2)
    );
    let closed = format!("http://127.0.0.1:{}/", free_port());
    assert_eq!(run(&data, &["fetch", &closed], &[]).status.code(), Some(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_right_after_paying_never_pays_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    let weather = format!("{base}/api/weather?city=Lagos");

    let out = run(
        &data,
        &["fetch", &weather],
        &[("L402_CRASH_AFTER_PAY_FOR_TESTS", "1")],
    );
    assert_eq!(
        out.status.code(),
        Some(137),
        "the test hook should kill the process: {}",
        stderr(&out)
    );
    assert!(
        receipts(&data).is_empty(),
        "the crash happened before anything was stored"
    );

    // Restarted: the journal's pending payment is resolved through the wallet, the paid token
    // is used, and nothing is paid again.
    let out = run(&data, &["fetch", "--json", &weather], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["status"], 200);
    assert!(json["paid"].is_null(), "must not pay again: {json}");
    assert_eq!(receipts(&data).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn attenuated_token_for_a_sub_agent_can_do_less() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    let similarity = format!("{base}/api/similarity");
    let body = r#"{"a":[1,0],"b":[1,1]}"#;
    let out = fetch_post_json(&data, &[], &similarity, body);
    assert!(out.status.success(), "{}", stderr(&out));

    // The parent narrows its token: no capabilities left.
    let out = run(
        &data,
        &[
            "tokens",
            "attenuate",
            &similarity,
            "--service",
            "similarity",
            "--capabilities",
            "",
            "--valid-for",
            "600",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let narrowed = stdout(&out).trim().to_owned();
    assert!(
        narrowed.starts_with("L402 ") || narrowed.starts_with("LSAT "),
        "{narrowed}"
    );

    // The sub-agent (its own data dir, same dev wallet) imports it; the POST route requires
    // `compute`, so the narrowed token is refused and, with no budget to pay, nothing is paid.
    let sub = dir.path().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("client.toml"),
        format!(
            "[wallet]\nkind = \"dev\"\n[wallet.dev]\nconnection_file = \"{}\"\n",
            data.join("dev-wallet.json").display()
        ),
    )
    .unwrap();
    let out = run(&sub, &["tokens", "import", &similarity, &narrowed], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fetch_post_json(&sub, &["--max-cost", "0"], &similarity, body);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the narrowed token must not be accepted: {}",
        stderr(&out)
    );
    assert!(receipts(&sub).is_empty());
    // The parent's own token still works.
    let out = fetch_post_json(&data, &["--json"], &similarity, body);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (json["status"].as_u64(), json["reused_token"].as_bool()),
        (Some(200), Some(true))
    );
}
