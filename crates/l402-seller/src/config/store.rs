//! `[store]`: where the seller keeps what several instances must share (revocations, invoices,
//! master keys, settings). Unset: the SQLite file `l402.db` in `data_dir`.

use l402_server::config::Checks;
use l402_store::StoreUrl;
use serde::Deserialize;

/// `[store]`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `postgres://user:password@host:port/database` to share the store between several
    /// `l402 serve` instances, or a SQLite file path. Unset: `l402.db` in `data_dir`. Secret:
    /// never shown with its password.
    pub url: Option<String>,
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &self.url.as_deref().map(StoreUrl::parse))
            .finish()
    }
}

/// Refuses an empty URL.
pub(super) fn check(store: &StoreSettings, checks: &mut Checks<'_>) {
    if store.url.as_deref().is_some_and(|u| u.trim().is_empty()) {
        checks.error(
            "store.url",
            "is empty: remove it for the SQLite file in data_dir, or set postgres://…",
        );
    }
}
