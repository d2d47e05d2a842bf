//! Environment overrides: `L402_*` variables win over the file.

use std::path::PathBuf;

use l402_core::invoice::Network;

use super::ClientConfig;
use super::error::ConfigError;
use super::wallet::{ENV_LNBITS_ADMIN_KEY, ENV_NWC_URI};
use l402_lightning::spec::{BackendKind, NwcSpec, SecretSource};

/// Data directory.
pub const ENV_DATA_DIR: &str = "L402_DATA_DIR";
/// The wallet's network (`bitcoin`, `testnet`, `signet`, `regtest`).
pub const ENV_NETWORK: &str = "L402_NETWORK";
/// Per-invoice maximum, sat.
pub const ENV_MAX_COST_SAT: &str = "L402_MAX_COST_SAT";
/// Routing-fee cap, sat.
pub const ENV_MAX_FEE_SAT: &str = "L402_MAX_FEE_SAT";
/// Per-request limit (amount plus maximum fee), sat.
pub const ENV_MAX_PER_REQUEST_SAT: &str = "L402_MAX_PER_REQUEST_SAT";
/// Hourly budget, sat (`none` removes the limit).
pub const ENV_HOURLY_SAT: &str = "L402_HOURLY_BUDGET_SAT";
/// Daily budget, sat (`none` removes the limit).
pub const ENV_DAILY_SAT: &str = "L402_DAILY_BUDGET_SAT";
/// Total budget, sat (`none` removes the limit).
pub const ENV_TOTAL_SAT: &str = "L402_TOTAL_BUDGET_SAT";
/// Allow list, comma-separated.
pub const ENV_ALLOW_DOMAINS: &str = "L402_ALLOW_DOMAINS";
/// Deny list, comma-separated.
pub const ENV_DENY_DOMAINS: &str = "L402_DENY_DOMAINS";
/// Wallet kind (`dev`, `lnd`, `lnbits`, `nwc` or `cln`).
pub const ENV_WALLET: &str = "L402_WALLET";
/// Payment timeout, seconds.
pub const ENV_PAYMENT_TIMEOUT_SECS: &str = "L402_PAYMENT_TIMEOUT_SECS";
/// `[mcp] allow_private_networks` (`true`/`false`, `1`/`0`).
pub const ENV_MCP_ALLOW_PRIVATE_NETWORKS: &str = "L402_MCP_ALLOW_PRIVATE_NETWORKS";

/// Every environment variable the configuration reads.
pub const ALL: &[&str] = &[
    ENV_DATA_DIR,
    ENV_NETWORK,
    ENV_MAX_COST_SAT,
    ENV_MAX_FEE_SAT,
    ENV_MAX_PER_REQUEST_SAT,
    ENV_HOURLY_SAT,
    ENV_DAILY_SAT,
    ENV_TOTAL_SAT,
    ENV_ALLOW_DOMAINS,
    ENV_DENY_DOMAINS,
    ENV_WALLET,
    ENV_PAYMENT_TIMEOUT_SECS,
    ENV_MCP_ALLOW_PRIVATE_NETWORKS,
];

/// Applies the variables `get` returns (empty values are ignored).
pub(crate) fn apply(
    config: &mut ClientConfig,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
    let err = |name: &str, message: String| ConfigError::Env {
        var: name.to_owned(),
        message,
    };
    let number = |name: &str, unit: &str| -> Result<Option<u64>, ConfigError> {
        var(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| err(name, format!("{v:?} is not a whole number of {unit}")))
            })
            .transpose()
    };
    // `none` lifts a limit; a number sets it.
    let limit = |name: &str, slot: &mut Option<u64>| -> Result<(), ConfigError> {
        if let Some(v) = var(name) {
            *slot = if v.trim().eq_ignore_ascii_case("none") {
                None
            } else {
                Some(v.trim().parse::<u64>().map_err(|_| {
                    err(
                        name,
                        format!("{v:?} is not a whole number of sat or `none`"),
                    )
                })?)
            };
        }
        Ok(())
    };
    let list = |v: String| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };

    if let Some(v) = var(ENV_DATA_DIR) {
        config.data_dir = Some(PathBuf::from(v));
    }
    if let Some(v) = var(ENV_NETWORK) {
        config.network = Some(
            v.parse::<Network>()
                .map_err(|e| err(ENV_NETWORK, e.to_string()))?,
        );
    }
    if let Some(v) = number(ENV_MAX_COST_SAT, "sat")? {
        config.budget.max_cost_sat = v;
    }
    if let Some(v) = number(ENV_MAX_FEE_SAT, "sat")? {
        config.budget.max_fee_sat = v;
    }
    limit(
        ENV_MAX_PER_REQUEST_SAT,
        &mut config.budget.max_per_request_sat,
    )?;
    limit(ENV_HOURLY_SAT, &mut config.budget.hourly_sat)?;
    limit(ENV_DAILY_SAT, &mut config.budget.daily_sat)?;
    limit(ENV_TOTAL_SAT, &mut config.budget.total_sat)?;
    if let Some(v) = var(ENV_ALLOW_DOMAINS) {
        config.budget.allow_domains = list(v);
    }
    if let Some(v) = var(ENV_DENY_DOMAINS) {
        config.budget.deny_domains = list(v);
    }
    if let Some(v) = var(ENV_WALLET) {
        config.wallet.kind = v
            .parse::<BackendKind>()
            .map_err(|e| err(ENV_WALLET, e.to_string()))?;
    }
    // The wallet's credentials from the environment win over the file's, like every variable.
    if var(ENV_NWC_URI).is_some() {
        config.wallet.nwc = Some(NwcSpec {
            uri: SecretSource::Env(ENV_NWC_URI.to_owned()),
        });
    }
    if var(ENV_LNBITS_ADMIN_KEY).is_some()
        && let Some(lnbits) = config.wallet.lnbits.as_mut()
    {
        lnbits.api_key = Some(SecretSource::Env(ENV_LNBITS_ADMIN_KEY.to_owned()));
    }
    if let Some(v) = number(ENV_PAYMENT_TIMEOUT_SECS, "seconds")? {
        config.payment.timeout_secs = v;
    }
    if let Some(v) = var(ENV_MCP_ALLOW_PRIVATE_NETWORKS) {
        config.mcp.allow_private_networks = match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => {
                return Err(err(
                    ENV_MCP_ALLOW_PRIVATE_NETWORKS,
                    format!("{v:?} is not true or false"),
                ));
            }
        };
    }
    Ok(())
}
