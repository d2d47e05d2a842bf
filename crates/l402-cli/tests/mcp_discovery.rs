//! `l402_discover` and `l402_quote` against a real `l402 serve` (zero-config sample API): an
//! agent compares prices before it spends, and nothing is paid.

mod common;
mod mcp_common;

use l402_mcp::{DiscoverArgs, QuoteArgs, ReceiptsArgs};
use mcp_common::{buyer_config, is_error, mcp_server, start_seller, structured, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_discovers_and_quotes_without_paying() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let config = buyer_config(dir.path(), &seller);
    let server = mcp_server(&config).await;

    let found = server
        .discover(DiscoverArgs {
            url: seller.base.clone(),
        })
        .await;
    assert!(!is_error(&found), "{}", text(&found));
    let v = structured(&found);
    assert_eq!(v["source"], "manifest", "{v}");
    assert_eq!(v["quote_endpoint"], "/l402/quote");
    let similarity = v["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["method"] == "POST" && l["path"] == "/api/similarity")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(similarity["price_sat"], 5);
    assert!(
        v["summary"].as_str().unwrap().contains("nothing was paid"),
        "{v}"
    );

    let quoted = server
        .quote(QuoteArgs {
            url: seller.base.clone(),
            path: Some("/api/similarity".into()),
            method: Some("POST".into()),
            capabilities: Some(vec!["compute".into()]),
            max_price_sat: Some(10),
            ..QuoteArgs::default()
        })
        .await;
    assert!(!is_error(&quoted), "{}", text(&quoted));
    let q = structured(&quoted);
    assert_eq!(q["outcome"], "quoted", "{q}");
    assert_eq!(
        (q["service"].as_str(), q["price_sat"].as_u64()),
        (Some("similarity"), Some(5))
    );

    let over = server
        .quote(QuoteArgs {
            url: seller.base.clone(),
            service: Some("weather".into()),
            max_price_sat: Some(1),
            ..QuoteArgs::default()
        })
        .await;
    assert!(is_error(&over), "{}", text(&over));
    let e = structured(&over);
    assert_eq!(
        (e["status"].as_u64(), e["error"]["code"].as_str()),
        (Some(409), Some("unsatisfiable_budget")),
        "{e}"
    );

    let unknown = server
        .quote(QuoteArgs {
            url: seller.base.clone(),
            service: Some("nope".into()),
            ..QuoteArgs::default()
        })
        .await;
    assert!(is_error(&unknown));
    assert_eq!(structured(&unknown)["error"]["code"], "unknown_service");

    let receipts = server.receipts(ReceiptsArgs::default()).await;
    assert_eq!(
        structured(&receipts)["receipts"].as_array().map(Vec::len),
        Some(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_keeps_agents_off_private_networks_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let mut config = buyer_config(dir.path(), &seller);
    config.mcp.allow_private_networks = false;
    let server = mcp_server(&config).await;
    let found = server
        .discover(DiscoverArgs {
            url: seller.base.clone(),
        })
        .await;
    assert!(is_error(&found), "{}", text(&found));
    assert!(text(&found).contains("refused"), "{}", text(&found));
    let quoted = server
        .quote(QuoteArgs {
            url: seller.base.clone(),
            service: Some("weather".into()),
            ..QuoteArgs::default()
        })
        .await;
    assert!(is_error(&quoted), "{}", text(&quoted));
}
