//! `l402 wallet balance`: what the paying wallet can spend now, for every wallet kind. The
//! same probe feeds `l402 budget` and `l402 doctor`.

use std::time::Duration;

use l402_client::ClientConfig;
use l402_lightning::{Balance, NodeInfo};

use super::{ClientOptions, load_config};
use crate::exit;

/// How long the wallet may take to answer each question.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The wallet's answers.
#[derive(Debug, Clone)]
pub struct WalletState {
    /// `dev`, `lnd`, `lnbits`, `nwc`, `cln`.
    pub kind: &'static str,
    /// Its network, alias and key.
    pub info: NodeInfo,
    /// What it can spend.
    pub balance: Balance,
}

/// Why the wallet could not be asked: a one-line reason and what to do.
#[derive(Debug, Clone)]
pub struct WalletProblem {
    /// `dev`, `lnd`, `lnbits`, `nwc`, `cln`.
    pub kind: &'static str,
    /// What went wrong, with its causes.
    pub reason: String,
    /// The next step.
    pub fix: String,
}

/// Opens the configured wallet and asks for its node info and balance, each within
/// [`PROBE_TIMEOUT`].
pub async fn probe(config: &ClientConfig) -> Result<WalletState, WalletProblem> {
    let kind = config.wallet.kind.as_str();
    let problem = |reason: String| WalletProblem {
        kind,
        fix: fix_for(kind),
        reason,
    };
    let wallet = config
        .open_wallet()
        .map_err(|e| problem(exit::describe(&e)))?;
    let ask = |what: &str| {
        format!(
            "the {kind} wallet did not answer {what} within {}s",
            PROBE_TIMEOUT.as_secs()
        )
    };
    let info = tokio::time::timeout(PROBE_TIMEOUT, wallet.node_info())
        .await
        .map_err(|_| problem(ask("its node info")))?
        .map_err(|e| problem(exit::describe(&e)))?;
    let balance = tokio::time::timeout(PROBE_TIMEOUT, wallet.balance())
        .await
        .map_err(|_| problem(ask("its balance")))?
        .map_err(|e| problem(format!("cannot read the balance: {}", exit::describe(&e))))?;
    Ok(WalletState {
        kind,
        info,
        balance,
    })
}

fn fix_for(kind: &str) -> String {
    match kind {
        "dev" => "start the dev wallet: `l402 serve` or `l402 wallet serve` with the same data directory".into(),
        "lnd" => "check [wallet.lnd] (address, tls_cert_path, macaroon_path); paying needs admin.macaroon or one with offchain:read and offchain:write".into(),
        "lnbits" => "check [wallet.lnbits] url and the admin key (L402_LNBITS_ADMIN_KEY)".into(),
        "nwc" => "check the connection URI (L402_NWC_URI) and that the wallet service allows get_info, get_balance and pay_invoice".into(),
        "cln" => "check [wallet.cln] (url, ca_cert_path, rune); the rune must allow getinfo, listpeerchannels, pay and listpays".into(),
        other => format!("check [wallet.{other}] in the client config"),
    }
}

/// `1 234 sat`, or `no limit` for the dev wallet.
pub fn spendable_text(balance: &Balance) -> String {
    balance.spendable.map_or_else(
        || "no limit (dev wallet: regtest play money)".to_owned(),
        |m| m.to_string(),
    )
}

/// The JSON object `--json` prints for a wallet.
pub fn state_json(state: &WalletState) -> serde_json::Value {
    serde_json::json!({
        "kind": state.kind,
        "network": state.info.network.to_string(),
        "alias": state.info.alias,
        "pubkey": state.info.pubkey_hex,
        "spendable_msat": state.balance.spendable.map(|m| m.0),
        "unlimited": state.balance.spendable.is_none(),
    })
}

/// Runs `l402 wallet balance`.
pub async fn run(options: ClientOptions) -> anyhow::Result<u8> {
    let config = load_config(&options)?;
    match probe(&config).await {
        Ok(state) if options.json => {
            println!("{}", state_json(&state));
            Ok(exit::SUCCESS)
        }
        Ok(state) => {
            println!(
                "wallet:    {} ({}, {})",
                state.kind, state.info.alias, state.info.network
            );
            println!("spendable: {}", spendable_text(&state.balance));
            Ok(exit::SUCCESS)
        }
        Err(p) => Err(exit::with_code(
            exit::FAILURE,
            format!("{}\nhint: {}", p.reason, p.fix),
        )),
    }
}
