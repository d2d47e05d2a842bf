//! `[<section>.lnd]`: an LND node over REST (`rest_address`) or gRPC (`address`), its
//! `tls.cert` pinned, authenticated with a macaroon (an `invoice.macaroon` is enough to receive;
//! paying needs `admin.macaroon` or one baked with `offchain:write`).

use std::path::{Path, PathBuf};

use l402_secret::SecretSource;
use serde::Deserialize;

use super::findings::looks_like_host_port;
use super::kind::Kind;
use super::{Context, Findings, Role};

/// `[<section>.lnd]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LndSpec {
    /// gRPC address, `host:port` (usually port 10009); used unless `rest_address` is set.
    pub address: Option<String>,
    /// REST address, `https://host:port` or `host:port` (`lnd --restlisten`, usually port
    /// 8080). When set, LND is reached over REST.
    pub rest_address: Option<String>,
    /// LND's `tls.cert`, pinned. Unset (and no `tls_cert`): the web PKI roots are trusted.
    pub tls_cert_path: Option<PathBuf>,
    /// LND's `tls.cert` as PEM, hex or base64 text (inline, `{ env = "…" }` or
    /// `{ file = "…" }`), instead of `tls_cert_path`.
    pub tls_cert: Option<SecretSource>,
    /// A macaroon file (binary, or text with its hex or base64).
    pub macaroon_path: Option<PathBuf>,
    /// The macaroon as hex or base64 text, instead of `macaroon_path`. Exactly one of the two
    /// is required.
    pub macaroon: Option<SecretSource>,
}

fn macaroon_hint(role: Role) -> &'static str {
    match role {
        Role::Receive => "an `invoice.macaroon` is enough",
        Role::Pay => "paying needs `admin.macaroon` or a macaroon baked with offchain:write",
    }
}

impl Kind for LndSpec {
    const NAME: &'static str = "lnd";

    fn check(&self, role: Role, f: &mut Findings) {
        match (&self.address, &self.rest_address) {
            (None, None) => f.error(
                "lnd.address",
                "set `address` (gRPC, host:port) or `rest_address` (REST, https://host:port)",
            ),
            (Some(address), _) if !looks_like_host_port(address) => {
                f.error("lnd.address", "expected `host:port`")
            }
            _ => {}
        }
        if let Some(cert) = &self.tls_cert_path {
            f.readable_file("lnd.tls_cert_path", cert);
        }
        match (&self.tls_cert_path, &self.tls_cert) {
            (Some(_), Some(_)) => f.error(
                "lnd.tls_cert",
                "set `tls_cert_path` or `tls_cert`, not both",
            ),
            (None, Some(cert)) => {
                f.secret("lnd.tls_cert", cert);
            }
            _ => {}
        }
        match (&self.macaroon_path, &self.macaroon) {
            (Some(path), None) => f.readable_file("lnd.macaroon_path", path),
            (None, Some(macaroon)) => {
                f.secret("lnd.macaroon", macaroon);
            }
            (Some(_), Some(_)) => f.error(
                "lnd.macaroon",
                "set `macaroon_path` or `macaroon`, not both",
            ),
            (None, None) => f.error(
                "lnd.macaroon_path",
                format!(
                    "a macaroon is required: `macaroon_path` (file) or `macaroon` (hex or base64 \
                     from env or file); {}",
                    macaroon_hint(role)
                ),
            ),
        }
    }

    fn resolve_relative_paths(&mut self, base: &Path) {
        for p in [self.tls_cert_path.as_mut(), self.macaroon_path.as_mut()]
            .into_iter()
            .flatten()
        {
            l402_secret::resolve_relative_path(p, base);
        }
        for secret in [self.macaroon.as_mut(), self.tls_cert.as_mut()]
            .into_iter()
            .flatten()
        {
            secret.resolve_relative_path(base);
        }
    }

    fn location(&self, _ctx: &Context<'_>) -> String {
        self.rest_address
            .clone()
            .or_else(|| self.address.clone())
            .unwrap_or_default()
    }
}

#[cfg(feature = "lnd")]
mod build {
    use std::sync::Arc;

    use l402_secret::SecretSource;

    use super::{LndSpec, macaroon_hint};
    use crate::LightningBackend;
    use crate::lnd::{CredentialSource, LndConfig, LndGrpc, LndRest, LndSetupError};
    use crate::spec::kind::Build;
    use crate::spec::preflight::Described;
    use crate::spec::{Context, Role, SetupError};

    /// A text credential: PEM stays bytes; otherwise hex if it is hex, else base64.
    fn text_credential(
        section: &str,
        key: &str,
        source: &SecretSource,
    ) -> Result<CredentialSource, SetupError> {
        let text = source
            .resolve()
            .map_err(|e| SetupError::invalid_because(format!("[{section}.lnd] {key}"), e))?;
        let text = text.trim();
        Ok(if text.starts_with("-----BEGIN") {
            CredentialSource::Bytes(text.as_bytes().to_vec())
        } else if text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            CredentialSource::Hex(text.to_owned())
        } else {
            CredentialSource::Base64(text.to_owned())
        })
    }

    impl Build for LndSpec {
        type Backend = Arc<dyn LightningBackend>;

        fn backend(&self, _role: Role, ctx: &Context<'_>) -> Result<Self::Backend, SetupError> {
            let section = ctx.section;
            let tls_cert = match (&self.tls_cert_path, &self.tls_cert) {
                (Some(path), _) => Some(CredentialSource::Path(path.clone())),
                (None, Some(source)) => Some(text_credential(section, "tls_cert", source)?),
                (None, None) => None,
            };
            let macaroon = match (&self.macaroon_path, &self.macaroon) {
                (Some(path), _) => CredentialSource::Path(path.clone()),
                (None, Some(source)) => text_credential(section, "macaroon", source)?,
                (None, None) => {
                    return Err(SetupError::invalid(format!(
                        "[{section}.lnd] needs `macaroon_path` or `macaroon`"
                    )));
                }
            };
            let config =
                |address: &str| LndConfig::new(address, tls_cert.clone(), macaroon.clone());
            let bad = |e: LndSetupError| SetupError::invalid_because(format!("[{section}.lnd]"), e);
            match (&self.rest_address, &self.address) {
                (Some(rest), _) => Ok(Arc::new(LndRest::new(config(rest)).map_err(bad)?)),
                (None, Some(grpc)) => Ok(Arc::new(LndGrpc::new(config(grpc)).map_err(bad)?)),
                (None, None) => Err(SetupError::invalid(format!(
                    "[{section}.lnd] needs `address` (gRPC) or `rest_address` (REST)"
                ))),
            }
        }

        fn described(&self, role: Role, ctx: &Context<'_>, _: &Self::Backend) -> Described {
            let section = ctx.section;
            let at = self
                .rest_address
                .as_deref()
                .or(self.address.as_deref())
                .unwrap_or_default();
            Described {
                label: format!("LND at {at} ([{section}.lnd])"),
                refused: format!(
                    "LND at {at} refused the macaroon from [{section}.lnd]: check that it belongs \
                     to this node; {}",
                    macaroon_hint(role)
                ),
                silent: "check that lnd is running, unlocked and reachable from here",
            }
        }
    }
}
