//! `l402 mcp`: an MCP server so any LLM agent can buy resources within the budget.

use std::net::SocketAddr;
use std::time::Duration;

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
    /// Front a remote paid MCP server (streamable HTTP, e.g. `https://host/mcp`): the local
    /// agent gets its tools plus l402_budget and l402_receipts, and every call the remote
    /// prices (the Payment scheme's MCP transport, Lightning charge) is paid within the
    /// budget, at most --max-cost per call. One upstream per process. Private addresses need
    /// `[mcp] allow_private_networks = true`.
    #[arg(long, value_name = "URL", conflicts_with = "admin")]
    pub upstream: Option<String>,
    /// Serve the operator's tools instead: a running seller's admin API (revenue, invoices,
    /// health; revoke and restore only with a full-access macaroon). Over stdio.
    #[arg(long)]
    pub admin: bool,
    /// With --admin: the seller's admin listener.
    #[arg(long, env = "L402_ADMIN_URL", default_value = "http://127.0.0.1:9402")]
    pub admin_url: String,
    /// With --admin: the admin macaroon file (default: admin-readonly.macaroon in the data
    /// directory; give admin.macaroon for the revoke and restore tools).
    #[arg(long, env = "L402_ADMIN_MACAROON")]
    pub admin_macaroon: Option<std::path::PathBuf>,
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
    if args.admin {
        return run_admin(&args).await;
    }
    let mut config = load_config(&args.client)?;
    args.tls.apply(&mut config);
    let allow_private = config.mcp.allow_private_networks;
    let close_idle = config.mcp.close_idle_sessions_secs;
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
    let client = server.shared_client();
    let closer = (close_idle > 0).then(|| {
        l402_mcp::IdleSessionCloser::spawn(client.clone(), Duration::from_secs(close_idle))
    });
    let served = serve_front_or_tools(server, args.upstream.as_deref(), allow_private, http).await;
    if closer.is_some() {
        close_sessions_at_exit(&client).await;
    }
    served
}

/// Closes every prepaid session the MCP server holds as it stops (bounded in time), so the
/// deposits come back to the wallet.
async fn close_sessions_at_exit(client: &l402_client::L402Client) {
    match tokio::time::timeout(Duration::from_secs(15), client.close_sessions()).await {
        Ok(Ok(closed)) if !closed.is_empty() => {
            let refunded: u64 = closed.iter().filter_map(|c| c.refund).map(|r| r.0).sum();
            eprintln!(
                "l402 mcp: closed {} prepaid session(s) on exit; {} refunded",
                closed.len(),
                Msat(refunded)
            );
        }
        Ok(Ok(_)) => {}
        Ok(Err(e)) => eprintln!("l402 mcp: could not close the prepaid sessions on exit: {e}"),
        Err(_) => eprintln!(
            "l402 mcp: closing the prepaid sessions on exit took over 15 s; `l402 sessions close` finishes it"
        ),
    }
}

/// Serves the tools, or fronts the paid MCP server at `upstream`.
async fn serve_front_or_tools(
    server: l402_mcp::L402McpServer,
    upstream: Option<&str>,
    allow_private: bool,
    http: Option<(SocketAddr, l402_mcp::HttpOptions)>,
) -> anyhow::Result<u8> {
    match upstream {
        Some(url) => {
            let front = l402_mcp::UpstreamMcpServer::connect(server, url, allow_private)
                .await
                .map_err(|e| {
                    let code = match &e {
                        l402_mcp::McpError::UpstreamRefused { .. } => exit::BAD_INPUT,
                        _ => exit::NETWORK,
                    };
                    exit::with_code(code, format!("l402 mcp --upstream: {e}"))
                })?;
            eprintln!("l402 mcp: fronting {}", front.upstream_url());
            serve(front, http).await
        }
        None => serve(server, http).await,
    }
}

/// Serves `server` over stdio, or over streamable HTTP when `http` is given.
async fn serve<S>(
    server: S,
    http: Option<(SocketAddr, l402_mcp::HttpOptions)>,
) -> anyhow::Result<u8>
where
    S: rmcp::ServerHandler + Clone + Send + Sync + 'static,
{
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

/// `l402 mcp --admin`: the admin tools over stdio.
async fn run_admin(args: &McpArgs) -> anyhow::Result<u8> {
    if args.http.is_some() {
        return Err(exit::with_code(
            exit::BAD_INPUT,
            "--admin serves over stdio only: drop --http (an operator's agent spawns it locally)",
        ));
    }
    let macaroon = match args.admin_macaroon.clone() {
        Some(path) => path,
        // The data directory as every other command resolves it (--data-dir, L402_DATA_DIR,
        // the client configuration, the platform default).
        None => load_config(&args.client)?
            .data_dir()
            .context("the data directory")?
            .join(l402_admin_client::READ_ONLY_MACAROON_FILE),
    };
    let client = l402_admin_client::AdminClient::new(&args.admin_url, &macaroon)
        .map_err(|e| exit::with_code(exit::BAD_INPUT, e.to_string()))?;
    let server = l402_mcp::admin::AdminMcpServer::connect(client)
        .await
        .map_err(|e| {
            let code = match &e {
                l402_mcp::McpError::Admin(inner) if inner.is_bad_input() => exit::BAD_INPUT,
                _ => exit::NETWORK,
            };
            exit::with_code(code, format!("l402 mcp --admin: {e}"))
        })?;
    eprintln!(
        "l402 mcp --admin: {} tools over {}",
        if server.full_access() {
            "full-access"
        } else {
            "read-only"
        },
        args.admin_url
    );
    l402_mcp::serve_stdio(server)
        .await
        .context("MCP over stdio")?;
    Ok(exit::SUCCESS)
}
