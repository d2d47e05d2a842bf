//! The MCP tests' harness: the real `l402 serve` (zero-config, embedded dev wallet) on loopback
//! and MCP servers whose client pays through its dev wallet.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use l402_client::ClientConfig;
use l402_mcp::L402McpServer;
use l402_testkit::ChildGuard;
use l402_testkit::wait::wait_for_file;
use rmcp::model::CallToolResult;
use serde_json::Value;

use crate::common::{spawn, wait_for};

/// A running `l402 serve` in zero-config mode.
pub struct Seller {
    pub process: ChildGuard,
    pub base: String,
    pub data_dir: PathBuf,
}

impl Seller {
    /// The dev wallet's connection file.
    pub fn connection_file(&self) -> PathBuf {
        self.data_dir
            .join(l402_lightning::dev::CONNECTION_FILE_NAME)
    }
}

/// Starts `l402 serve --data-dir <dir>/seller --listen 127.0.0.1:<free>` and waits until it is
/// ready and its dev wallet wrote its connection file (20 s at most each).
pub async fn start_seller(dir: &Path) -> Seller {
    let addr = l402_testkit::free_addr().to_string();
    let data_dir = dir.join("seller");
    let data = data_dir.display().to_string();
    let mut process = spawn(
        dir,
        "serve",
        &["serve", "--listen", &addr, "--data-dir", &data],
    );
    let base = format!("http://{addr}");
    wait_for(&format!("{base}/readyz"), 200, &mut process).await;
    let seller = Seller {
        process,
        base,
        data_dir,
    };
    wait_for_file(&seller.connection_file(), Duration::from_secs(20));
    seller
}

/// A client configuration paying through `seller`'s dev wallet, with its own store in
/// `<dir>/buyer`, no file and no environment: limits are set by the caller.
pub fn buyer_config(dir: &Path, seller: &Seller) -> ClientConfig {
    let mut config = ClientConfig {
        data_dir: Some(dir.join("buyer")),
        ..ClientConfig::default()
    };
    config.wallet.dev = Some(l402_lightning::spec::DevSpec {
        connection_file: Some(seller.connection_file()),
        wallet_port: None,
    });
    config.budget.max_fee_sat = 1;
    // The seller is on loopback, which `l402_fetch` refuses by default.
    config.mcp.allow_private_networks = true;
    config
}

/// The server for `config` (opening the store is blocking IO).
pub async fn mcp_server(config: &ClientConfig) -> L402McpServer {
    let config = config.clone();
    tokio::task::spawn_blocking(move || L402McpServer::from_config(&config))
        .await
        .unwrap()
        .expect("building the MCP server")
}

/// The structured content of a result (every tool sets it).
pub fn structured(result: &CallToolResult) -> Arc<Value> {
    Arc::new(
        result
            .structured_content
            .clone()
            .expect("structured content"),
    )
}

/// The first text block of a result.
pub fn text(result: &CallToolResult) -> String {
    result.content[0]
        .as_text()
        .expect("a text block")
        .text
        .clone()
}

/// True when the result is a tool error.
pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}
