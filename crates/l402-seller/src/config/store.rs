//! `[store]`: where the seller keeps what several instances must share (revocations, invoices,
//! master keys, settings). Unset: the SQLite file `l402.db` in `data_dir`.

use l402_secret::SecretSource;
use l402_server::config::Checks;
use l402_store::StoreUrl;
use serde::Deserialize;

/// `[store]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `postgres://user:password@host:port/database` to share the store between several
    /// `l402 serve` instances, or a SQLite file path (relative to `data_dir`). Secret: inline,
    /// `{ env = "VAR" }` or `{ file = "path" }`; never shown with its password. Unset: `l402.db`
    /// in `data_dir`.
    pub url: Option<SecretSource>,
}

/// Refuses an empty inline URL; warns about a password written inline.
pub(super) fn check(store: &StoreSettings, checks: &mut Checks<'_>) {
    let Some(SecretSource::Inline(url)) = &store.url else {
        return;
    };
    if url.trim().is_empty() {
        checks.error(
            "store.url",
            "is empty: remove it for the SQLite file in data_dir, or set postgres://…",
        );
    } else if let StoreUrl::Postgres(pg) = StoreUrl::parse(url)
        && pg.redacted() != pg.expose()
    {
        checks.warn("store.url", l402_secret::INLINE_WARNING);
    }
}
