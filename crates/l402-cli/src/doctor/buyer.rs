//! The buyer's checks: client config, data directory, wallet and balance, budget, and what a
//! URL costs (without paying).

use l402_client::{ClientConfig, ClientError, RequestSpec, WindowStatus};

use super::files;
use super::report::Report;
use crate::buyer::balance::{probe, spendable_text};
use crate::buyer::{ClientOptions, Tweaks, load_config, open_with};
use crate::exit;

/// Runs every buyer check into `report`.
pub async fn check(report: &mut Report, options: &ClientOptions, url: Option<&str>) {
    let Some(config) = config(report, options) else {
        return;
    };
    match config.data_dir() {
        Ok(dir) => files::data_dir(report, &dir),
        Err(e) => report.fail(
            "data directory",
            e.to_string(),
            "pass --data-dir or set L402_DATA_DIR",
        ),
    }
    wallet(report, &config).await;
    let client = match open_with(config.clone(), Tweaks::default()) {
        Ok(c) => c,
        Err(e) => {
            report.fail(
                "budget",
                exit::describe(e.as_ref()),
                "fix the client config",
            );
            return;
        }
    };
    budget(report, &client).await;
    if let Some(url) = url {
        price(report, &config, url).await;
    }
}

fn config(report: &mut Report, options: &ClientOptions) -> Option<ClientConfig> {
    const NAME: &str = "client config";
    let path = options
        .config
        .clone()
        .or_else(|| l402_client::config::default_config_path().ok());
    match load_config(options) {
        Ok(config) => {
            let detail = match &path {
                Some(p) if p.exists() => format!("{} parses", p.display()),
                Some(p) => format!("no file at {}: built-in defaults (dev wallet)", p.display()),
                None => "built-in defaults (dev wallet)".to_owned(),
            };
            report.pass(NAME, detail);
            Some(config)
        }
        Err(e) => {
            report.fail(
                NAME,
                exit::describe(e.as_ref()),
                "fix the file (every key is documented in crates/l402-client/CONFIG.md)",
            );
            None
        }
    }
}

async fn wallet(report: &mut Report, config: &ClientConfig) {
    match probe(config).await {
        Ok(state) => {
            report.pass(
                "wallet",
                format!(
                    "{} answers: {} on {}",
                    state.kind, state.info.alias, state.info.network
                ),
            );
            let spendable = spendable_text(&state.balance);
            match state.balance.spendable {
                Some(m) if m.0 == 0 => report.fail(
                    "balance",
                    "nothing to spend (0 sat)",
                    "fund the wallet (open a channel or deposit) before buying",
                ),
                _ => report.pass("balance", format!("spendable: {spendable}")),
            }
        }
        Err(p) => {
            report.fail("wallet", format!("{}: {}", p.kind, p.reason), p.fix);
        }
    }
}

fn window(name: &str, w: &WindowStatus) -> Option<String> {
    match (w.limit, w.remaining) {
        (Some(limit), Some(left)) => Some(format!("{name} {left} left of {limit}")),
        _ => None,
    }
}

async fn budget(report: &mut Report, client: &l402_client::L402Client) {
    const NAME: &str = "budget";
    let status = match client.budget_status().await {
        Ok(s) => s,
        Err(e) => {
            report.fail(
                NAME,
                exit::describe(&e),
                "check the data directory's client.db",
            );
            return;
        }
    };
    let windows = [
        ("hourly", &status.hourly),
        ("daily", &status.daily),
        ("total", &status.total),
    ];
    let exhausted: Vec<&str> = windows
        .iter()
        .filter(|(_, w)| w.remaining.is_some_and(|r| r.0 == 0))
        .map(|(n, _)| *n)
        .collect();
    let summary: Vec<String> = windows.iter().filter_map(|(n, w)| window(n, w)).collect();
    let summary = if summary.is_empty() {
        format!(
            "no spending limits; at most {} per invoice",
            client.max_cost()
        )
    } else {
        format!(
            "{}; at most {} per invoice",
            summary.join(", "),
            client.max_cost()
        )
    };
    if exhausted.is_empty() {
        report.pass(NAME, summary);
    } else {
        report.fail(
            NAME,
            format!("used up: {} ({summary})", exhausted.join(", ")),
            "wait for the window to pass, or raise [budget] limits in the client config (L402_*_BUDGET_SAT)",
        );
    }
}

/// Asks `url` what it costs, paying nothing.
async fn price(report: &mut Report, config: &ClientConfig, url: &str) {
    let name = format!("url {url}");
    let spec = match RequestSpec::get(url) {
        Ok(s) => s,
        Err(e) => {
            report.fail(
                name,
                exit::describe(&e),
                "give an absolute http:// or https:// URL",
            );
            return;
        }
    };
    let client = match open_with(
        config.clone(),
        Tweaks {
            auto_pay: false,
            follow_redirects: true,
            ..Tweaks::default()
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            report.fail(name, exit::describe(e.as_ref()), "fix the client config");
            return;
        }
    };
    match client.execute(spec).await {
        Ok(paid) if paid.reused_token => report.pass(
            name,
            format!(
                "answers {} with a token already held (nothing to pay)",
                paid.response.status()
            ),
        ),
        Ok(paid) => report.pass(
            name,
            format!("answers {} without payment", paid.response.status()),
        ),
        Err(ClientError::PaymentRequired { amount, scope, .. }) => report.pass(
            name,
            format!("costs {amount} for {scope}, within the budget (nothing paid)"),
        ),
        Err(e @ (ClientError::Budget(_) | ClientError::Refused(_))) => report.fail(
            name,
            format!("{} (nothing paid)", exit::describe(&e)),
            "see `l402 budget`; raise the limits or --max-cost if the price is right",
        ),
        Err(e) => report.fail(
            name,
            exit::describe(&e),
            "check the URL and that the server is reachable",
        ),
    }
}
