//! `l402 budget`: limits, spent and remaining, per window and per domain.

use l402_client::WindowStatus;

use super::balance::{probe, spendable_text, state_json};
use super::{ClientOptions, Tweaks, client_error, load_config, open_with};
use crate::exit;

fn window_json(w: &WindowStatus) -> serde_json::Value {
    serde_json::json!({
        "spent_msat": w.spent.0,
        "limit_msat": w.limit.map(|l| l.0),
        "remaining_msat": w.remaining.map(|r| r.0),
    })
}

fn window_line(name: &str, w: &WindowStatus) -> String {
    match (w.limit, w.remaining) {
        (Some(limit), Some(left)) => format!(
            "{name:<10} spent {:>12} of {:>12}  ({} left)",
            w.spent.to_string(),
            limit.to_string(),
            left
        ),
        _ => format!("{name:<10} spent {:>12}  (no limit)", w.spent.to_string()),
    }
}

/// Runs `l402 budget`.
pub async fn run(options: ClientOptions) -> anyhow::Result<u8> {
    let config = load_config(&options)?;
    let client = open_with(config.clone(), Tweaks::default())?;
    let status = client.budget_status().await.map_err(client_error)?;
    let budget = client.budget().clone();
    // The budget is shown whatever the wallet's state: an operator audits spending even when
    // the wallet is gone.
    let wallet = probe(&config).await;
    if options.json {
        let domains: serde_json::Map<_, _> = status
            .per_domain
            .iter()
            .map(|(d, w)| (d.clone(), window_json(w)))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "max_cost_per_invoice_msat": client.max_cost().0,
                "max_per_request_msat": status.max_per_request.map(|m| m.0),
                "max_fee_msat": budget.max_fee.0,
                "hourly": window_json(&status.hourly),
                "daily": window_json(&status.daily),
                "total": window_json(&status.total),
                "per_domain": domains,
                "allow_domains": budget.allow_domains,
                "deny_domains": budget.deny_domains,
                "wallet": match &wallet {
                    Ok(state) => state_json(state),
                    Err(p) => serde_json::json!({"kind": p.kind, "error": p.reason}),
                },
            })
        );
        return Ok(exit::SUCCESS);
    }
    println!(
        "max per invoice: {}   max routing fee: {}",
        client.max_cost(),
        budget.max_fee
    );
    println!("{}", window_line("hourly", &status.hourly));
    println!("{}", window_line("daily", &status.daily));
    println!("{}", window_line("total", &status.total));
    for (domain, w) in &status.per_domain {
        println!("{}", window_line(domain, w));
    }
    match &wallet {
        Ok(state) => println!(
            "wallet     {}, spendable: {}",
            state.kind,
            spendable_text(&state.balance)
        ),
        Err(p) => println!("wallet     {} unavailable: {}", p.kind, p.reason),
    }
    if !budget.allow_domains.is_empty() {
        println!("allowed domains: {}", budget.allow_domains.join(", "));
    }
    if !budget.deny_domains.is_empty() {
        println!("denied domains: {}", budget.deny_domains.join(", "));
    }
    println!(
        "change limits in ~/.config/l402/config.toml ([budget]) or with L402_HOURLY_BUDGET_SAT, L402_DAILY_BUDGET_SAT, L402_TOTAL_BUDGET_SAT"
    );
    Ok(exit::SUCCESS)
}
