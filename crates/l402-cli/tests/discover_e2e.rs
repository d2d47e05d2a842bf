//! `l402 discover` and `fetch --dry-run` against the real `l402 serve`: a newcomer sees the
//! sample API's prices without paying; a seller without a manifest is read from its 402.

mod common;

use std::path::Path;

use common::*;
use l402_testkit::sample::sample_upstream;
use serde_json::Value;

fn json_out(data: &Path, args: &[&str]) -> Value {
    let out = run(data, args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

fn listing<'a>(found: &'a Value, method: &str, path: &str) -> &'a Value {
    found["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["method"] == method && l["path"] == path)
        .unwrap_or_else(|| panic!("no {method} {path} in {found}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newcomer_sees_the_sample_prices_without_paying() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, base) = serve(dir.path(), &[]).await;
    // The buyer's own data directory: no wallet at all, so nothing could be paid.
    let buyer = dir.path().join("buyer");

    let out = run(&buyer, &["discover", &base], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("from its manifest"), "{text}");
    for line in ["POST /api/similarity", "GET /api/weather"] {
        assert!(text.contains(line), "{line} missing: {text}");
    }
    let similarity = text
        .lines()
        .find(|l| l.contains("POST /api/similarity"))
        .unwrap();
    assert!(
        similarity.contains("5 sat") && similarity.contains("needs compute"),
        "{similarity}"
    );
    let weather = text
        .lines()
        .find(|l| l.contains("GET /api/weather"))
        .unwrap();
    assert!(weather.contains("2 sat"), "{weather}");

    let found = json_out(&buyer, &["discover", "--json", &base]);
    assert_eq!(found["source"], "manifest");
    let post = listing(&found, "POST", "/api/similarity");
    assert_eq!(
        (post["service"].as_str(), post["price_msat"].as_u64()),
        (Some("similarity"), Some(5000))
    );
    assert_eq!(post["capabilities_required"][0], "compute");
    assert_eq!(listing(&found, "GET", "/api/weather")["price_sat"], 2);
    assert_eq!(found["manifest"]["currencies"][0], "msat");

    // A directory entry, to a file.
    let file = dir.path().join("entry.json");
    let out = run(
        &buyer,
        &["discover", &base, "--export", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let entry: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(entry["format"], "l402-directory-entry/1");
    assert_eq!(entry["origin"], base);
    assert_eq!(entry["quote_url"], format!("{base}/l402/quote"));
    let weather = entry["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "weather")
        .unwrap();
    assert_eq!(
        (
            weather["min_price_msat"].as_u64(),
            weather["max_price_msat"].as_u64()
        ),
        (Some(2000), Some(2000))
    );
    assert!(
        !entry["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "landing"),
        "free services are not listed: {entry}"
    );

    // The dry run reads the manifest: nothing is sent to the resource, nothing is paid.
    let dry = json_out(
        &buyer,
        &[
            "fetch",
            "--dry-run",
            "--json",
            &format!("{base}/api/weather?city=Oslo"),
        ],
    );
    assert_eq!(
        (
            dry["source"].as_str(),
            dry["service"].as_str(),
            dry["price_sat"].as_u64()
        ),
        (Some("manifest"), Some("weather"), Some(2))
    );
    let receipts = json_out(&buyer, &["receipts", "--json"]);
    assert_eq!(receipts.as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_manifest_the_price_comes_from_the_402_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let listen = free_addr();
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            "data_dir = \"data\"\n[listen]\naddr = \"{listen}\"\n[backend]\nkind = \"dev\"\n\
             [discovery]\nenabled = false\n\
             [[services]]\nname = \"weather\"\npath_prefix = \"/api/weather\"\n\
             upstream = \"http://{sample}\"\nprice_sat = 3\n"
        )
    })
    .await;
    let mut seller = spawn(
        dir.path(),
        "serve",
        &["serve", "--config", upstream.config.to_str().unwrap()],
    );
    let base = format!("http://{listen}");
    wait_for(&format!("{base}/healthz"), 200, &mut seller).await;
    let buyer = dir.path().join("buyer");
    let url = format!("{base}/api/weather");

    let out = run(&buyer, &["discover", &url], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("publishes no L402 manifest"), "{text}");
    assert!(text.contains("3 sat"), "{text}");

    let found = json_out(&buyer, &["discover", "--json", &url]);
    assert_eq!(found["source"], "challenge");
    let only = &found["listings"][0];
    assert_eq!(
        (only["service"].as_str(), only["price_msat"].as_u64()),
        (Some("weather"), Some(3000))
    );
    assert!(
        found["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("no manifest")),
        "{found}"
    );

    let out = run(&buyer, &["discover", &url, "--export"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("nothing to export"),
        "{}",
        stderr(&out)
    );

    // Judging a challenge asks the wallet for its network: the buyer uses the seller's dev
    // wallet here (the manifest's dry run above needed none).
    let dry = json_out(
        &dir.path().join("data"),
        &["fetch", "--dry-run", "--json", &url],
    );
    assert_eq!(
        (dry["source"].as_str(), dry["price_sat"].as_u64()),
        (Some("challenge"), Some(3))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_is_down_is_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/", free_port());
    let out = run(&dir.path().join("buyer"), &["discover", &url], &[]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let out = run(
        &dir.path().join("buyer"),
        &["discover", "ftp://example.com/"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
