//! `l402 mcp --admin`: the seller's admin API as MCP tools, against a real `l402 serve
//! --admin-listen`. A read-only macaroon lists only the read tools; a full one adds revoke and
//! restore, which take effect; a refused macaroon or a missing admin listener stops the server
//! from starting, with the exit codes of the rest of `l402`.

mod common;

use common::*;
use l402_admin_client::{AdminClient, FULL_MACAROON_FILE, READ_ONLY_MACAROON_FILE};
use l402_lightning::dev::DevWalletClient;
use l402_mcp::McpError;
use l402_mcp::admin::{AdminMcpServer, StatsArgs, TokenArgs};

fn text(result: &rmcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operators_agent_reads_revenue_and_revokes_only_with_full_access() {
    let dir = tempfile::tempdir().unwrap();
    let admin_addr = free_addr().to_string();
    let (_serve, base) = serve(dir.path(), &["--admin-listen", &admin_addr]).await;
    let data = dir.path().join("data");
    let admin_url = format!("http://{admin_addr}");

    // One sale.
    let url = format!("{base}/api/weather?city=Paris");
    let wallet = DevWalletClient::from_data_dir(&data).unwrap();
    let paid = Payer::new(&wallet).buy(&url).await;
    assert_eq!(get_with(&url, &paid.token).await.status(), 200);

    let read = AdminClient::new(&admin_url, &data.join(READ_ONLY_MACAROON_FILE)).unwrap();
    let reader = AdminMcpServer::connect(read).await.unwrap();
    assert!(!reader.full_access());
    let names: Vec<String> = reader.tools().iter().map(|t| t.name.to_string()).collect();
    assert_eq!(
        names,
        [
            "admin_invoices",
            "admin_revocations",
            "admin_services",
            "admin_stats",
            "admin_status"
        ]
    );
    // The settlement reaches the store shortly after the payment.
    let mut summary = String::new();
    for _ in 0..100 {
        summary = text(&reader.stats(StatsArgs { days: Some(7) }).await);
        if summary.contains("from 1 paid invoice") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        summary.starts_with("Revenue over the last 7 day(s) (UTC, by settlement day): 2 sat from 1 paid invoice(s) (weather 2 sat)."),
        "{summary}"
    );

    let full = AdminClient::new(&admin_url, &data.join(FULL_MACAROON_FILE)).unwrap();
    let operator = AdminMcpServer::connect(full).await.unwrap();
    assert!(operator.full_access());
    assert_eq!(operator.tools().len(), 8);
    let reloaded = text(&operator.reload().await);
    assert!(reloaded.starts_with("Reloaded: 5 services"), "{reloaded}");
    let invoices = text(
        &operator
            .invoices(l402_mcp::admin::InvoicesArgs {
                state: Some("paid".into()),
                ..Default::default()
            })
            .await,
    );
    let listed: serde_json::Value = serde_json::from_str(&invoices).unwrap();
    let token_id = listed["invoices"][0]["token_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = operator
        .revoke(
            TokenArgs {
                token_id: token_id.clone(),
                reason: Some("asked by the user".into()),
            },
            false,
        )
        .await;
    assert_ne!(revoked.is_error, Some(true), "{}", text(&revoked));
    assert_eq!(get_with(&url, &paid.token).await.status(), 402);
    let bad = operator
        .revoke(
            TokenArgs {
                token_id: "nope".into(),
                reason: None,
            },
            false,
        )
        .await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("invalid token id"), "{}", text(&bad));

    // A forged macaroon: the server does not start.
    let forged = AdminClient::with_macaroon(&admin_url, &"00".repeat(40)).unwrap();
    match AdminMcpServer::connect(forged).await {
        Err(McpError::Admin(e)) => assert!(e.is_bad_input(), "{e}"),
        other => panic!("expected a refused macaroon, got {other:?}"),
    }

    // Through the binary: no admin listener there is exit 5; a missing macaroon file exit 2.
    let nowhere = format!("http://{}", free_addr());
    let down = run(&data, &["mcp", "--admin", "--admin-url", &nowhere], &[]);
    assert_eq!(down.status.code(), Some(5), "{}", stderr(&down));
    let empty = dir.path().join("empty");
    let missing = run(&empty, &["mcp", "--admin", "--admin-url", &admin_url], &[]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("admin-readonly.macaroon"),
        "{}",
        stderr(&missing)
    );
}
