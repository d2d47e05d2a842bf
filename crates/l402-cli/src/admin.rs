//! `l402 admin …`: the admin API of a running `l402 serve` (its `--admin-listen` address),
//! with the admin macaroon from the seller's data directory. `--json` prints the API's answer
//! as is; otherwise a short human summary.

use std::path::{Path, PathBuf};

use l402_admin_client::{
    AdminClient, AdminClientError, FULL_MACAROON_FILE, Method, READ_ONLY_MACAROON_FILE,
    encode_component, read_macaroon,
};
use l402_core::env::now_unix;
use serde_json::{Value, json};

use crate::exit;
use crate::when::human;

/// Where the admin API is and which macaroon to present.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminTarget {
    /// The admin listener's URL.
    #[arg(
        long,
        env = "L402_ADMIN_URL",
        default_value = "http://127.0.0.1:9402",
        global = true
    )]
    pub url: String,
    /// The macaroon file (default: admin.macaroon in the data directory, or
    /// admin-readonly.macaroon with --read-only).
    #[arg(long, env = "L402_ADMIN_MACAROON", global = true)]
    pub macaroon: Option<PathBuf>,
    /// Use the read-only macaroon from the data directory.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// The seller's data directory, where the macaroons are (default: as for `l402 serve`).
    #[arg(long, env = "L402_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Print the API's JSON answer.
    #[arg(long, global = true)]
    pub json: bool,
    /// CA certificates (PEM) that sign an `https://` admin listener's certificate (default:
    /// `SSL_CERT_FILE`, else the web PKI).
    #[arg(long, env = "L402_ADMIN_CACERT", global = true)]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM) for an admin listener that requires one (`[admin] client_ca`);
    /// with it, no macaroon is sent unless `--macaroon` names one.
    #[arg(long, env = "L402_ADMIN_CERT", global = true, requires = "key")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, env = "L402_ADMIN_KEY", global = true, requires = "cert")]
    pub key: Option<PathBuf>,
}

/// `l402 admin` arguments.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(flatten)]
    target: AdminTarget,
    #[command(subcommand)]
    command: AdminCommand,
}

/// The admin operations.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Version, uptime, backend and store health.
    Status,
    /// The services and routes with their prices.
    Services,
    /// Revenue per day and service, requests by outcome.
    Stats {
        /// Days back, today included.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Challenges and payments, newest first.
    Invoices {
        /// Only this service's.
        #[arg(long)]
        service: Option<String>,
        /// Only paid or unpaid ones.
        #[arg(long, value_parser = ["paid", "unpaid", "all"])]
        state: Option<String>,
        /// The token minted with the challenge.
        #[arg(long)]
        token_id: Option<String>,
        /// Rows (at most 1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Metered balances (Payment sessions, L402 tokens sold as a balance), last used first.
    Sessions {
        /// Only open or closed ones.
        #[arg(long, value_parser = ["open", "closed", "all"])]
        state: Option<String>,
        /// Rows (at most 1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One metered session and its ledger (every credit and debit).
    Session {
        /// The session id (64 hex characters: the opening deposit's payment hash).
        id: String,
    },
    /// Revoked tokens.
    Revocations,
    /// Revoke a token: refused everywhere within 2 s.
    Revoke {
        /// The token id (64 hex characters).
        token_id: String,
        /// Why (kept in the store).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Restore a revoked token.
    Restore {
        /// The token id (64 hex characters).
        token_id: String,
    },
    /// Master key epochs.
    Keys,
    /// Rotate the master key: new tokens use a new epoch; older ones keep working.
    Rotate,
    /// Add a service, or replace the one of that name, in the seller's configuration file and
    /// put it in force without a restart. FILE (`-` for stdin) holds the service's keys, as
    /// the `[[services]]` table has them, in TOML or JSON.
    ServicePut {
        /// The service's name.
        name: String,
        /// The service's settings (TOML or JSON; `-` reads stdin).
        file: PathBuf,
    },
    /// Remove a service from the seller's configuration file and from the running seller.
    ServiceDelete {
        /// The service's name.
        name: String,
    },
    /// Read the seller's configuration file again and apply it without dropping a
    /// connection (as SIGHUP does); a file that does not pass is refused with the reason.
    Reload,
}

/// Runs `l402 admin`.
pub async fn run(args: AdminArgs) -> anyhow::Result<u8> {
    let client = client(&args.target)?;
    let (method, path, mut body) = request(&args.command);
    if let AdminCommand::ServicePut { file, .. } = &args.command {
        body = Some(service_settings(file)?);
    }
    let answer = client
        .call(method, &path, body.as_ref())
        .await
        .map_err(admin_error)?;
    if args.target.json {
        println!("{answer}");
    } else {
        print_human(&args.command, &answer);
    }
    Ok(exit::SUCCESS)
}

/// The client `target` describes: the macaroon file (unless a client certificate stands in
/// for it), the trust for an `https://` listener, the client certificate.
fn client(t: &AdminTarget) -> anyhow::Result<AdminClient> {
    let identity = t
        .cert
        .as_ref()
        .zip(t.key.as_ref())
        .map(|(cert, key)| l402_tls::ClientIdentity::new(cert, key));
    let macaroon_file = match (&t.macaroon, &identity) {
        (Some(file), _) => Some(file.clone()),
        (None, Some(_)) => None,
        (None, None) => {
            let dir = t.data_dir.clone().unwrap_or_else(l402_core::dirs::data_dir);
            Some(dir.join(if t.read_only {
                READ_ONLY_MACAROON_FILE
            } else {
                FULL_MACAROON_FILE
            }))
        }
    };
    let macaroon = macaroon_file
        .as_deref()
        .map(read_macaroon)
        .transpose()
        .map_err(admin_error)?;
    let trust = match &t.cacert {
        Some(ca) => l402_tls::Trust::CaFile(ca.clone()),
        None => l402_tls::Trust::from_env(),
    };
    AdminClient::connect(&t.url, macaroon.as_deref(), &trust, identity.as_ref())
        .map_err(admin_error)
}

/// The API call a command makes.
fn request(command: &AdminCommand) -> (Method, String, Option<Value>) {
    match command {
        AdminCommand::Status => (Method::Get, "/api/v1/status".into(), None),
        AdminCommand::Services => (Method::Get, "/api/v1/services".into(), None),
        AdminCommand::Stats { days } => (Method::Get, format!("/api/v1/stats?days={days}"), None),
        AdminCommand::Invoices {
            service,
            state,
            token_id,
            limit,
        } => {
            let mut query = format!("limit={limit}");
            for (key, value) in [
                ("service", service),
                ("state", state),
                ("token_id", token_id),
            ] {
                if let Some(v) = value {
                    query.push_str(&format!("&{key}={}", encode_component(v)));
                }
            }
            (Method::Get, format!("/api/v1/invoices?{query}"), None)
        }
        AdminCommand::Sessions { state, limit } => {
            let mut query = format!("limit={limit}");
            if let Some(state) = state {
                query.push_str(&format!("&state={}", encode_component(state)));
            }
            (Method::Get, format!("/api/v1/sessions?{query}"), None)
        }
        AdminCommand::Session { id } => (
            Method::Get,
            format!("/api/v1/sessions/{}", encode_component(id)),
            None,
        ),
        AdminCommand::Revocations => (Method::Get, "/api/v1/revocations".into(), None),
        AdminCommand::Revoke { token_id, reason } => (
            Method::Post,
            format!("/api/v1/tokens/{}/revoke", encode_component(token_id)),
            reason.as_ref().map(|r| json!({ "reason": r })),
        ),
        AdminCommand::Restore { token_id } => (
            Method::Delete,
            format!("/api/v1/tokens/{}/revoke", encode_component(token_id)),
            None,
        ),
        AdminCommand::Keys => (Method::Get, "/api/v1/keys".into(), None),
        AdminCommand::Rotate => (Method::Post, "/api/v1/keys/rotate".into(), None),
        AdminCommand::Reload => (Method::Post, "/api/v1/reload".into(), None),
        // The body is read by `run` (it is a file).
        AdminCommand::ServicePut { name, .. } => (
            Method::Put,
            format!("/api/v1/services/{}", encode_component(name)),
            None,
        ),
        AdminCommand::ServiceDelete { name } => (
            Method::Delete,
            format!("/api/v1/services/{}", encode_component(name)),
            None,
        ),
    }
}

/// A service's settings from `file` (`-`: stdin), TOML or JSON, as the JSON the API takes.
fn service_settings(file: &Path) -> anyhow::Result<Value> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| {
        exit::with_code(
            exit::BAD_INPUT,
            format!("cannot read {}: {e}", file.display()),
        )
    })?;
    if let Ok(json) = serde_json::from_str::<Value>(&text) {
        return Ok(json);
    }
    toml::from_str::<Value>(&text).map_err(|e| {
        exit::with_code(
            exit::BAD_INPUT,
            format!(
                "{} is neither JSON nor TOML: {e}\nhint: write the service's keys as in its [[services]] table, e.g. `upstream = \"http://127.0.0.1:8080\"` and `price_sat = 5`",
                file.display()
            ),
        )
    })
}

fn admin_error(error: AdminClientError) -> anyhow::Error {
    let code = match &error {
        AdminClientError::Unreachable { .. } => exit::NETWORK,
        e if e.is_bad_input() => exit::BAD_INPUT,
        _ => exit::FAILURE,
    };
    exit::with_code(code, error.to_string())
}

fn sat(msat: &Value) -> String {
    l402_core::Msat(msat.as_u64().unwrap_or(0)).to_string()
}

fn when(unix: &Value, now: u64) -> String {
    unix.as_u64().map_or("-".into(), |t| human(t, now))
}

fn rows(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn print_human(command: &AdminCommand, a: &Value) {
    let now = now_unix();
    match command {
        AdminCommand::Status => {
            let b = &a["backend"];
            let s = &a["store"];
            println!(
                "l402 serve {} up {} s (macaroon: {})",
                a["version"].as_str().unwrap_or("?"),
                a["uptime_secs"],
                a["role"].as_str().unwrap_or("?")
            );
            println!(
                "backend {}: {}",
                b["kind"].as_str().unwrap_or("?"),
                if b["ok"] == true {
                    format!(
                        "ok on {} ({:.0} ms)",
                        b["network"].as_str().unwrap_or("?"),
                        b["latency_ms"].as_f64().unwrap_or(0.0)
                    )
                } else {
                    format!("FAILING: {}", b["error"].as_str().unwrap_or("?"))
                }
            );
            println!(
                "store: {}",
                if s["ok"] == true {
                    format!(
                        "ok, {} invoices, {} revocations",
                        s["invoices"], s["revocations"]
                    )
                } else {
                    format!("FAILING: {}", s["error"].as_str().unwrap_or("?"))
                }
            );
        }
        AdminCommand::Services => {
            for s in rows(&a["services"]) {
                println!(
                    "{:<16} {:>6} sat  {}",
                    s["name"].as_str().unwrap_or("?"),
                    s["price_sat"],
                    s["path_prefix"].as_str().unwrap_or("")
                );
                for r in rows(&s["routes"]) {
                    let methods: Vec<&str> = rows(&r["methods"])
                        .iter()
                        .filter_map(Value::as_str)
                        .collect();
                    let price = if r["free"] == true {
                        "free".to_owned()
                    } else {
                        format!("{} sat", r["price_sat"])
                    };
                    println!(
                        "    {:<10} {:<30} {price}",
                        if methods.is_empty() {
                            "*".to_owned()
                        } else {
                            methods.join(",")
                        },
                        r["path"].as_str().unwrap_or("")
                    );
                }
            }
        }
        AdminCommand::Stats { days } => {
            println!("revenue, last {days} day(s), by settlement day (UTC):");
            let daily = rows(&a["revenue_by_day"]);
            if daily.is_empty() {
                println!("  nothing settled");
            }
            for d in daily {
                println!(
                    "  {}  {:<16} {:>4} paid  {}",
                    d["day"].as_str().unwrap_or("?"),
                    d["service"].as_str().unwrap_or("?"),
                    d["settled"],
                    sat(&d["revenue_msat"])
                );
            }
            if let Some(totals) = a["revenue_by_service"].as_object() {
                for (service, t) in totals {
                    println!(
                        "  total {service:<16} {:>4} paid  {}",
                        t["settled"],
                        sat(&t["revenue_msat"])
                    );
                }
            }
            println!("requests since start (paid / free / 402 / 429 / 503):");
            for r in rows(&a["requests_since_start"]) {
                let o = &r["outcomes"];
                println!(
                    "  {:<16} {:<30} {} / {} / {} / {} / {}",
                    r["service"].as_str().unwrap_or("?"),
                    r["route"].as_str().unwrap_or("?"),
                    o["paid"],
                    o["free"],
                    o["challenged"],
                    o["rate_limited"].as_u64().unwrap_or(0)
                        + o["too_many_unpaid"].as_u64().unwrap_or(0),
                    o["unavailable"]
                );
            }
        }
        AdminCommand::Invoices { .. } => {
            let list = rows(&a["invoices"]);
            if list.is_empty() {
                println!("no invoices match");
            }
            for i in list {
                println!(
                    "{:<6} {:<16} {:>12}  token {}  {}",
                    i["state"].as_str().unwrap_or("?"),
                    i["service"].as_str().unwrap_or("?"),
                    sat(&i["amount_msat"]),
                    i["token_id"].as_str().unwrap_or("?"),
                    when(&i["created_at"], now)
                );
            }
            if let Some(before) = a["next_before"].as_u64() {
                println!("more: add --json and page with the API's before={before}");
            }
        }
        AdminCommand::Sessions { .. } => {
            let list = rows(&a["sessions"]);
            if list.is_empty() {
                println!("no sessions");
            }
            for r in list {
                println!(
                    "{}  {:<10} {:<6}  balance {} of {} deposited  used {}",
                    r["session_id"].as_str().unwrap_or("?"),
                    r["service"].as_str().unwrap_or("?"),
                    r["state"].as_str().unwrap_or("?"),
                    sat(&r["balance_msat"]),
                    sat(&r["deposit_msat"]),
                    when(&r["updated_at"], now)
                );
            }
        }
        AdminCommand::Session { .. } => {
            println!(
                "session {} ({}, {}): deposited {}, spent {}, refunded {}, balance {}",
                a["session_id"].as_str().unwrap_or("?"),
                a["service"].as_str().unwrap_or("?"),
                a["state"].as_str().unwrap_or("?"),
                sat(&a["deposit_msat"]),
                sat(&a["spent_msat"]),
                sat(&a["refunded_msat"]),
                sat(&a["balance_msat"])
            );
            for l in rows(&a["ledger"]) {
                let amount = l["amount_msat"].as_i64().unwrap_or(0);
                let sign = if amount < 0 { "-" } else { "+" };
                println!(
                    "  {:<8} {sign}{:>14}  balance {:>14}  {}",
                    l["op"].as_str().unwrap_or("?"),
                    l402_core::Msat(amount.unsigned_abs()).to_string(),
                    sat(&l["balance_msat"]),
                    when(&l["at"], now)
                );
            }
        }
        AdminCommand::Revocations => {
            let list = rows(&a["revocations"]);
            if list.is_empty() {
                println!("no revoked tokens");
            }
            for r in list {
                println!(
                    "{}  {}  {}",
                    r["token_id"].as_str().unwrap_or("?"),
                    when(&r["revoked_at"], now),
                    r["reason"].as_str().unwrap_or("")
                );
            }
        }
        AdminCommand::Revoke { token_id, .. } => println!(
            "revoked {token_id}{}: refused now here, everywhere on the same store within 2 s",
            if a["changed"] == true {
                ""
            } else {
                " (it already was)"
            }
        ),
        AdminCommand::Restore { token_id } => println!(
            "restored {token_id}{}",
            if a["changed"] == true {
                ""
            } else {
                " (it was not revoked)"
            }
        ),
        AdminCommand::Keys => {
            for k in rows(&a["keys"]) {
                let state = if k["current"] == true {
                    "current"
                } else if k["retired_at"].is_null() {
                    "active"
                } else {
                    "retired"
                };
                println!(
                    "epoch {:>3}  {state:<7}  created {}",
                    k["epoch"],
                    when(&k["created_at"], now)
                );
            }
        }
        AdminCommand::Rotate => println!(
            "rotated: new tokens use epoch {} from the next store refresh (2 s); older tokens keep working",
            a["current_epoch"]
        ),
        AdminCommand::Reload
        | AdminCommand::ServicePut { .. }
        | AdminCommand::ServiceDelete { .. } => {
            for w in rows(&a["warnings"]) {
                eprintln!("{}", w.as_str().unwrap_or_default());
            }
            println!(
                "reloaded: {} services, {} routes in force for the next request",
                a["services"], a["routes"]
            );
        }
    }
}
