//! `[<section>.cln]`: Core Lightning through CLNRest (`rest_url`, authorized by a `rune`, TLS
//! trusting CLN's own CA at `rest_ca_cert_path`). The gRPC and local-socket settings are
//! recognised so a configuration written for them gets a clear answer, but this build talks to
//! CLN over CLNRest only.

use std::path::{Path, PathBuf};

use l402_secret::SecretSource;
use serde::Deserialize;

use super::findings::looks_like_host_port;
use super::kind::Kind;
use super::{Context, Findings, Role};

/// `[<section>.cln]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClnSpec {
    /// cln-grpc address, `host:port` (not used by this build: set `rest_url`).
    pub grpc_address: Option<String>,
    /// CA certificate (`ca.pem`) for the gRPC server.
    pub ca_cert_path: Option<PathBuf>,
    /// Client certificate (`client.pem`) for gRPC.
    pub client_cert_path: Option<PathBuf>,
    /// Client key (`client-key.pem`) for gRPC.
    pub client_key_path: Option<PathBuf>,
    /// `lightning-rpc` unix socket path (not used by this build: set `rest_url`).
    pub rpc_socket_path: Option<PathBuf>,
    /// CLNRest URL, `https://host:port` (`clnrest-host`, `clnrest-port`; `http://` for
    /// `clnrest-protocol=http`).
    pub rest_url: Option<String>,
    /// The rune CLNRest checks (`lightning-cli createrune`); required with `rest_url`.
    pub rune: Option<SecretSource>,
    /// CLN's `ca.pem` (in the `clnrest-certs` directory) to trust for `rest_url`. Unset: the
    /// web PKI roots (a CLNRest behind a proxy with a public certificate).
    pub rest_ca_cert_path: Option<PathBuf>,
}

/// The methods the rune must allow for `role`.
fn rune_methods(role: Role) -> &'static str {
    match role {
        Role::Receive => "getinfo, invoice, listinvoices and waitanyinvoice",
        Role::Pay => "getinfo, pay, listpays and listsendpays",
    }
}

impl Kind for ClnSpec {
    const NAME: &'static str = "cln";

    fn check(&self, role: Role, f: &mut Findings) {
        match (&self.grpc_address, &self.rpc_socket_path, &self.rest_url) {
            (None, None, Some(url)) => self.check_rest(role, f, url),
            (Some(addr), None, None) => {
                if !looks_like_host_port(addr) {
                    f.error("cln.grpc_address", "expected `host:port`");
                }
                for (key, value) in [
                    ("ca_cert_path", &self.ca_cert_path),
                    ("client_cert_path", &self.client_cert_path),
                    ("client_key_path", &self.client_key_path),
                ] {
                    match value {
                        Some(p) => f.readable_file(&format!("cln.{key}"), p),
                        None => f.error(
                            format!("cln.{key}"),
                            format!("`{key}` is required with `grpc_address`"),
                        ),
                    }
                }
            }
            (None, Some(_), None) => {}
            _ => f.error(
                "cln",
                "give exactly one of `rest_url` (with `rune`), `grpc_address` (with the mTLS \
                 files) or `rpc_socket_path`",
            ),
        }
    }

    fn resolve_relative_paths(&mut self, base: &Path) {
        for p in [
            self.ca_cert_path.as_mut(),
            self.client_cert_path.as_mut(),
            self.client_key_path.as_mut(),
            self.rpc_socket_path.as_mut(),
            self.rest_ca_cert_path.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            l402_secret::resolve_relative_path(p, base);
        }
        if let Some(rune) = self.rune.as_mut() {
            rune.resolve_relative_path(base);
        }
    }

    fn location(&self, _ctx: &Context<'_>) -> String {
        self.rest_url
            .clone()
            .or_else(|| self.grpc_address.clone())
            .or_else(|| {
                self.rpc_socket_path
                    .as_ref()
                    .map(|p| p.display().to_string())
            })
            .unwrap_or_default()
    }
}

impl ClnSpec {
    fn check_rest(&self, role: Role, f: &mut Findings, url: &str) {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or(url)
            .trim_end_matches('/');
        if !looks_like_host_port(rest) {
            f.error(
                "cln.rest_url",
                "expected `https://host:port` (CLNRest's clnrest-host and clnrest-port)",
            );
        }
        match &self.rune {
            Some(rune) => {
                f.secret("cln.rune", rune);
            }
            None => f.error(
                "cln.rune",
                format!(
                    "`rune` is required with `rest_url` (e.g. rune = {{ env = \"CLN_RUNE\" }}), \
                     allowing {}",
                    rune_methods(role)
                ),
            ),
        }
        match &self.rest_ca_cert_path {
            Some(p) => f.readable_file("cln.rest_ca_cert_path", p),
            None if !url.starts_with("http://") => f.warn(
                "cln.rest_ca_cert_path",
                "unset: CLNRest's certificate must then be publicly trusted; CLN signs it with \
                 its own CA (ca.pem in the clnrest-certs directory)",
            ),
            None => {}
        }
        for (key, set) in [
            ("ca_cert_path", self.ca_cert_path.is_some()),
            ("client_cert_path", self.client_cert_path.is_some()),
            ("client_key_path", self.client_key_path.is_some()),
        ] {
            if set {
                f.warn(
                    format!("cln.{key}"),
                    "ignored with `rest_url` (gRPC only; CLNRest uses `rest_ca_cert_path`)",
                );
            }
        }
    }
}

#[cfg(feature = "cln")]
mod build {
    use super::{ClnSpec, rune_methods};
    use crate::cln::{ClnConfig, ClnRest, PinnedCa, Rune};
    use crate::spec::kind::Build;
    use crate::spec::preflight::Described;
    use crate::spec::{Context, Role, SetupError};

    impl Build for ClnSpec {
        type Backend = ClnRest;

        fn backend(&self, role: Role, ctx: &Context<'_>) -> Result<ClnRest, SetupError> {
            let section = ctx.section;
            let Some(url) = self.rest_url.as_deref() else {
                return Err(SetupError::invalid(format!(
                    "[{section}.cln]: this build talks to Core Lightning through CLNRest only; \
                     set `rest_url` (and `rune`, `rest_ca_cert_path`) instead of \
                     `grpc_address` or `rpc_socket_path`"
                )));
            };
            let bad = |key: &str, e: Box<dyn std::error::Error + Send + Sync>| {
                SetupError::invalid_because(format!("[{section}.cln] {key}"), e)
            };
            let rune = self
                .rune
                .as_ref()
                .ok_or_else(|| {
                    SetupError::invalid(format!(
                        "[{section}.cln] rune: required with `rest_url`, allowing {}",
                        rune_methods(role)
                    ))
                })?
                .resolve()
                .map_err(|e| bad("rune", e.into()))?;
            let rune = Rune::new(rune.trim()).map_err(|e| bad("rune", e.into()))?;
            let ca = self
                .rest_ca_cert_path
                .as_ref()
                .map(PinnedCa::load)
                .transpose()
                .map_err(|e| bad("rest_ca_cert_path", e.into()))?;
            ClnRest::new(ClnConfig::new(url, rune, ca)).map_err(|e| bad("rest_url", e.into()))
        }

        fn described(&self, role: Role, ctx: &Context<'_>, backend: &ClnRest) -> Described {
            let section = ctx.section;
            let url = backend.url();
            Described {
                label: format!("CLNRest at {url} ([{section}.cln] rest_url)"),
                refused: format!(
                    "CLNRest at {url} refused the rune from [{section}.cln] rune. Check that it \
                     is a rune of this node (`lightning-cli showrunes`) that allows {}",
                    rune_methods(role)
                ),
                silent: "check that lightningd is running with CLNRest and reachable from here",
            }
        }
    }
}
