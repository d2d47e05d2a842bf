//! `l402 sessions list|close`: the prepaid `Payment` sessions held (metered APIs). Never prints
//! a session's secret (its deposit preimage).

use l402_client::{ClosedSession, SessionInfo};
use l402_core::PaymentHash;

use super::{ClientOptions, Tweaks, client_error, open};
use crate::exit;

/// `l402 sessions` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SessionsCommand {
    /// List the open sessions (with --all, the latest sessions, closed ones too).
    List {
        /// Also list closed sessions (the latest 50).
        #[arg(long)]
        all: bool,
        /// Shared options.
        #[command(flatten)]
        client: ClientOptions,
    },
    /// Close open sessions: each seller refunds what is left of the deposits.
    Close {
        /// The session id to close (all open sessions without it).
        id: Option<String>,
        /// Shared options.
        #[command(flatten)]
        client: ClientOptions,
    },
}

/// Closed sessions listed by `list --all`.
const LIST_ALL: usize = 50;

fn session_json(s: &SessionInfo) -> serde_json::Value {
    serde_json::json!({
        "id": s.session_id.to_hex(), "scope": s.scope, "method": s.method, "url": s.url,
        "deposits": s.deposits, "deposit_msat": s.deposit.0,
        "balance_msat": s.balance.map(|b| b.0),
        "opened_at": s.opened_at, "opened_at_rfc3339": crate::when::rfc3339(s.opened_at),
        "closed_at": s.closed_at,
        "refund_msat": s.refund.map(|r| r.0), "refund_status": s.refund_status,
        "refund_received_msat": s.refund_received.map(|r| r.0),
    })
}

fn closed_json(c: &ClosedSession) -> serde_json::Value {
    serde_json::json!({
        "id": c.session_id.to_hex(), "scope": c.scope, "deposits": c.deposits,
        "deposit_msat": c.deposit.0, "spent_msat": c.spent().map(|s| s.0),
        "refund_msat": c.refund.map(|r| r.0), "refund_status": c.refund_status,
        "refund_received_msat": c.refund_received.map(|r| r.0),
    })
}

fn session_line(s: &SessionInfo, now: u64) -> String {
    let state = match (s.closed_at, s.refund) {
        (None, _) => format!(
            "open, balance {}",
            s.balance.map_or("unknown".into(), |b| b.to_string())
        ),
        (Some(at), Some(refund)) => format!(
            "closed {}, refund {refund} ({})",
            crate::when::human(at, now),
            s.refund_status.as_deref().unwrap_or("unknown")
        ),
        (Some(at), None) => format!(
            "closed {} ({})",
            crate::when::human(at, now),
            s.refund_status.as_deref().unwrap_or("no refund")
        ),
    };
    format!(
        "{}  {}  deposited {} in {}  {state}",
        s.session_id, s.scope, s.deposit, s.deposits
    )
}

/// Runs a `sessions` subcommand.
pub async fn run(command: SessionsCommand) -> anyhow::Result<u8> {
    let tweaks = Tweaks {
        auto_pay: false,
        ..Tweaks::default()
    };
    match command {
        SessionsCommand::List { all, client } => {
            let sessions = open(&client, tweaks)?
                .sessions(all, LIST_ALL)
                .await
                .map_err(client_error)?;
            if client.json {
                let list = sessions.iter().map(session_json).collect();
                println!("{}", serde_json::Value::Array(list));
            } else if sessions.is_empty() {
                println!("no sessions held");
            } else {
                let now = l402_core::env::now_unix();
                sessions
                    .iter()
                    .for_each(|s| println!("{}", session_line(s, now)));
            }
        }
        SessionsCommand::Close { id, client } => {
            let c = open(&client, tweaks)?;
            let closed = match id {
                Some(id) => {
                    let id = PaymentHash::from_hex(&id).map_err(|_| {
                        exit::with_code(exit::BAD_INPUT, format!("{id:?} is not a session id"))
                    })?;
                    vec![c.close_session(&id).await.map_err(client_error)?]
                }
                None => c.close_sessions().await.map_err(client_error)?,
            };
            if client.json {
                let list = closed.iter().map(closed_json).collect();
                println!("{}", serde_json::Value::Array(list));
            } else if closed.is_empty() {
                println!("no open sessions");
            } else {
                for s in &closed {
                    println!(
                        "{}  closed: deposited {}, spent {}, refund {} ({})",
                        s.session_id,
                        s.deposit,
                        s.spent().map_or("unknown".into(), |m| m.to_string()),
                        s.refund.map_or("none".into(), |r| r.to_string()),
                        s.refund_status.as_deref().unwrap_or("unknown"),
                    );
                }
            }
        }
    }
    Ok(exit::SUCCESS)
}
