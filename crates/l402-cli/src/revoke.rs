//! `l402 revoke`: revoke a token the proxy minted. Written to the store (in the data directory,
//! or the shared PostgreSQL of `--store-url`); every running `l402 serve` on that store picks it
//! up within seconds.

use std::path::PathBuf;

use anyhow::Context;
use l402_core::TokenId;
use l402_store::{Store, StoreUrl};

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
    /// The store, when not `l402.db` in the data dir: `postgres://…` for a store shared by
    /// several instances (as in the configuration's `[store] url`), or a SQLite file.
    #[arg(long, env = "L402_STORE_URL", hide_env_values = true)]
    pub store_url: Option<String>,
}

/// Runs `l402 revoke`.
pub fn run(args: RevokeArgs) -> anyhow::Result<u8> {
    let id = TokenId::from_hex(args.token_id.trim())
        .map_err(|e| exit::with_code(exit::BAD_INPUT, format!("invalid token id: {e}")))?;
    let url = match &args.store_url {
        Some(url) => StoreUrl::parse(url),
        None => {
            let dir = args.data_dir.unwrap_or_else(l402_core::dirs::data_dir);
            StoreUrl::Sqlite(dir.join("l402.db"))
        }
    };
    let store =
        Store::open_url(&url).with_context(|| format!("opening the proxy's database {url}"))?;
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
            url
        );
    }
    Ok(exit::SUCCESS)
}
