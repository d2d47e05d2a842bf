//! `l402 mcp --upstream URL`: an agent host (rmcp's client over the child's stdio) calls the
//! tools of a remote paid MCP server through the front, which pays each priced call within the
//! budget. The remote is the test kit's paid MCP server (rmcp's streamable HTTP server selling
//! `search` with the `Payment` scheme's MCP transport, Lightning charge), its invoices from the
//! same dev wallet the buyer pays with (`l402 wallet serve`).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use l402_client::ClientConfig;
use l402_mcp::{L402McpServer, PAYMENT_META_KEY, UpstreamMcpServer};
use l402_testkit::paid_mcp::{FREE_TOOL, PRICED_TOOL, PaidMcpOptions, PaidMcpServer};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use serde_json::{Value, json};

/// A running dev wallet (`l402 wallet serve`) with its data (connection file, ledger) in `data`.
async fn dev_wallet(dir: &Path, data: &Path) -> ChildGuard {
    std::fs::create_dir_all(data).unwrap();
    let data_arg = data.display().to_string();
    let mut p = spawn(dir, "wallet", &["wallet", "serve", "--data-dir", &data_arg]);
    l402_testkit::wait::wait_for_file(&data.join("dev-wallet.json"), Duration::from_secs(20));
    p.assert_running();
    p
}

/// The dev wallet's ledger directory in `data` (what the paid MCP server mints from).
fn ledger(data: &Path) -> PathBuf {
    data.join("dev-wallet")
}

fn call(name: &str, args: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name.to_owned()).with_arguments(args.as_object().unwrap().clone())
}

fn text(result: &CallToolResult) -> String {
    result.content[0]
        .as_text()
        .expect("a text block")
        .text
        .clone()
}

fn meta(result: &CallToolResult, key: &str) -> Value {
    result
        .meta
        .as_ref()
        .and_then(|m| m.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_pays_remote_tool_calls_through_the_front_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    let _wallet = dev_wallet(dir.path(), &data).await;
    let remote = PaidMcpServer::start_in(PaidMcpOptions::default(), &ledger(&data)).await;
    let config = data.join("client.toml");
    // 10 sat a call plus at most 1 sat of fee: two calls fit in 25 sat a day, a third does not.
    std::fs::write(
        &config,
        "[budget]\nmax_cost_sat = 50\nmax_fee_sat = 1\ndaily_sat = 25\n\n[mcp]\nallow_private_networks = true\n",
    )
    .unwrap();

    let (mut child, agent) = mcp_stdio(
        &["--upstream", &remote.url],
        &[
            ("L402_DATA_DIR", data.as_os_str()),
            ("L402_CLIENT_CONFIG", config.as_os_str()),
        ],
        &dir.path().join("mcp.log"),
    )
    .await;
    let instructions = agent
        .peer_info()
        .and_then(|i| i.instructions.clone())
        .unwrap_or_default();
    assert!(instructions.contains(&remote.url), "{instructions}");
    assert!(
        instructions.contains("A test server selling"),
        "{instructions}"
    );

    let mut names: Vec<String> = agent
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [FREE_TOOL, "l402_budget", "l402_receipts", PRICED_TOOL]
    );

    // A free tool: forwarded, nothing minted, nothing paid.
    let echo = agent
        .call_tool(call(FREE_TOOL, json!({"text": "hi"})))
        .await
        .unwrap();
    assert_eq!((text(&echo).as_str(), echo.is_error), ("hi", Some(false)));
    assert_eq!(remote.challenges(), 0);

    // A priced tool, twice: each call pays its own challenge, and the remote's receipt and
    // what the call paid come back in `_meta`.
    let mut hashes = Vec::new();
    for q in ["lightning", "bolt12"] {
        let paid = agent
            .call_tool(call(PRICED_TOOL, json!({"q": q})))
            .await
            .unwrap();
        assert_eq!(text(&paid), format!("results for {q}"), "{paid:?}");
        assert_ne!(paid.is_error, Some(true));
        let receipt = meta(&paid, l402_mpp::mcp::RECEIPT_META_KEY);
        assert_eq!(receipt["status"], "success", "{paid:?}");
        let ours = meta(&paid, PAYMENT_META_KEY);
        assert_eq!(ours["payment"]["amount_sat"], 10, "{ours}");
        assert_eq!(
            ours["payment"]["payment_hash"], receipt["reference"],
            "{ours}"
        );
        hashes.push(receipt["reference"].as_str().unwrap().to_owned());
    }
    assert_ne!(hashes[0], hashes[1], "one payment per call");
    assert_eq!((remote.challenges(), remote.paid_calls()), (2, 2));

    // The third would exceed the daily limit: refused before paying, with a hint.
    let refused = agent
        .call_tool(call(PRICED_TOOL, json!({"q": "again"})))
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    let report = refused.structured_content.clone().unwrap();
    assert_eq!(report["error"], "over_budget", "{report}");
    assert_eq!(report["nothing_paid"], true, "{report}");
    assert!(text(&refused).contains("Hint:"), "{}", text(&refused));
    assert_eq!((remote.challenges(), remote.paid_calls()), (3, 2));

    // The local tools show both payments.
    let listed = agent
        .call_tool(call("l402_receipts", json!({})))
        .await
        .unwrap();
    let rows = listed.structured_content.clone().unwrap()["receipts"].clone();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in rows {
        assert_eq!(row["amount_sat"], 10, "{row}");
        assert!(
            row["url"].as_str().unwrap().ends_with("/mcp#search"),
            "{row}"
        );
        assert!(hashes.contains(&row["payment_hash"].as_str().unwrap().to_owned()));
    }
    let budget = agent
        .call_tool(call("l402_budget", json!({})))
        .await
        .unwrap();
    let budget = budget.structured_content.clone().unwrap();
    assert_eq!(budget["daily"]["spent_sat"], 20, "{budget}");
    agent.cancel().await.unwrap();
    let _ = child.wait().await;

    // And so does the CLI, from the same store.
    let cli = receipts(&data);
    assert_eq!(cli.len(), 2, "{cli:?}");
}

/// A client configuration paying through the dev wallet whose connection file is in `data`,
/// with its store there.
fn buyer(data: &Path) -> ClientConfig {
    let mut config = ClientConfig {
        data_dir: Some(data.to_owned()),
        ..ClientConfig::default()
    };
    config.wallet.dev = Some(l402_lightning::spec::DevSpec {
        connection_file: Some(data.join("dev-wallet.json")),
        wallet_port: None,
    });
    config.budget.max_fee_sat = 1;
    config.budget.max_cost_sat = 50;
    config.mcp.allow_private_networks = true;
    config
}

async fn front(config: &ClientConfig, url: &str) -> UpstreamMcpServer {
    let c = config.clone();
    let local = tokio::task::spawn_blocking(move || L402McpServer::from_config(&c))
        .await
        .unwrap()
        .unwrap();
    UpstreamMcpServer::connect(local, url, true)
        .await
        .expect("connected")
}

async fn paid_count(front: &UpstreamMcpServer) -> usize {
    front.client().receipts(100).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_pays_a_challenge_in_a_result_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    let _wallet = dev_wallet(dir.path(), &data).await;
    let config = buyer(&data);
    let search = || call(PRICED_TOOL, json!({"q": "x"}));

    // mppx's variant: the challenge in a tool result's `_meta`.
    let in_result = PaidMcpServer::start_in(
        PaidMcpOptions {
            challenge_in_result: true,
            ..PaidMcpOptions::default()
        },
        &ledger(&data),
    )
    .await;
    let f = front(&config, &in_result.url).await;
    let paid = f.call(search()).await.unwrap();
    assert_eq!(text(&paid), "results for x", "{paid:?}");
    assert_eq!(
        meta(&paid, l402_mpp::mcp::RECEIPT_META_KEY)["status"],
        "success"
    );
    assert_eq!((in_result.paid_calls(), paid_count(&f).await), (1, 1));

    // A dishonest server (an invoice for more than the challenge's amount) and an expired
    // challenge: refused, nothing paid.
    for (options, why) in [
        (
            PaidMcpOptions {
                invoice_sat: Some(11),
                ..PaidMcpOptions::default()
            },
            "the request says 10 sat",
        ),
        (
            PaidMcpOptions {
                challenge_secs: 0,
                ..PaidMcpOptions::default()
            },
            "expired",
        ),
    ] {
        let refusing = PaidMcpServer::start_in(options, &ledger(&data)).await;
        let f = front(&config, &refusing.url).await;
        let r = f.call(search()).await.unwrap();
        let report = r.structured_content.clone().unwrap();
        assert_eq!(
            (r.is_error, &report["nothing_paid"]),
            (Some(true), &json!(true)),
            "{report}"
        );
        assert!(
            report["message"].as_str().unwrap().contains(why),
            "{report}"
        );
        assert_eq!(paid_count(&f).await, 1);
    }

    // A remote that refuses the credential after being paid: paid once, never twice.
    let refusing = PaidMcpServer::start_in(PaidMcpOptions::default(), &ledger(&data)).await;
    refusing.set_refuse_credentials(true);
    let f = front(&config, &refusing.url).await;
    let r = f.call(search()).await.unwrap();
    let report = r.structured_content.clone().unwrap();
    assert_eq!(r.is_error, Some(true), "{report}");
    assert_eq!(report["nothing_paid"], false, "{report}");
    assert_eq!(report["payment"]["amount_sat"], 10, "{report}");
    assert!(
        report["message"].as_str().unwrap().contains("-32043"),
        "{report}"
    );
    assert_eq!((refusing.challenges(), paid_count(&f).await), (2, 2));

    // Other JSON-RPC errors of the remote pass through.
    let e = f
        .call(call("nope", json!({})))
        .await
        .expect_err("an unknown tool is the remote's error");
    assert!(e.message.contains("no tool named nope"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_upstream_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("buyer");
    let out = run(&data, &["mcp", "--upstream", "http://127.0.0.1:9/mcp"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("loopback") && err.contains("allow_private_networks"),
        "{err}"
    );
    let out = run(&data, &["mcp", "--upstream", "ftp://example.com/mcp"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Allowed, but nothing listens there: a network error.
    let out = run(
        &data,
        &["mcp", "--upstream", &format!("http://{}/mcp", free_addr())],
        &[("L402_MCP_ALLOW_PRIVATE_NETWORKS", "true")],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
}
