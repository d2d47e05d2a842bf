//! `l402 revoke`: revoke a token the proxy minted. Written to the store in the data directory;
//! every running `l402 serve` on that data directory picks it up within seconds.

use std::path::PathBuf;

use anyhow::Context;
use l402_core::TokenId;
use l402_store::Store;

use l402_core::env::now_unix;

use crate::exit;

/// `l402 revoke` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RevokeArgs {
    /// The token id (64 hex characters; the upstream sees it as `X-L402-Token-Id`).
    pub token_id: String,
    /// Why (kept in the store).
    #[arg(long, default_value = "revoked by operator")]
    pub reason: String,
    /// Undo a revocation instead.
    #[arg(long)]
    pub undo: bool,
    /// The proxy's data directory (default: the platform data dir, as for `l402 serve`).
    #[arg(long, env = "L402_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Runs `l402 revoke`.
pub fn run(args: RevokeArgs) -> anyhow::Result<u8> {
    let id = TokenId::from_hex(args.token_id.trim())
        .map_err(|e| exit::with_code(exit::BAD_INPUT, format!("invalid token id: {e}")))?;
    let dir = args.data_dir.unwrap_or_else(l402_core::dirs::data_dir);
    let store = Store::open(dir.join("l402.db"))
        .with_context(|| format!("opening the proxy's database in {}", dir.display()))?;
    if args.undo {
        let changed = store.revocations().unrevoke(&id)?;
        println!(
            "{} {id}",
            if changed {
                "un-revoked"
            } else {
                "was not revoked:"
            }
        );
    } else {
        let changed = store.revocations().revoke(&id, &args.reason, now_unix())?;
        println!(
            "{} {id}; running proxies on {} refuse it within 2 s",
            if changed {
                "revoked"
            } else {
                "already revoked:"
            },
            dir.display()
        );
    }
    Ok(exit::SUCCESS)
}
