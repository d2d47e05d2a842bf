//! The seller's side of the `Payment` scheme (MPP): the single-use ledger over the store, the
//! challenge-id secret (32 random bytes made on first start, kept as 64 hex digits in the
//! store's `settings` and used as the HMAC key in that text form), and the paywall's
//! [`MppSettings`].

use std::sync::Arc;

use l402_core::env::Rng as _;
use l402_core::env::now_unix;
use l402_core::{Msat, Network};
use l402_mpp::VerifiedCharge;
use l402_store::{ConsumedCharge, Store, StoreError};
use l402_tower::{ChargeLedger, LedgerError, MppSettings, OsRandom};

use crate::config::SellerConfig;

/// The `settings` key of the challenge-id secret (hex).
const SECRET_KEY: &str = "mpp_challenge_secret";
/// The realm when `mpp_realm` is unset.
pub(crate) const DEFAULT_REALM: &str = "l402";

/// The store's `mpp_charges` table as the paywall's ledger.
struct StoreLedger(Store);

impl ChargeLedger for StoreLedger {
    fn consume(
        &self,
        charge: &VerifiedCharge,
        service: &str,
        keep_until_unix: u64,
    ) -> Result<bool, LedgerError> {
        self.0
            .mpp_charges()
            .consume(&ConsumedCharge {
                payment_hash: charge.payment_hash,
                challenge_id: &charge.challenge_id,
                service,
                amount: Msat::from_sat(charge.amount_sat),
                used_at: now_unix(),
                keep_until: keep_until_unix,
            })
            .map_err(|e| LedgerError(Box::new(e)))
    }
}

/// `methodDetails.network` for the node's network (the draft's names; `bitcoin` is `mainnet`).
fn network_name(network: Network) -> &'static str {
    match network {
        Network::Bitcoin => "mainnet",
        other => other.as_str(),
    }
}

/// The paywall's MPP settings, if any service sells MPP (an `mcp = true` service sells it per
/// tool call): the realm, the secret (made and kept
/// on first use) and the single-use ledger, both in `store`.
pub(crate) fn settings(
    config: &SellerConfig,
    store: &Store,
    network: Network,
) -> Result<Option<MppSettings>, StoreError> {
    if !config
        .l402
        .services
        .iter()
        .any(|t| t.protocols().mpp || t.mcp)
    {
        return Ok(None);
    }
    let mut fresh = [0u8; 32];
    OsRandom.fill(&mut fresh);
    // The key is the stored text itself (64 hex digits, 256 random bits): what a string-keyed
    // implementation (mppx's `secretKey`) configured with the same value computes too.
    let secret = store
        .settings()
        .get_or_insert(SECRET_KEY, &hex::encode(fresh))?
        .into_bytes();
    Ok(Some(MppSettings {
        realm: config
            .l402
            .mpp_realm
            .clone()
            .unwrap_or_else(|| DEFAULT_REALM.to_owned()),
        secret,
        previous_secrets: Vec::new(),
        network: network_name(network).to_owned(),
        ledger: Arc::new(StoreLedger(store.clone())),
    }))
}
