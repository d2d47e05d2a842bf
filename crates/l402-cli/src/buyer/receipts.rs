//! `l402 receipts`: every payment made, newest first.

use super::{ClientOptions, Tweaks, client_error, open};
use crate::exit;

/// `l402 receipts` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ReceiptsArgs {
    /// How many to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Shared options.
    #[command(flatten)]
    pub client: ClientOptions,
}

/// Runs `l402 receipts`.
pub async fn run(args: ReceiptsArgs) -> anyhow::Result<u8> {
    let client = open(&args.client, Tweaks::default())?;
    let receipts = client.receipts(args.limit).await.map_err(client_error)?;
    if args.client.json {
        let list: Vec<_> = receipts
            .iter()
            .map(|r| {
                serde_json::json!({
                    "paid_at": r.paid_at, "paid_at_rfc3339": crate::when::rfc3339(r.paid_at), "url": r.url, "scope": r.scope, "amount_msat": r.amount.0,
                    "fee_msat": r.fee.0, "payment_hash": r.payment_hash.to_hex(),
                    "token_id": r.token_id.map(|t| t.to_hex()),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(exit::SUCCESS);
    }
    if receipts.is_empty() {
        println!("no payments yet");
    }
    let now = l402_core::env::now_unix();
    let mut total = l402_core::Msat(0);
    for r in &receipts {
        total = total.checked_add(r.total()).unwrap_or(total);
        println!(
            "{}  {:>10}  fee {:>8}  {}  {}",
            crate::when::human(r.paid_at, now),
            r.amount.to_string(),
            r.fee.to_string(),
            r.payment_hash,
            r.url
        );
    }
    if !receipts.is_empty() {
        println!(
            "{} payments shown, {total} in total including fees",
            receipts.len()
        );
    }
    Ok(exit::SUCCESS)
}
