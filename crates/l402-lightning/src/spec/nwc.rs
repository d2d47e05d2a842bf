//! `[<section>.nwc]`: a Nostr Wallet Connect (NIP-47) wallet through its
//! `nostr+walletconnect://` connection URI (a credential: it holds the connection's secret).

use std::path::Path;

use l402_secret::SecretSource;
use serde::Deserialize;

use super::kind::Kind;
use super::{Context, Findings, Role};

/// `[<section>.nwc]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NwcSpec {
    /// The `nostr+walletconnect://…` URI: inline, `{ env = "…" }` or `{ file = "…" }`.
    pub uri: SecretSource,
}

impl Kind for NwcSpec {
    const NAME: &'static str = "nwc";

    fn check(&self, _role: Role, f: &mut Findings) {
        if let Some(uri) = f.secret("nwc.uri", &self.uri)
            && !uri.trim().starts_with("nostr+walletconnect://")
        {
            f.error("nwc.uri", "expected a `nostr+walletconnect://` URI");
        }
    }

    fn resolve_relative_paths(&mut self, base: &Path) {
        self.uri.resolve_relative_path(base);
    }

    fn location(&self, _ctx: &Context<'_>) -> String {
        // The URI holds the connection's secret: name where it comes from instead.
        match &self.uri {
            SecretSource::Inline(_) => "the inline nwc uri".to_owned(),
            SecretSource::Env(var) => format!("the nwc uri in ${var}"),
            SecretSource::File(path) => format!("the nwc uri in {}", path.display()),
        }
    }
}

#[cfg(feature = "nwc")]
mod build {
    use super::NwcSpec;
    use crate::nwc::NwcBackend;
    use crate::spec::kind::Build;
    use crate::spec::preflight::Described;
    use crate::spec::{Context, Role, SetupError};

    impl Build for NwcSpec {
        type Backend = NwcBackend;

        fn backend(&self, _role: Role, ctx: &Context<'_>) -> Result<NwcBackend, SetupError> {
            let key = format!("[{}.nwc] uri", ctx.section);
            let uri = self
                .uri
                .resolve()
                .map_err(|e| SetupError::invalid_because(key.clone(), e))?;
            NwcBackend::new(uri.trim()).map_err(|e| SetupError::invalid_because(key, e))
        }

        fn described(&self, role: Role, ctx: &Context<'_>, backend: &NwcBackend) -> Described {
            let section = ctx.section;
            let relay = backend.relay_url();
            let permissions = match role {
                Role::Receive => "get_info, make_invoice and lookup_invoice",
                Role::Pay => "get_info and pay_invoice",
            };
            Described {
                label: format!("the wallet behind [{section}.nwc] uri (relay {relay})"),
                refused: format!(
                    "the wallet service behind [{section}.nwc] uri (relay {relay}) refused this \
                     connection; the connection may have been deleted in the wallet, or lack \
                     the {permissions} permissions"
                ),
                silent: "check that the wallet (e.g. Alby Hub) is running and connected to that \
                         relay",
            }
        }
    }
}
