//! Shared harness: runs the real `l402 serve` (zero-config, embedded dev wallet) on loopback
//! and builds MCP servers whose client pays through its dev wallet.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use l402_client::ClientConfig;
use l402_mcp::L402McpServer;
use rmcp::model::CallToolResult;
use serde_json::Value;

/// The `l402` binary: `$L402_BIN`, or `target/debug/l402` built once per test run with
/// `cargo build -p l402-cli --bin l402` (a no-op when it is fresh).
pub fn l402_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("L402_BIN") {
            return PathBuf::from(bin);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "l402-cli", "--bin", "l402"])
            .current_dir(&root)
            .stdout(Stdio::null())
            .status()
            .expect("running cargo build -p l402-cli");
        assert!(status.success(), "cargo build -p l402-cli failed");
        target.join("debug").join("l402")
    })
    .clone()
}

/// A child process killed on drop.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// The process's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `l402 serve` in zero-config mode.
pub struct Seller {
    pub proc_: Proc,
    pub base: String,
    pub data_dir: PathBuf,
}

impl Seller {
    /// The dev wallet's connection file.
    pub fn connection_file(&self) -> PathBuf {
        self.data_dir.join("dev-wallet.json")
    }
}

/// Starts `l402 serve --data-dir <dir>/seller --listen 127.0.0.1:<free>` and waits until it is
/// ready and its dev wallet wrote its connection file (20 s at most).
pub async fn start_seller(dir: &Path) -> Seller {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let data_dir = dir.join("seller");
    let log = dir.join("serve.log");
    let child = Command::new(l402_bin())
        .args(["serve", "--listen", &addr.to_string(), "--data-dir"])
        .arg(&data_dir)
        .env_remove("L402_CONFIG")
        .env_remove("L402_DATA_DIR")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawning l402 serve");
    let proc_ = Proc { child, log };
    let base = format!("http://{addr}");
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap();
    let start = Instant::now();
    loop {
        let ready = http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready && data_dir.join("dev-wallet.json").exists() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "l402 serve never became ready; log:\n{}",
            proc_.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Seller {
        proc_,
        base,
        data_dir,
    }
}

/// A client configuration paying through `seller`'s dev wallet, with its own store in
/// `<dir>/buyer`, no file and no environment: limits are set by the caller.
pub fn buyer_config(dir: &Path, seller: &Seller) -> ClientConfig {
    let mut config = ClientConfig {
        data_dir: Some(dir.join("buyer")),
        ..ClientConfig::default()
    };
    config.wallet.connection_file = Some(seller.connection_file());
    config.budget.max_fee_sat = 1;
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
