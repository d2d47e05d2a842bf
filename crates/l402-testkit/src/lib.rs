//! Shared test kit for the workspace's test suites (never published).
//!
//! - [`process`]: a child process killed on drop, its stderr in a log file.
//! - [`ports`]: free loopback ports.
//! - [`wait`]: bounded waits for a port, a file, a condition (and, with `http`, an HTTP status).
//! - [`l402`]: the `l402` binary. Its path comes only from an end-to-end test crate's
//!   `env!("CARGO_BIN_EXE_l402")` (the binary's own crate): no nested `cargo build`, no guessed
//!   `target/debug` path.
//! - `wallet` (feature `wallet`): dev wallets in temporary directories, and paying one
//!   challenge (`wallet::Payer`).
//! - `hooked` (feature `wallet`): a wallet wrapper forwarding every call unless a hook
//!   overrides it (counting, crashing or deliberately broken wallets).
//! - `paid_server` (feature `paid-server`): an in-process paid HTTP seller and a
//!   payment-counting wallet wrapper.
//! - `paid_mcp` (feature `paid-mcp`): an in-process paid MCP server (streamable HTTP) selling
//!   tool calls with the `Payment` scheme's MCP transport, Lightning charge.
//! - `prometheus` (feature `prometheus`): a real Prometheus scraping admin listeners, and its
//!   instant queries.
//! - `raw_http` (feature `raw-http`): requests written byte for byte on a socket.
//! - `redirector` (feature `paid-server`): a loopback server recording `Authorization` headers
//!   that redirects every request to another base URL (or answers `200 ok`).
//! - `serve` (feature `net`): a mock server's accept loop on loopback.
//! - `sample` (feature `sample`): the sample API as a seller's upstream, with its
//!   configuration file.
//! - `nwc` (feature `nwc`): a Nostr relay on loopback and a NIP-47 wallet service.
//! - `streams` (feature `streams`): an upstream with a WebSocket echo and a server-sent event
//!   stream, a WebSocket client with an `Authorization` header, waits for a stream's end.
//!
//! Every helper panics with a clear message when something is missing or times out: a test
//! whose environment is missing fails, it never passes silently. [`require_env`] is the one
//! way tier tests read their environment.

pub mod l402;
pub mod ports;
pub mod process;
pub mod wait;

#[cfg(feature = "wallet")]
pub mod hooked;
#[cfg(feature = "logs")]
pub mod logs;
#[cfg(feature = "nwc")]
pub mod nwc;
#[cfg(feature = "paid-mcp")]
pub mod paid_mcp;
#[cfg(feature = "paid-server")]
pub mod paid_server;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "raw-http")]
pub mod raw_http;
#[cfg(feature = "paid-server")]
pub mod redirector;
#[cfg(feature = "sample")]
pub mod sample;
#[cfg(feature = "net")]
pub mod serve;
#[cfg(feature = "streams")]
pub mod streams;
#[cfg(feature = "wallet")]
pub mod wallet;

pub use ports::{free_addr, free_port};
pub use process::ChildGuard;

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Milliseconds since the Unix epoch.
pub fn now_unix_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    u64::try_from(since.as_millis()).expect("milliseconds fit a u64")
}

/// The value of the environment variable `name`; panics, naming `who_sets_it`, when it is
/// absent. Tier tests (`#[ignore]`, run by a tier script) read their environment with this so
/// that running them without it fails with the reason instead of passing.
pub fn require_env(name: &str, who_sets_it: &str) -> String {
    match std::env::var(name) {
        Ok(value) => value,
        Err(_) => panic!(
            "{name} is not set: this test needs its environment ({who_sets_it} sets it); \
             it is #[ignore]d so a plain `cargo test` does not run it"
        ),
    }
}
