//! The buyer's commands: `fetch`, `discover`, `tokens`, `sessions`, `receipts`, `budget`.

pub mod balance;
pub mod budget;
pub mod discover;
pub mod fetch;
pub mod receipts;
pub mod sessions;
pub mod tokens;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use l402_client::{ClientConfig, ClientError, L402Client};

use crate::exit;

/// Options every buyer command shares. Flags override `L402_*` variables, which override the
/// config file (`~/.config/l402/config.toml`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientOptions {
    /// Client configuration file (default: the platform config dir, `~/.config/l402/config.toml`).
    #[arg(long = "client-config", env = "L402_CLIENT_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Data directory: tokens, receipts, budget ledger; also where the dev wallet's
    /// `dev-wallet.json` is found (default `~/.local/share/l402`, the same as `l402 serve`).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Output JSON for agents and scripts.
    #[arg(long, global = true)]
    pub json: bool,
}

/// How HTTPS servers are verified, as curl spells it. Applies to the request's URL and any
/// redirect; `SSL_CERT_FILE` is honoured when neither flag is given.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// Trust the CA certificates in this PEM file instead of the web PKI roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// Do not verify the server's certificate (dangerous: anyone on the path can read and
    /// change the exchange). Only ever from the command line.
    #[arg(short = 'k', long)]
    pub insecure: bool,
}

impl TlsArgs {
    /// Applies the flags to a loaded configuration, warning loudly about `--insecure`.
    pub fn apply(&self, config: &mut ClientConfig) {
        if let Some(ca) = &self.cacert {
            config.http.ca_file = Some(ca.clone());
        }
        if self.insecure {
            eprintln!(
                "warning: --insecure: server certificates are NOT verified; a payment could go \
                 to an impostor"
            );
            config.http.insecure = true;
        }
    }
}

/// What a command needs from the client beyond the config.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tweaks {
    /// Per-invoice maximum override, in satoshis.
    pub max_cost_sat: Option<u64>,
    /// Pay automatically (false for `--dry-run`).
    pub auto_pay: bool,
    /// Follow redirects (`-L`).
    pub follow_redirects: bool,
}

/// Loads the configuration with overrides.
pub fn load_config(options: &ClientOptions) -> anyhow::Result<ClientConfig> {
    let mut config = ClientConfig::load(options.config.as_deref())
        .map_err(|e| exit::with_code(exit::BAD_INPUT, e.to_string()))?;
    if let Some(dir) = &options.data_dir {
        config.data_dir = Some(dir.clone());
    }
    Ok(config)
}

/// Opens the client: config, wallet, store.
pub fn open(options: &ClientOptions, tweaks: Tweaks) -> anyhow::Result<L402Client> {
    open_with(load_config(options)?, tweaks)
}

/// Opens the client from a loaded configuration.
pub fn open_with(mut config: ClientConfig, tweaks: Tweaks) -> anyhow::Result<L402Client> {
    if let Some(max) = tweaks.max_cost_sat {
        config.budget.max_cost_sat = max;
    }
    // The wallet opens when a payment is first due: free pages, dry runs, tokens, receipts
    // and budgets work without one.
    let wallet_config = config.clone();
    let http = l402_tls::reqwest_builder(&config.http.trust())
        .map_err(|e| exit::with_code(exit::BAD_INPUT, e.to_string()))?
        // The client follows redirects itself, checking every hop (see `max_redirects`).
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(config.http.timeout_secs))
        .connect_timeout(Duration::from_secs(config.http.timeout_secs.min(10)))
        .user_agent(
            config
                .http
                .user_agent
                .clone()
                .unwrap_or_else(|| format!("l402/{}", env!("CARGO_PKG_VERSION"))),
        )
        .build()
        .context("building the HTTP client")?;
    config
        .client_builder()
        .map_err(|e| exit::with_code(exit::BAD_INPUT, e.to_string()))?
        .lazy_wallet(move || wallet_config.open_wallet())
        .http_client(http)
        .max_redirects(if tweaks.follow_redirects {
            l402_client::DEFAULT_MAX_REDIRECTS
        } else {
            0
        })
        .auto_pay(tweaks.auto_pay)
        .build()
        .map_err(client_error)
}

/// Converts a client error into an error carrying its documented exit code and a hint.
pub fn client_error(error: ClientError) -> anyhow::Error {
    let code = exit::for_client(error.category());
    let hint = match (&error, code) {
        (ClientError::Wallet(_), _) => {
            "\nhint: nothing was paid: a payment was due and the wallet could not be used. For the dev wallet, run `l402 serve` or `l402 wallet serve` with the same data directory; otherwise set [wallet] in ~/.config/l402/config.toml (kinds dev, lnd, lnbits, nwc, cln)."
        }
        (ClientError::PaymentPending { .. }, _) => {
            "\nhint: see `l402 receipts`; a payment whose outcome is unknown is resolved automatically on the next run, never paid twice."
        }
        (_, code) => match code {
            exit::OVER_BUDGET => {
                "\nhint: nothing was paid. See `l402 budget`; raise limits in ~/.config/l402/config.toml or with L402_*_BUDGET_SAT, or --max-cost for one request."
            }
            exit::PAYMENT_FAILED if error.nothing_paid() => {
                "\nhint: the payment failed and nothing was paid; see `l402 receipts`."
            }
            exit::PAYMENT_FAILED => "\nhint: see `l402 receipts` for what was paid.",
            exit::NETWORK => "\nhint: check the URL and that the server is reachable.",
            _ => "",
        },
    };
    let described = exit::describe(&error);
    if let Some(tls) = l402_tls::explain(&error) {
        return exit::with_code(code, format!("{described}\nhint: {tls}"));
    }
    exit::with_code(code, format!("{described}{hint}"))
}
