//! `l402 wallet`: the dev wallet as its own process, so the proxy and clients can share it and
//! tests can kill and restart it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use l402_core::invoice::Network;
use l402_lightning::dev::DevWallet;

use crate::exit;

/// `l402 wallet serve` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct WalletServeArgs {
    /// Directory for the wallet's key and ledger; `dev-wallet.json` (URL and access token) is
    /// written here for `l402 serve` (`[backend.dev] connection_file`) and `l402 fetch`.
    #[arg(long, env = "L402_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Loopback port for the wallet API (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// Runs the standalone dev wallet until SIGTERM or SIGINT.
pub async fn serve(args: WalletServeArgs) -> anyhow::Result<u8> {
    l402_store::create_private_dir(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let wallet = Arc::new(
        DevWallet::open(args.data_dir.join("dev-wallet"), Network::Regtest)
            .context("opening the dev wallet")?,
    );
    let server = l402_lightning::spec::start_wallet_api(wallet, &args.data_dir, args.port).await?;
    crate::banner::dev_mode(&server.url());
    eprintln!(
        "connection file: {}",
        l402_lightning::dev::connection_file_path(&args.data_dir).display()
    );
    crate::serve::shutdown_signal().await;
    server
        .shutdown()
        .await
        .context("stopping the dev wallet API")?;
    Ok(exit::SUCCESS)
}
