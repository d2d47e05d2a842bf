//! One backend specification for the seller's `[backend]` and the buyer's `[wallet]`: the same
//! TOML shape (`kind = "…"` plus one `[<section>.<kind>]` table per backend), the same secret
//! sources (inline, `{ env = "VAR" }`, `{ file = "path" }`), one set of checks, one factory and
//! one preflight with its hints (feature `spec`).
//!
//! The [`Role`] says what the backend is for: a seller's backend [`Role::Receive`]s (invoices,
//! their states, settlements), a buyer's wallet must [`Role::Pay`]. The same section may ask for
//! different credentials per role (an LNbits invoice key is enough to receive, paying needs the
//! admin key), and the hints name what the role needs.
//!
//! ```
//! use l402_lightning::spec::{BackendKind, BackendSpec, Role};
//!
//! let spec: BackendSpec = toml::from_str(
//!     "kind = \"lnbits\"\n[lnbits]\nurl = \"https://lnbits.example\"\napi_key = { env = \"MY_KEY\" }\n",
//! )
//! .unwrap();
//! assert_eq!(spec.kind, BackendKind::Lnbits);
//! // MY_KEY is not set here: the check names the key to fix.
//! let findings = spec.check(Role::Receive, "backend");
//! assert!(findings.errors().any(|f| f.key == "lnbits.api_key"));
//! ```
//!
//! Adding a backend: the backend itself (`src/<name>/`, behind a feature), its section in
//! `src/spec/<name>.rs` (serde model, checks, constructor, preflight hint: the `Kind` and `Build` traits of `kind.rs`)
//! and one line in the `backends!` list in this file.

mod cln;
mod dev;
mod error;
mod findings;
mod kind;
mod lnbits;
mod lnd;
mod nwc;
mod preflight;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use serde::Deserialize;

use crate::LightningBackend;

pub use cln::ClnSpec;
pub use dev::DevSpec;
#[cfg(feature = "dev")]
pub use dev::start_wallet_api;
pub use error::SetupError;
pub use findings::{Finding, Findings, Severity};
use kind::Kind;
pub use l402_secret::SecretSource;
pub use lnbits::LnbitsSpec;
pub use lnd::LndSpec;
pub use nwc::NwcSpec;

/// What the backend is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A seller's backend: creates invoices, reads their states, streams settlements.
    Receive,
    /// A buyer's wallet: pays invoices.
    Pay,
}

/// Where the section lives and what it may use, for messages and defaults.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The section's name in its file, for messages: `backend` (seller) or `wallet` (buyer).
    pub section: &'a str,
    /// The data directory (the dev wallet's connection file and, embedded, its ledger).
    pub data_dir: &'a Path,
}

/// A backend built from its section, checked, and what comes with it.
pub struct Opened {
    /// The backend.
    pub backend: Arc<dyn LightningBackend>,
    /// The dev wallet's API URL, for banners; `None` for a real backend (which must never be
    /// confused with it).
    pub dev_wallet_url: Option<String>,
    /// The embedded dev wallet's loopback API when it runs in this process (seller, `dev`
    /// without `connection_file`): shut it down with the seller.
    #[cfg(feature = "dev")]
    pub embedded: Option<crate::dev::http::DevWalletServer>,
    /// What the operator should know (an LNbits admin key where an invoice key is enough).
    pub warnings: Vec<String>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("dev_wallet_url", &self.dev_wallet_url)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Opened {
    #[allow(dead_code)] // unused when no backend feature is on
    fn real(backend: Arc<dyn LightningBackend>) -> Self {
        Self {
            backend,
            dev_wallet_url: None,
            #[cfg(feature = "dev")]
            embedded: None,
            warnings: Vec::new(),
        }
    }
}

/// The list of backends: one line each (kind, its name in files, its section's module and type,
/// the cargo feature that builds it). Generates [`BackendKind`], [`BackendSpec`]'s fields and
/// the dispatch of its methods.
macro_rules! backends {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $module:ident: $spec:ident, $feature:literal; )*) => {
        /// Which Lightning backend a section selects.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum BackendKind {
            $( $(#[$doc])* $variant, )*
        }

        impl BackendKind {
            /// Every kind, in the order of the list.
            pub const ALL: &'static [BackendKind] = &[$( BackendKind::$variant, )*];

            /// The name used in configuration files and on the command line.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                }
            }

            /// True when this build contains the backend (its cargo feature is on).
            pub fn is_built(self) -> bool {
                match self {
                    $( Self::$variant => cfg!(feature = $feature), )*
                }
            }
        }

        /// A section selecting a backend: `kind` plus one optional table per kind (only the
        /// selected one is used; the others draw a warning).
        #[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct BackendSpec {
            /// The backend in use. Default `dev`.
            #[serde(default)]
            pub kind: BackendKind,
            $(
                #[doc = concat!("`[<section>.", $name, "]`.")]
                pub $module: Option<$spec>,
            )*
        }

        impl BackendSpec {
            /// Checks the section for `role` without contacting anything: the selected kind has
            /// its table, its values have the right shape, its files and secrets are readable
            /// now. Keys in the findings are relative to the section (`lnd.address`).
            pub fn check(&self, role: Role, section: &str) -> Findings {
                let mut f = Findings::default();
                $(
                    let present = self.$module.is_some();
                    if present && self.kind != BackendKind::$variant {
                        f.warn($name, format!("ignored: `kind` is \"{}\"", self.kind));
                    }
                    if self.kind == BackendKind::$variant {
                        match &self.$module {
                            Some(section) => section.check(role, &mut f),
                            None => match <$spec as Kind>::DEFAULT {
                                Some(default) => default.check(role, &mut f),
                                None => f.error(
                                    "kind",
                                    format!("`kind = \"{}\"` needs a `[{section}.{}]` table", $name, $name),
                                ),
                            },
                        }
                        if !cfg!(feature = $feature) {
                            f.error("kind", not_built_message($name, $feature));
                        }
                    }
                )*
                f
            }

            /// Makes the relative paths of every table relative to `base` (the configuration
            /// file's directory).
            pub fn resolve_relative_paths(&mut self, base: &Path) {
                $(
                    if let Some(section) = self.$module.as_mut() {
                        section.resolve_relative_paths(base);
                    }
                )*
            }

            /// Where the selected backend is, for messages: its URL, address or connection
            /// file (never a credential; empty when its table is missing).
            pub fn location(&self, ctx: &Context<'_>) -> String {
                match self.kind {
                    $(
                        BackendKind::$variant => self
                            .section::<$spec>(&self.$module, ctx)
                            .map(|s| s.location(ctx))
                            .unwrap_or_default(),
                    )*
                }
            }

            /// Builds the selected backend for `role` without contacting it (the buyer's lazy
            /// wallet; the seller calls [`open`](Self::open)). A seller's embedded dev wallet
            /// needs [`open`](Self::open).
            pub fn connect(&self, role: Role, ctx: &Context<'_>) -> Result<Arc<dyn LightningBackend>, SetupError> {
                match self.kind {
                    $(
                        BackendKind::$variant => {
                            #[cfg(feature = $feature)]
                            {
                                kind::Build::connect(self.section::<$spec>(&self.$module, ctx)?.as_ref(), role, ctx)
                            }
                            #[cfg(not(feature = $feature))]
                            {
                                let _ = (role, ctx);
                                Err(SetupError::invalid(not_built_message($name, $feature)))
                            }
                        }
                    )*
                }
            }

            /// Builds the selected backend for `role` and checks that it answers (its node info
            /// within 10 s), so a wrong address or credential fails now with what to fix.
            pub async fn open(&self, role: Role, ctx: &Context<'_>) -> Result<Opened, SetupError> {
                match self.kind {
                    $(
                        BackendKind::$variant => {
                            #[cfg(feature = $feature)]
                            {
                                kind::Build::open(self.section::<$spec>(&self.$module, ctx)?.as_ref(), role, ctx).await
                            }
                            #[cfg(not(feature = $feature))]
                            {
                                let _ = (role, ctx);
                                Err(SetupError::invalid(not_built_message($name, $feature)))
                            }
                        }
                    )*
                }
            }
        }
    };
}

backends! {
    /// The embedded development wallet (regtest; zero setup). The default.
    #[default]
    Dev = "dev", dev: DevSpec, "dev";
    /// LND over REST or gRPC.
    Lnd = "lnd", lnd: LndSpec, "lnd";
    /// An LNbits wallet over its REST API.
    Lnbits = "lnbits", lnbits: LnbitsSpec, "lnbits";
    /// A Nostr Wallet Connect (NIP-47) wallet.
    Nwc = "nwc", nwc: NwcSpec, "nwc";
    /// Core Lightning over CLNRest.
    Cln = "cln", cln: ClnSpec, "cln";
}

impl BackendSpec {
    /// The selected table, or its default when the kind has one (`dev`), or an error naming
    /// the missing table.
    fn section<'s, S: Kind + Clone>(
        &self,
        table: &'s Option<S>,
        ctx: &Context<'_>,
    ) -> Result<std::borrow::Cow<'s, S>, SetupError> {
        match (table, S::DEFAULT) {
            (Some(s), _) => Ok(std::borrow::Cow::Borrowed(s)),
            (None, Some(default)) => Ok(std::borrow::Cow::Owned(default)),
            (None, None) => Err(SetupError::invalid(format!(
                "`kind = \"{kind}\"` needs a `[{section}.{kind}]` table",
                kind = self.kind,
                section = ctx.section
            ))),
        }
    }
}

fn not_built_message(name: &str, feature: &str) -> String {
    format!(
        "this build has no `{name}` backend: rebuild with the `{feature}` feature (the `l402` \
         binary has them all)"
    )
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backend kind that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend kind `{0}`: expected {expected}", expected = expected_kinds())]
pub struct UnknownBackendKind(pub String);

fn expected_kinds() -> String {
    let names: Vec<&str> = BackendKind::ALL.iter().map(|k| k.as_str()).collect();
    names.join(", ")
}

impl FromStr for BackendKind {
    type Err = UnknownBackendKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BackendKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownBackendKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests;
