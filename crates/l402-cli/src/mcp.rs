//! `l402 mcp`: an MCP server so any LLM agent can buy resources within the budget.

use std::net::SocketAddr;

use anyhow::Context;
use l402_core::Msat;

use crate::buyer::{ClientOptions, load_config};
use crate::exit;

/// `l402 mcp` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    /// Serve streamable HTTP on this loopback address (e.g. 127.0.0.1:8403) instead of stdio.
    /// Clients must send `Authorization: Bearer <token>`, the token in `mcp-http.token` in the
    /// data directory (created, and printed once, on first run).
    #[arg(long)]
    pub http: Option<SocketAddr>,
    /// Default per-call maximum cost in satoshis (never above the configured maximum).
    #[arg(long)]
    pub max_cost: Option<u64>,
    /// Certificate verification for the URLs the agent fetches.
    #[command(flatten)]
    pub tls: crate::buyer::TlsArgs,
    /// Shared client options (budget, data directory, wallet).
    #[command(flatten)]
    pub client: ClientOptions,
}

/// Runs the MCP server until the client disconnects (stdio) or SIGTERM/SIGINT (HTTP).
pub async fn run(args: McpArgs) -> anyhow::Result<u8> {
    let mut config = load_config(&args.client)?;
    args.tls.apply(&mut config);
    // The HTTP endpoint's bearer token, created (and shown once) before anything is served.
    let http = match args.http {
        Some(addr) => Some((
            addr,
            l402_mcp::http_options(&config).context("MCP over HTTP")?,
        )),
        None => None,
    };
    let mut server = tokio::task::spawn_blocking(move || l402_mcp::L402McpServer::from_config(&config))
        .await
        .context("starting the MCP server")?
        .map_err(|e| exit::with_code(exit::BAD_INPUT, format!("{e}\nhint: is a wallet available? In dev mode run `l402 serve` or `l402 wallet serve` first.")))?;
    if let Some(sat) = args.max_cost {
        server = server.with_default_max_cost(Msat::from_sat(sat));
    }
    match http {
        None => l402_mcp::serve_stdio(server)
            .await
            .context("MCP over stdio")?,
        Some((addr, options)) => {
            let handle =
                l402_mcp::serve_http_with(server, addr, crate::serve::shutdown_signal(), options)
                    .await
                    .context("MCP over HTTP")?;
            eprintln!("l402 mcp: streamable HTTP endpoint {}", handle.url());
            handle.wait().await.context("MCP over HTTP")?;
        }
    }
    Ok(exit::SUCCESS)
}
