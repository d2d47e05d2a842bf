//! `l402 doctor`: checks a buyer's setup (or a seller's, with `--config`) and says what to fix,
//! one line per check, `--json` for agents; exit 0 only when no check failed.

mod buyer;
mod files;
mod report;
mod seller;

use std::path::PathBuf;

use crate::buyer::ClientOptions;
use crate::exit;
use report::Report;

/// `l402 doctor` arguments.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Exit codes: 0 every check passed (warnings allowed), 1 a check failed.\n\
Buyer: client config, data directory and secret files, wallet and balance, budget, and what URL costs (nothing is paid).\n\
Seller (--config): config, data directory and secret files, store, master keys, backend and its permissions, each upstream, TLS files, listen address."
)]
pub struct DoctorArgs {
    /// A URL to ask for its price (buyer only; nothing is paid).
    pub url: Option<String>,
    /// Check the seller set up by this `l402 serve` configuration file instead of the buyer.
    #[arg(
        id = "seller_config",
        short,
        long = "config",
        value_name = "FILE",
        conflicts_with = "url"
    )]
    pub seller_config: Option<PathBuf>,
    /// Buyer options (client config, data directory, --json).
    #[command(flatten)]
    pub client: ClientOptions,
}

/// Runs the checks and prints the report.
pub async fn run(args: DoctorArgs) -> anyhow::Result<u8> {
    let mut report = Report::default();
    match &args.seller_config {
        Some(path) => seller::check(&mut report, path, args.client.data_dir.clone()).await,
        None => buyer::check(&mut report, &args.client, args.url.as_deref()).await,
    }
    if args.client.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.healthy() {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}
