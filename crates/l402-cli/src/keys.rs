//! `l402 keys list|rotate|retire`: the seller's master keys, by epoch. Written to the store in
//! the data directory; every running `l402 serve` on that data directory picks the change up
//! within seconds. Never prints key material.

use std::path::PathBuf;

use anyhow::Context;
use l402_core::env::now_unix;
use l402_seller::SellerConfig;
use l402_store::{Retired, Store, StoreUrl, StoredMasterKey};
use l402_tower::OsRandom;

use crate::exit;
use crate::when::{human, rfc3339};

/// `l402 keys` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum KeysCommand {
    /// Every key epoch: when it was created, whether new tokens are minted under it, whether
    /// it is retired.
    List(ListArgs),
    /// Generate a key for a new epoch and mint under it from now on; tokens of older epochs
    /// keep working until their epoch is retired.
    Rotate(StoreArgs),
    /// Retire an epoch: its key is wiped and its tokens are refused (402
    /// `retired_key_epoch`). The current epoch cannot be retired; rotate first.
    Retire(RetireArgs),
}

/// Where the seller's store is.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The seller's configuration file; its `data_dir` locates the store.
    #[arg(short, long, env = "L402_CONFIG")]
    pub config: Option<PathBuf>,
    /// The proxy's data directory, overriding the configuration's (default: the platform data
    /// dir, as for `l402 serve`).
    #[arg(long, env = "L402_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The store, overriding the configuration's `[store] url`: `postgres://…` for a store
    /// shared by several instances, or a SQLite file (default: `l402.db` in the data dir).
    #[arg(long, env = "L402_STORE_URL", hide_env_values = true)]
    pub store_url: Option<String>,
}

/// `l402 keys list` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Where the store is.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `l402 keys retire` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RetireArgs {
    /// The epoch to retire (see `l402 keys list`).
    pub epoch: u32,
    /// Where the store is.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// What running proxies are told, after a change.
const PICKUP: &str = "running proxies on this store follow within 2 s";

/// Runs `l402 keys`.
pub fn run(command: KeysCommand) -> anyhow::Result<u8> {
    match command {
        KeysCommand::List(args) => list(&args),
        KeysCommand::Rotate(args) => rotate(&args),
        KeysCommand::Retire(args) => retire(&args),
    }
}

impl StoreArgs {
    /// Where the store is: `--store-url`, else the configuration's `[store] url`, else
    /// `l402.db` in the data directory (`--data-dir`, else the configuration's, else the
    /// default).
    fn url(&self) -> anyhow::Result<StoreUrl> {
        if let Some(url) = &self.store_url {
            return Ok(StoreUrl::parse(url));
        }
        let config = match &self.config {
            Some(path) => Some(
                SellerConfig::load(path)
                    .map_err(|e| exit::with_code(exit::BAD_INPUT, e.to_string()))?,
            ),
            None => None,
        };
        if let (Some(config), None) = (&config, &self.data_dir) {
            return config
                .store_url()
                .map_err(|e| exit::with_code(exit::BAD_INPUT, format!("[store] url: {e}")));
        }
        let dir = self
            .data_dir
            .clone()
            .or_else(|| config.map(|c| c.data_dir()))
            .unwrap_or_else(l402_core::dirs::data_dir);
        Ok(StoreUrl::Sqlite(dir.join("l402.db")))
    }

    /// The seller's store and where it is (for messages; passwords redacted).
    fn open(&self) -> anyhow::Result<(Store, String)> {
        let url = self.url()?;
        let store =
            Store::open_url(&url).with_context(|| format!("opening the proxy's database {url}"))?;
        Ok((store, url.to_string()))
    }
}

fn list(args: &ListArgs) -> anyhow::Result<u8> {
    let (store, dir) = args.store.open()?;
    let keys = store.master_keys().list()?;
    if args.json {
        let list: Vec<_> = keys.iter().map(json).collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(exit::SUCCESS);
    }
    if keys.is_empty() {
        println!(
            "no master keys in {} yet: `l402 serve` generates the first at start",
            dir
        );
        return Ok(exit::SUCCESS);
    }
    let now = now_unix();
    for k in &keys {
        let state = match (k.current, k.retired_at) {
            (true, _) => "current",
            (false, None) => "active",
            (false, Some(_)) => "retired",
        };
        let retired = k
            .retired_at
            .map(|at| format!(", retired {}", human(at, now)))
            .unwrap_or_default();
        println!(
            "epoch {:>3}  {state:<7}  created {}{retired}",
            k.epoch,
            human(k.created_at, now)
        );
    }
    Ok(exit::SUCCESS)
}

/// One key as JSON: epoch, times and state, never the key.
fn json(k: &StoredMasterKey) -> serde_json::Value {
    serde_json::json!({
        "epoch": k.epoch,
        "created_at": k.created_at,
        "created_at_rfc3339": rfc3339(k.created_at),
        "current": k.current,
        "retired": k.retired_at.is_some(),
        "retired_at": k.retired_at,
        "retired_at_rfc3339": k.retired_at.map(rfc3339),
    })
}

fn rotate(args: &StoreArgs) -> anyhow::Result<u8> {
    let (store, _) = args.open()?;
    let before = store.master_keys().list()?;
    let epoch = store.master_keys().rotate(&mut OsRandom, now_unix())?;
    match before.iter().find(|k| k.current) {
        Some(old) => println!(
            "rotated: new tokens are minted under epoch {epoch}; tokens of epoch {} keep \
             working until `l402 keys retire {}`; {PICKUP}",
            old.epoch, old.epoch
        ),
        None => println!("created epoch {epoch}; new tokens are minted under it"),
    }
    Ok(exit::SUCCESS)
}

fn retire(args: &RetireArgs) -> anyhow::Result<u8> {
    let (store, dir) = args.store.open()?;
    let epoch = args.epoch;
    match store.master_keys().retire(epoch, now_unix())? {
        Retired::Now => {
            println!("retired epoch {epoch}: its tokens are refused; {PICKUP}");
            Ok(exit::SUCCESS)
        }
        Retired::Already(at) => {
            println!(
                "epoch {epoch} was already retired {}",
                human(at, now_unix())
            );
            Ok(exit::SUCCESS)
        }
        Retired::Current => Err(exit::with_code(
            exit::BAD_INPUT,
            format!(
                "epoch {epoch} is the current key epoch (new tokens are minted under it) and \
                 cannot be retired: run `l402 keys rotate` first, then retire it"
            ),
        )),
        _ => Err(exit::with_code(
            exit::BAD_INPUT,
            format!("no key epoch {epoch} in {} (see `l402 keys list`)", dir),
        )),
    }
}
