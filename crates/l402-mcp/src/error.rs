//! [`McpError`]: why the MCP server could not start or stopped.
//!
//! Failures of a single tool call are not errors of this type: they come back to the model as
//! tool results with `isError: true` (see [`crate::L402McpServer::fetch`]).

use std::net::SocketAddr;

use l402_client::{ClientError, ConfigError};

/// Why the MCP server could not be built, started or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The buyer's configuration is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The L402 client (wallet or store) could not be opened.
    #[error("{0}")]
    Client(#[from] ClientError),
    /// The HTTP transport would listen on a non-loopback address without
    /// [`HttpOptions::allow_remote`](crate::HttpOptions::allow_remote).
    #[error(
        "refusing to serve MCP over HTTP on {0}: it is not a loopback address, and anyone who \
         reaches the endpoint with its bearer token can spend the budget. Bind 127.0.0.1 or \
         ::1, or put a TLS-terminating reverse proxy in front and allow remote binding \
         explicitly"
    )]
    NotLoopback(SocketAddr),
    /// Binding or serving a socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP endpoint's bearer token is unusable (too short, blank file).
    #[error("unusable MCP HTTP bearer token: {0}")]
    BadToken(String),
    /// The MCP session could not be set up (the peer did not initialize).
    #[error("MCP session setup failed: {0}")]
    Initialize(String),
    /// The seller's admin API could not be reached or refused the macaroon
    /// (`l402 mcp --admin`).
    #[error("the seller's admin API: {0}")]
    Admin(#[source] l402_admin_client::AdminClientError),
    /// The remote MCP server URL `l402 mcp --upstream` was given is refused (not an http(s)
    /// URL, or a private address without `[mcp] allow_private_networks`). Nothing was sent.
    #[error("the upstream MCP server {url} is refused: {reason}")]
    UpstreamRefused {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The remote MCP server `l402 mcp --upstream` fronts could not be connected to (no MCP
    /// session could be set up with it).
    #[error("the upstream MCP server {url}: {reason}")]
    Upstream {
        /// The URL given.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The serving task failed.
    #[error("MCP server task failed: {0}")]
    Task(String),
}
