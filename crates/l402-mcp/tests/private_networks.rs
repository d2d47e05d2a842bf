//! `l402_fetch` refuses loopback, private and link-local destinations unless
//! `[mcp] allow_private_networks` is set: IP literals before anything is sent, names by the
//! addresses they resolve to.

use l402_client::ClientConfig;
use l402_mcp::{FetchArgs, L402McpServer};
use l402_testkit::redirector::Redirector;
use rmcp::model::CallToolResult;

fn server(dir: &std::path::Path, allow_private_networks: bool) -> L402McpServer {
    let mut config = ClientConfig {
        data_dir: Some(dir.to_owned()),
        ..ClientConfig::default()
    };
    config.mcp.allow_private_networks = allow_private_networks;
    L402McpServer::from_config(&config).unwrap()
}

fn fetch_args(url: &str) -> FetchArgs {
    FetchArgs {
        url: url.to_owned(),
        ..FetchArgs::default()
    }
}

fn text(result: &CallToolResult) -> String {
    result.content[0]
        .as_text()
        .expect("a text block")
        .text
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_configuration_refuses_non_public_destinations() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), false);
    let local = Redirector::start(None).await;
    for url in [
        local.at("x"),
        format!("http://localhost:{}/x", local.port),
        "http://[::1]/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://[::ffff:127.0.0.1]/".to_owned(),
        "http://0.0.0.0/".to_owned(),
    ] {
        let result = server.fetch(fetch_args(&url)).await;
        let shown = text(&result);
        assert_eq!(result.is_error, Some(true), "{url}: {shown}");
        assert!(shown.contains("destination_refused"), "{url}: {shown}");
        assert!(
            shown.contains("allow_private_networks"),
            "{url}: the error names the setting: {shown}"
        );
    }
    assert!(
        local.authorizations().is_empty(),
        "nothing reached the loopback server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_resolving_to_loopback_is_refused_by_the_resolver_the_connection_uses() {
    // Only the resolver (no destination guard): `localhost` is refused by the addresses it
    // resolves to, and the connection never happens.
    let dir = tempfile::tempdir().unwrap();
    let local = Redirector::start(None).await;
    let client = l402_client::L402Client::builder()
        .lazy_wallet(|| Err(l402_client::ClientError::Internal("no wallet".into())))
        .store_path(dir.path().join("c.db"))
        .dns_resolver(std::sync::Arc::new(l402_mcp::PublicOnly))
        .build()
        .unwrap();
    let err = client
        .get(&format!("http://localhost:{}/x", local.port))
        .await
        .unwrap_err();
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(e) = source {
        chain.push_str(&format!(": {e}"));
        source = e.source();
    }
    assert!(
        chain.contains("loopback") && chain.contains("allow_private_networks"),
        "{chain}"
    );
    assert!(local.authorizations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setting_lets_loopback_through() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path(), true);
    let local = Redirector::start(None).await;
    for url in [local.at("x"), format!("http://localhost:{}/x", local.port)] {
        let result = server.fetch(fetch_args(&url)).await;
        assert_ne!(result.is_error, Some(true), "{url}: {}", text(&result));
    }
    assert_eq!(local.authorizations().len(), 2);
}
