//! `[<section>.lnbits]`: an LNbits wallet over its REST API. A seller needs only the wallet's
//! invoice/read key; a buyer pays, which needs the admin key.

use std::path::Path;

use l402_secret::SecretSource;
use serde::Deserialize;

use super::kind::Kind;
use super::{Context, Findings, Role};

/// `[<section>.lnbits]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LnbitsSpec {
    /// Base URL of the LNbits instance, `http://` or `https://`.
    pub url: String,
    /// The wallet's key: the invoice/read key to receive, the admin key to pay. Inline,
    /// `{ env = "…" }` or `{ file = "…" }`.
    pub api_key: Option<SecretSource>,
}

fn key_name(role: Role) -> &'static str {
    match role {
        Role::Receive => "invoice/read key",
        Role::Pay => "admin key",
    }
}

impl Kind for LnbitsSpec {
    const NAME: &'static str = "lnbits";

    fn check(&self, role: Role, f: &mut Findings) {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            f.error("lnbits.url", "expected an http:// or https:// URL");
        }
        match &self.api_key {
            Some(key) => {
                f.secret("lnbits.api_key", key);
            }
            None => f.error(
                "lnbits.api_key",
                format!(
                    "`api_key` is required: the wallet's {} (e.g. api_key = {{ env = \"LNBITS_KEY\" }})",
                    key_name(role)
                ),
            ),
        }
    }

    fn resolve_relative_paths(&mut self, base: &Path) {
        if let Some(key) = self.api_key.as_mut() {
            key.resolve_relative_path(base);
        }
    }

    fn location(&self, _ctx: &Context<'_>) -> String {
        self.url.clone()
    }
}

#[cfg(feature = "lnbits")]
mod build {
    use super::{LnbitsSpec, key_name};
    use crate::lnbits::LnbitsBackend;
    use crate::spec::kind::Build;
    use crate::spec::preflight::Described;
    use crate::spec::{Context, Role, SetupError};

    impl Build for LnbitsSpec {
        type Backend = LnbitsBackend;

        fn backend(&self, role: Role, ctx: &Context<'_>) -> Result<LnbitsBackend, SetupError> {
            let section = ctx.section;
            let key = self
                .api_key
                .as_ref()
                .ok_or_else(|| {
                    SetupError::invalid(format!(
                        "[{section}.lnbits] api_key is required: the wallet's {}",
                        key_name(role)
                    ))
                })?
                .resolve()
                .map_err(|e| {
                    SetupError::invalid_because(format!("[{section}.lnbits] api_key"), e)
                })?;
            let key = key.trim();
            let admin_key = (role == Role::Pay).then_some(key);
            LnbitsBackend::new(&self.url, key, admin_key)
                .map_err(|e| SetupError::invalid_because(format!("[{section}.lnbits]"), e))
        }

        fn described(&self, role: Role, ctx: &Context<'_>, backend: &LnbitsBackend) -> Described {
            let section = ctx.section;
            let url = backend.base_url();
            let purpose = match role {
                Role::Receive => "receive the payments",
                Role::Pay => "pay",
            };
            Described {
                label: format!("LNbits at {url} ([{section}.lnbits] url)"),
                refused: format!(
                    "LNbits at {url} rejected the API key from [{section}.lnbits] api_key. Check \
                     that it is the {} of the wallet that should {purpose} (LNbits: open the \
                     wallet, \"API info\"), that the wallet still exists, and that `url` points \
                     at that LNbits instance",
                    key_name(role)
                ),
                silent: "check that it is running and reachable from here",
            }
        }

        async fn warnings(
            &self,
            role: Role,
            ctx: &Context<'_>,
            backend: &LnbitsBackend,
        ) -> Vec<String> {
            let admin_key = role == Role::Receive
                && matches!(backend.invoice_key_is_admin_key().await, Ok(true));
            if !admin_key {
                return Vec::new();
            }
            vec![format!(
                "[{}.lnbits] api_key is the wallet's admin key, which can spend its balance; \
                 receiving needs only the invoice/read key",
                ctx.section
            )]
        }
    }
}
