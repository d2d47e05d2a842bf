//! Command-line definitions and dispatch.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::buyer::{self, budget, fetch, receipts, sessions, tokens};
use crate::{serve, wallet};

/// `0.1.0 (commit 1a2b3c4d5e6f; backends: dev, lnd, lnbits, nwc, cln)`: the version, the commit
/// the binary was built from, and the Lightning backends built in.
pub fn version() -> String {
    let backends: Vec<&str> = l402_lightning::spec::BackendKind::ALL
        .iter()
        .filter(|k| k.is_built())
        .map(|k| k.as_str())
        .collect();
    format!(
        "{} (commit {}; backends: {})",
        env!("CARGO_PKG_VERSION"),
        env!("L402_GIT_COMMIT"),
        backends.join(", ")
    )
}

/// Parses the command line (exits with clap's message and code on bad arguments, or after
/// `--help` and `--version`).
pub fn parse() -> Cli {
    let command = Cli::command().version(version());
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The L402 toolkit: sell an API per call over Lightning, or buy from one.
#[derive(Debug, Parser)]
#[command(name = "l402", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// More log output (-v info, -vv debug). `L402_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 success, 1 other failure, 2 bad input or configuration, \
3 over budget (nothing paid), 4 payment failed, 5 HTTP or network error.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the paywall reverse proxy. With no config file it sells a built-in sample API on
    /// 127.0.0.1:8402 through the embedded dev wallet.
    Serve(ServeArgs),
    /// Run the whole flow on this machine: proxy, sample API, dev wallet, and an agent that
    /// buys three resources (HTTP and gRPC), reuses a token, and prints the receipts.
    Demo,
    /// Fetch a URL like curl, paying its L402 price automatically within the budget.
    Fetch(fetch::FetchArgs),
    /// What a host sells and at what price, without paying: its /.well-known/l402.json, or the
    /// 402 of a plain unpaid request. --export writes the entry a public directory ingests.
    Discover(crate::buyer::discover::DiscoverArgs),
    /// Held tokens: list, show, remove, attenuate for a sub-agent, import.
    #[command(subcommand)]
    Tokens(tokens::TokensCommand),
    /// Prepaid `Payment` sessions (metered APIs): list, close (the rest is refunded).
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
    /// Payments made.
    Receipts(receipts::ReceiptsArgs),
    /// Budget limits, spent and remaining.
    Budget(buyer::ClientOptions),
    /// Revoke (or with --undo restore) a token the proxy minted.
    Revoke(crate::revoke::RevokeArgs),
    /// The proxy's master keys: list, rotate, retire an epoch.
    #[command(subcommand)]
    Keys(crate::keys::KeysCommand),
    /// A running proxy's admin API (`l402 serve --admin-listen`): status, stats, invoices,
    /// revoke and restore, keys.
    Admin(crate::admin::AdminArgs),
    /// MCP server (stdio, or streamable HTTP with --http) so an LLM agent can buy resources
    /// within the budget.
    Mcp(crate::mcp::McpArgs),
    /// The paying wallet's balance; the embedded dev wallet (regtest, no real money).
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Check a buyer's setup (or a seller's with --config) and say what to fix.
    Doctor(crate::doctor::DoctorArgs),
    /// Print a shell completion script.
    Completions(crate::manual::CompletionsArgs),
    /// Print the manual page (roff): `l402 man | man -l -`.
    Man,
}

/// `l402 wallet` subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Run the dev wallet as its own process, serving its loopback API.
    Serve(wallet::WalletServeArgs),
    /// What the paying wallet (`[wallet]` of the client config) can spend now.
    Balance(buyer::ClientOptions),
}

/// `l402 serve` arguments. Flags and `L402_*` environment variables override the file.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file. Without one: zero-config dev mode with the sample API.
    #[arg(short, long, env = "L402_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address, overriding `[listen] addr`.
    #[arg(long, env = "L402_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Admin listener address (Prometheus metrics at /metrics), overriding `[admin] listen`.
    #[arg(long, env = "L402_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Data directory (keys, database, dev wallet), overriding `data_dir`.
    #[arg(long, env = "L402_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Validate the configuration and exit (0 if valid, 2 if not).
    #[arg(long)]
    pub check: bool,
    /// Threads that serve requests (default: one per CPU core). `1` runs the proxy on a single
    /// thread, as nginx's `worker_processes 1` does, leaving the other cores to the API it sells
    /// (at most one core's throughput).
    #[arg(long, env = "L402_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

impl Command {
    /// The threads the async runtime should serve with, when the command asks for a number.
    pub fn runtime_threads(&self) -> Option<usize> {
        match self {
            Command::Serve(args) => args.threads.map(usize::from),
            _ => None,
        }
    }
}

/// Runs a command; returns the exit code.
pub async fn dispatch(command: Command, verbose: u8) -> anyhow::Result<u8> {
    match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Wallet(WalletCommand::Serve(args)) => wallet::serve(args).await,
        Command::Wallet(WalletCommand::Balance(options)) => buyer::balance::run(options).await,
        Command::Doctor(args) => crate::doctor::run(args).await,
        Command::Completions(args) => crate::manual::completions(&args),
        Command::Man => crate::manual::man(),
        Command::Demo => crate::demo::run().await,
        Command::Mcp(args) => crate::mcp::run(args).await,
        Command::Revoke(args) => crate::revoke::run(args),
        Command::Keys(command) => crate::keys::run(command),
        Command::Admin(args) => crate::admin::run(args).await,
        Command::Fetch(args) => fetch::run(args, verbose).await,
        Command::Discover(args) => crate::buyer::discover::run(args).await,
        Command::Tokens(command) => tokens::run(command).await,
        Command::Sessions(command) => sessions::run(command).await,
        Command::Receipts(args) => receipts::run(args).await,
        Command::Budget(options) => budget::run(options).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
