//! `l402 tokens list|show|rm|attenuate|import`: the token cache. Never prints macaroons or
//! preimages, except the attenuated credential `attenuate` exists to hand out.

use l402_client::TokenInfo;
use l402_core::caveat::ServiceTier;
use l402_core::mint::Attenuation;

use super::{ClientOptions, Tweaks, client_error, open};
use crate::exit;

/// `l402 tokens` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TokensCommand {
    /// List held tokens.
    List(ClientOptions),
    /// Show one token (by scope, e.g. `http://host:8402/api`, or any URL inside the scope).
    Show {
        /// Scope or URL.
        scope: String,
        /// Shared options.
        #[command(flatten)]
        client: ClientOptions,
    },
    /// Forget a token.
    Rm {
        /// Scope or URL.
        scope: String,
        /// Shared options.
        #[command(flatten)]
        client: ClientOptions,
    },
    /// Print a narrowed copy of a held token for a sub-agent (an `Authorization` value). It
    /// can only do less: fewer capabilities, a shorter life, fewer services.
    Attenuate {
        /// Scope or URL of the held token.
        scope: String,
        /// The service name the caveats apply to (as in the token's `services` caveat).
        #[arg(long)]
        service: String,
        /// Keep only these capabilities (comma-separated; empty keeps none).
        #[arg(long)]
        capabilities: Option<String>,
        /// Expire this many seconds from now.
        #[arg(long)]
        valid_for: Option<u64>,
        /// Shared options.
        #[command(flatten)]
        client: ClientOptions,
    },
    /// Store a token someone handed you (an `Authorization` value) for the URL's scope.
    Import {
        /// A URL inside the scope the token is for.
        url: String,
        /// The `Authorization` value (`L402 <macaroon>:<preimage>`).
        authorization: String,
        /// Shared options.
        #[command(flatten)]
        client: ClientOptions,
    },
}

/// A token in `--json`: its record, `seconds_left` at `now`, and `status`, what the server
/// last said in a paid response's `L402-Token` header (`null` until it has).
fn token_json(t: &TokenInfo, now: u64) -> serde_json::Value {
    let status = t.status.map(|s| {
        serde_json::json!({
            "reported_at": s.at, "reported_at_rfc3339": crate::when::rfc3339(s.at),
            "expires_at": s.expires_at, "ttl_secs": s.ttl_secs, "balance_msat": s.balance_msat,
        })
    });
    serde_json::json!({
        "scope": t.scope, "origin": t.origin, "payment_hash": t.payment_hash.to_hex(),
        "token_id": t.token_id.map(|id| id.to_hex()), "amount_msat": t.amount.0, "fee_msat": t.fee.0,
        "created_at": t.created_at, "created_at_rfc3339": crate::when::rfc3339(t.created_at),
        "expires_at": t.expires_at, "expires_at_rfc3339": t.expires_at.map(crate::when::rfc3339),
        "seconds_left": t.remaining_secs(now), "status": status,
        "label": t.label,
    })
}

/// One line: scope, price, expiry, and what the server last said about it.
fn token_line(t: &TokenInfo, now: u64) -> String {
    let expires = t.status.map_or(t.expires_at, |s| s.expires_at);
    let expiry = match (expires, t.remaining_secs(now)) {
        (None, _) | (_, None) => "no expiry".to_owned(),
        (Some(e), Some(0)) => format!("expired {}", crate::when::human(e, now)),
        (Some(e), Some(left)) => format!("expires {} ({left} s left)", crate::when::human(e, now)),
    };
    let checked = t.status.map_or(String::new(), |s| {
        format!("  (server checked {})", crate::when::relative(s.at, now))
    });
    format!("{}  paid {}  {expiry}{checked}", t.scope, t.amount)
}

/// Runs a `tokens` subcommand.
pub async fn run(command: TokensCommand) -> anyhow::Result<u8> {
    let tweaks = Tweaks {
        auto_pay: false,
        ..Tweaks::default()
    };
    match command {
        TokensCommand::List(options) => {
            let tokens = open(&options, tweaks)?
                .tokens()
                .await
                .map_err(client_error)?;
            let now = l402_core::env::now_unix();
            if options.json {
                println!(
                    "{}",
                    serde_json::Value::Array(tokens.iter().map(|t| token_json(t, now)).collect())
                );
            } else if tokens.is_empty() {
                println!("no tokens held");
            } else {
                tokens
                    .iter()
                    .for_each(|t| println!("{}", token_line(t, now)));
            }
        }
        TokensCommand::Show { scope, client } => {
            let c = open(&client, tweaks)?;
            let wanted = c
                .target_of(&scope)
                .map(|t| t.scope)
                .unwrap_or(scope.clone());
            let tokens = c.tokens().await.map_err(client_error)?;
            let token = tokens
                .iter()
                .find(|t| t.scope == wanted || t.scope == scope)
                .ok_or_else(|| {
                    exit::with_code(
                        exit::BAD_INPUT,
                        format!("no token held for {scope}; see `l402 tokens list`"),
                    )
                })?;
            let json = token_json(token, l402_core::env::now_unix());
            if client.json {
                println!("{json}");
            } else {
                println!("{}", serde_json::to_string_pretty(&json)?);
            }
        }
        TokensCommand::Rm { scope, client } => {
            let removed = open(&client, tweaks)?
                .remove_token(&scope)
                .await
                .map_err(client_error)?;
            if !removed {
                return Err(exit::with_code(
                    exit::BAD_INPUT,
                    format!("no token held for {scope}"),
                ));
            }
            println!("removed the token for {scope}");
        }
        TokensCommand::Attenuate {
            scope,
            service,
            capabilities,
            valid_for,
            client,
        } => {
            let c = open(&client, tweaks)?;
            let now = l402_core::env::now_unix();
            let attenuation = Attenuation {
                services: Some(vec![ServiceTier {
                    name: service.clone(),
                    tier: 0,
                }]),
                capabilities: capabilities
                    .map(|caps| {
                        vec![(
                            service.clone(),
                            caps.split(',')
                                .map(str::trim)
                                .filter(|c| !c.is_empty())
                                .map(String::from)
                                .collect(),
                        )]
                    })
                    .unwrap_or_default(),
                valid_until: valid_for
                    .map(|secs| vec![(service.clone(), now + secs)])
                    .unwrap_or_default(),
                extra: Vec::new(),
            };
            println!(
                "{}",
                c.attenuate(&scope, &attenuation)
                    .await
                    .map_err(client_error)?
            );
        }
        TokensCommand::Import {
            url,
            authorization,
            client,
        } => {
            let info = open(&client, tweaks)?
                .import_token(&url, &authorization, Some("imported".into()))
                .await
                .map_err(client_error)?;
            println!("stored a token for {}", info.scope);
        }
    }
    Ok(exit::SUCCESS)
}
