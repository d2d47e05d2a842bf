//! # `mcp_server`: the L402 MCP tools over stdio or streamable HTTP
//!
//! Stands in for `l402 mcp [--http ADDR]` until the CLI has it. Loads the buyer's configuration
//! (`~/.config/l402/config.toml` or `--client-config PATH`, then the `L402_*` variables), opens
//! its wallet and store, and serves the tools.
//!
//! ```text
//! L402_DATA_DIR=/tmp/l402 cargo run -p l402-mcp --example mcp_server                 # stdio
//! L402_DATA_DIR=/tmp/l402 cargo run -p l402-mcp --example mcp_server -- --http 127.0.0.1:3403
//! ```
//!
//! Options: `--http ADDR` (streamable HTTP at `http://ADDR/mcp`, loopback only, bearer token
//! from `<data dir>/mcp-http.token`, created and printed once on first use), `--max-cost-sat N`
//! (per-call default maximum, at most the configured one), `--client-config PATH`.
//! Logs go to stderr (`L402_LOG`, default `warn`); stdout carries only the protocol.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use l402_client::ClientConfig;
use l402_core::Msat;
use l402_mcp::{L402McpServer, http_options, serve_http_with, serve_stdio};

/// The parsed command line.
#[derive(Default)]
struct Args {
    http: Option<SocketAddr>,
    max_cost_sat: Option<u64>,
    client_config: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--http" => {
                let v = value("--http")?;
                args.http = Some(v.parse().map_err(|e| format!("--http {v:?}: {e}"))?);
            }
            "--max-cost-sat" => {
                let v = value("--max-cost-sat")?;
                args.max_cost_sat = Some(
                    v.parse()
                        .map_err(|e| format!("--max-cost-sat {v:?}: {e}"))?,
                );
            }
            "--client-config" => args.client_config = Some(value("--client-config")?.into()),
            "-h" | "--help" => {
                return Err(
                    "usage: mcp_server [--http ADDR] [--max-cost-sat N] [--client-config PATH]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

async fn run(args: Args) -> Result<(), String> {
    let config = ClientConfig::load(args.client_config.as_deref()).map_err(|e| e.to_string())?;
    let options = match args.http {
        Some(_) => Some(http_options(&config).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut server = tokio::task::spawn_blocking(move || L402McpServer::from_config(&config))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if let Some(sat) = args.max_cost_sat {
        server = server.with_default_max_cost(Msat::from_sat(sat));
    }
    match (args.http, options) {
        (Some(addr), Some(options)) => {
            let running = serve_http_with(server, addr, shutdown_signal(), options)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("MCP streamable HTTP endpoint: {}", running.url());
            running.wait().await.map_err(|e| e.to_string())
        }
        _ => serve_stdio(server).await.map_err(|e| e.to_string()),
    }
}

/// Ctrl-C (SIGTERM ends the example without a drain; `l402 mcp` drains on both).
async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("L402_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
