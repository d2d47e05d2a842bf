//! The tool handlers against a real `l402 serve` (zero-config sample API, embedded dev wallet):
//! one payment then token reuse, budget refusals as tool errors with nothing paid, and
//! `max_cost_sat` that lowers the maximum but never raises it.

mod common;
mod mcp_common;

use l402_mcp::{FetchArgs, ReceiptsArgs};
use mcp_common::{buyer_config, is_error, mcp_server, start_seller, structured, text};
use serde_json::json;

fn weather(base: &str) -> FetchArgs {
    FetchArgs {
        url: format!("{base}/api/weather?city=Paris"),
        ..FetchArgs::default()
    }
}

fn similarity(base: &str) -> FetchArgs {
    FetchArgs {
        url: format!("{base}/api/similarity"),
        method: Some("POST".into()),
        body: Some(json!({"a": [1.0, 0.0], "b": [1.0, 1.0]}).to_string()),
        ..FetchArgs::default()
    }
}

async fn receipt_count(server: &l402_mcp::L402McpServer) -> usize {
    let r = server.receipts(ReceiptsArgs::default()).await;
    assert!(!is_error(&r), "{}", text(&r));
    structured(&r)["receipts"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pays_once_then_reuses_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let mut config = buyer_config(dir.path(), &seller);
    config.budget.daily_sat = Some(100);
    let server = mcp_server(&config).await;

    let first = server.fetch(weather(&seller.base)).await;
    assert!(!is_error(&first), "{}", text(&first));
    let v = structured(&first);
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["payment"]["paid"], true, "{v}");
    assert_eq!(v["payment"]["amount_sat"], 2, "{v}");
    assert_eq!(v["payment"]["reused_token"], false, "{v}");
    assert_eq!(v["payment"]["payment_hash"].as_str().unwrap().len(), 64);
    let fee = v["payment"]["fee_sat"].as_u64().unwrap();
    assert_eq!(v["budget_left"]["daily_sat"], 100 - 2 - fee, "{v}");
    assert!(v["body"].as_str().unwrap().contains("Paris"), "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains("Paid 2 sat"), "{summary}");
    assert!(summary.contains("Budget left"), "{summary}");
    // The paid response told how long the token lasts (L402-Token).
    let expires = v["token"]["expires_at"]
        .as_u64()
        .expect("token status reported");
    let left = v["token"]["seconds_left"].as_u64().unwrap();
    assert!(left > 0, "{v}");
    assert!(
        summary.contains(&format!("The token has {left} s left")),
        "{summary}"
    );

    let second = server.fetch(weather(&seller.base)).await;
    assert!(!is_error(&second), "{}", text(&second));
    let v = structured(&second);
    assert_eq!(v["status"], 200);
    assert_eq!(v["payment"]["paid"], false, "{v}");
    assert_eq!(v["payment"]["reused_token"], true, "{v}");
    assert_eq!(v["payment"]["total_sat"], 0);
    assert_eq!(v["budget_left"]["daily_sat"], 100 - 2 - fee, "{v}");

    assert_eq!(receipt_count(&server).await, 1);
    let budget = structured(&server.budget().await);
    assert_eq!(budget["daily"]["spent_sat"], 2 + fee, "{budget}");
    assert_eq!(budget["daily"]["limit_sat"], 100);
    assert_eq!(budget["total"]["limit_sat"], serde_json::Value::Null);

    let tokens = server.tokens().await;
    let shown = text(&tokens);
    let t = structured(&tokens);
    assert_eq!(t["tokens"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(t["tokens"][0]["amount_sat"], 2);
    assert_eq!(t["tokens"][0]["expires_at"], expires, "{t}");
    assert!(t["tokens"][0]["status_reported_at"].is_u64(), "{t}");
    assert!(
        t["tokens"][0]["seconds_left"].as_u64().unwrap() <= left,
        "{t}"
    );
    assert_eq!(t["tokens"][0]["expired"], false, "{t}");
    // No secrets: neither the macaroon nor the preimage is listed.
    assert!(
        !shown.contains("macaroon") && !shown.contains("preimage"),
        "{shown}"
    );
    let keys: Vec<&String> = t["tokens"][0].as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| !k.contains("macaroon") && !k.contains("preimage")),
        "{keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_budget_is_a_tool_error_naming_the_limit_and_nothing_is_paid() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let mut config = buyer_config(dir.path(), &seller);
    // Weather costs 2 sat (+1 sat fee reserve); similarity 5 sat (+1): 2 + 6 > 6.
    config.budget.daily_sat = Some(6);
    let server = mcp_server(&config).await;

    let paid = server.fetch(weather(&seller.base)).await;
    assert!(!is_error(&paid), "{}", text(&paid));
    let spent_before = structured(&server.budget().await)["daily"]["spent_sat"].clone();

    let refused = server.fetch(similarity(&seller.base)).await;
    assert!(is_error(&refused), "{}", text(&refused));
    let shown = text(&refused);
    assert!(shown.starts_with("Nothing was paid."), "{shown}");
    assert!(
        shown.contains("would exceed the daily budget by"),
        "{shown}"
    );
    assert!(
        shown.contains("Hint:") && shown.contains("daily"),
        "{shown}"
    );
    let v = structured(&refused);
    assert_eq!(v["error"], "over_budget", "{v}");
    assert_eq!(v["nothing_paid"], true);
    assert!(v["budget_left"]["daily_sat"].is_number(), "{v}");

    assert_eq!(receipt_count(&server).await, 1, "no second payment");
    let spent_after = structured(&server.budget().await)["daily"]["spent_sat"].clone();
    assert_eq!(spent_before, spent_after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_cost_sat_lowers_the_maximum_and_never_raises_it() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let mut config = buyer_config(dir.path(), &seller);
    // The configured maximum per invoice: weather (2 sat) fits, similarity (5 sat) does not.
    config.budget.max_cost_sat = 3;
    let server = mcp_server(&config).await;
    let desc = server
        .tools()
        .into_iter()
        .find(|t| t.name == "l402_fetch")
        .unwrap()
        .description
        .unwrap();
    assert!(desc.contains("default 3 sat"), "{desc}");

    // A huge max_cost_sat does not raise the configured 3 sat.
    let mut huge = similarity(&seller.base);
    huge.max_cost_sat = Some(1_000_000);
    let refused = server.fetch(huge).await;
    assert!(is_error(&refused), "{}", text(&refused));
    let v = structured(&refused);
    assert_eq!(v["error"], "over_max_cost", "{v}");
    assert_eq!(v["nothing_paid"], true);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("exceeds the maximum 3 sat"),
        "{v}"
    );
    assert!(
        v["hint"].as_str().unwrap().contains("cannot raise it"),
        "{v}"
    );
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("max_cost_sat 1000000 is above the configured maximum of 3 sat"),
        "{v}"
    );
    assert_eq!(receipt_count(&server).await, 0);

    // A lower max_cost_sat refuses what the configured maximum would pay.
    let mut low = weather(&seller.base);
    low.max_cost_sat = Some(1);
    let refused = server.fetch(low).await;
    assert!(is_error(&refused), "{}", text(&refused));
    let v = structured(&refused);
    assert_eq!(v["error"], "over_max_cost", "{v}");
    assert!(
        v["hint"]
            .as_str()
            .unwrap()
            .contains("retry with max_cost_sat of at least 2"),
        "{v}"
    );
    assert_eq!(receipt_count(&server).await, 0);

    // Within the lowered maximum it pays.
    let mut enough = weather(&seller.base);
    enough.max_cost_sat = Some(2);
    let paid = server.fetch(enough).await;
    assert!(!is_error(&paid), "{}", text(&paid));
    let v = structured(&paid);
    assert_eq!(v["payment"]["amount_sat"], 2, "{v}");
    assert_eq!(v["max_cost_sat"], 2);

    // A huge max_cost_sat on a held token: capped to 3 sat, noted, nothing paid.
    let mut again = weather(&seller.base);
    again.max_cost_sat = Some(1_000_000);
    let reused = server.fetch(again).await;
    let v = structured(&reused);
    assert_eq!(v["payment"]["reused_token"], true, "{v}");
    assert_eq!(v["max_cost_sat"], 3, "{v}");
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("can only lower it"),
        "{v}"
    );
    assert_eq!(receipt_count(&server).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_max_cost_below_the_configured_one_applies_and_can_be_raised_up_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let config = buyer_config(dir.path(), &seller);
    let server = mcp_server(&config)
        .await
        .with_default_max_cost(l402_core::Msat::from_sat(1));

    let refused = server.fetch(weather(&seller.base)).await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert_eq!(structured(&refused)["error"], "over_max_cost");

    let mut explicit = weather(&seller.base);
    explicit.max_cost_sat = Some(10);
    let paid = server.fetch(explicit).await;
    assert!(!is_error(&paid), "{}", text(&paid));
    assert_eq!(structured(&paid)["payment"]["amount_sat"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_tools_work_without_a_wallet_and_a_payment_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    // A buyer whose data directory has no dev wallet connection file.
    let mut config = l402_client::ClientConfig {
        data_dir: Some(dir.path().join("walletless")),
        ..Default::default()
    };
    // The seller is on loopback, which `l402_fetch` refuses by default.
    config.mcp.allow_private_networks = true;
    let server = mcp_server(&config).await;
    for result in [
        server.receipts(ReceiptsArgs::default()).await,
        server.budget().await,
        server.tokens().await,
    ] {
        assert!(!is_error(&result), "{}", text(&result));
    }
    let r = server.fetch(weather(&seller.base)).await;
    assert!(is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("dev-wallet.json"), "{}", text(&r));
    assert_eq!(receipt_count(&server).await, 0);
}
