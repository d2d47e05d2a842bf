//! The server through the MCP protocol: an in-process rmcp client over a byte stream (what
//! stdio carries), and raw JSON-RPC over the streamable HTTP endpoint.

mod common;
mod mcp_common;

use std::net::SocketAddr;
use std::time::Duration;

use l402_mcp::{BearerToken, McpError, serve_http};
use mcp_common::{buyer_config, mcp_server, start_seller};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_lists_the_tools_and_calls_them() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let mut config = buyer_config(dir.path(), &seller);
    config.budget.max_cost_sat = 50;
    config.budget.daily_sat = Some(500);
    let server = mcp_server(&config).await;

    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn(async move {
        let running = server.serve(server_io).await.expect("server initializes");
        let _ = running.waiting().await;
    });
    let client = ().serve(client_io).await.expect("client initializes");
    let info = client.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().unwrap().name, "l402-mcp");
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(instructions.contains("daily 500 sat"), "{instructions}");

    let mut tools = client.list_all_tools().await.unwrap();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "l402_budget",
            "l402_close_sessions",
            "l402_discover",
            "l402_fetch",
            "l402_quote",
            "l402_receipts",
            "l402_tokens"
        ]
    );
    for t in &tools {
        let d = t.description.as_deref().unwrap_or_default();
        assert!(
            d.contains("budget") || d.contains("Free"),
            "{}: {d}",
            t.name
        );
    }
    let fetch = tools.iter().find(|t| t.name == "l402_fetch").unwrap();
    let d = fetch.description.as_deref().unwrap();
    for needle in [
        "default 50 sat",
        "daily 500 sat",
        "l402_budget",
        "only lower",
    ] {
        assert!(d.contains(needle), "{needle:?} not in {d}");
    }
    let props = fetch.input_schema["properties"].as_object().unwrap();
    for p in ["url", "method", "headers", "body", "max_cost_sat"] {
        assert!(props.contains_key(p), "{p} missing from {props:?}");
    }

    let args = json!({"url": format!("{}/api/weather?city=Paris", seller.base)});
    let paid = client
        .call_tool(
            CallToolRequestParams::new("l402_fetch")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(paid.is_error, Some(false));
    let v = paid.structured_content.unwrap();
    assert_eq!(v["payment"]["amount_sat"], 2, "{v}");

    let budget = client
        .call_tool(CallToolRequestParams::new("l402_budget"))
        .await
        .unwrap();
    let v = budget.structured_content.unwrap();
    assert_eq!(v["max_cost_sat"], 50, "{v}");
    assert!(v["daily"]["spent_sat"].as_u64().unwrap() >= 2, "{v}");

    // A misspelt argument is refused (so a typo cannot silently drop a cost limit).
    let typo = json!({"url": format!("{}/api/weather", seller.base), "max_cost": 1});
    let refused = client
        .call_tool(
            CallToolRequestParams::new("l402_fetch")
                .with_arguments(typo.as_object().unwrap().clone()),
        )
        .await;
    match refused {
        Ok(r) => assert_eq!(r.is_error, Some(true), "{r:?}"),
        Err(e) => assert!(e.to_string().contains("max_cost"), "{e}"),
    }

    client.cancel().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops when the client leaves")
        .unwrap();
}

/// The JSON-RPC message in a response body: plain JSON, or the first `data:` of an SSE stream.
fn message(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    let data = body
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find(|d| !d.is_empty())
        .unwrap_or_else(|| panic!("no data in {body:?}"));
    serde_json::from_str(data).unwrap()
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut req = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .json(&body);
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-06-18");
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_serves_the_tools_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start_seller(dir.path()).await;
    let config = buyer_config(dir.path(), &seller);
    let server = mcp_server(&config).await;

    let token = BearerToken::generate();
    let remote = serve_http(
        server.clone(),
        SocketAddr::from(([0, 0, 0, 0], 0)),
        token.clone(),
        std::future::pending(),
    )
    .await;
    assert!(
        matches!(remote, Err(McpError::NotLoopback(_))),
        "{remote:?}"
    );

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = serve_http(
        server,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        token.clone(),
        async {
            let _ = stop_rx.await;
        },
    )
    .await
    .unwrap();
    let url = running.url();
    assert!(url.ends_with("/mcp"), "{url}");
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(
        "authorization",
        format!("Bearer {}", token.expose()).parse().unwrap(),
    );
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .default_headers(auth)
        .build()
        .unwrap();

    let init = post(
        &http,
        &url,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw-test", "version": "0"}
        }}),
    )
    .await;
    assert!(init.status().is_success(), "{}", init.status());
    let session = init
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let v = message(&init.text().await.unwrap());
    assert_eq!(v["result"]["serverInfo"]["name"], "l402-mcp", "{v}");

    let initialized = post(
        &http,
        &url,
        session.as_deref(),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert!(
        initialized.status().is_success(),
        "{}",
        initialized.status()
    );

    let list = post(
        &http,
        &url,
        session.as_deref(),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    )
    .await;
    let v = message(&list.text().await.unwrap());
    let names: Vec<&str> = v["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(names.contains(&"l402_fetch"), "{names:?}");

    // DNS-rebinding protection: a foreign Host is refused.
    let foreign = http
        .post(&url)
        .header("host", "attacker.example")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert!(foreign.status().is_client_error(), "{}", foreign.status());

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), running.wait())
        .await
        .expect("stops after the shutdown signal")
        .unwrap();
}
