//! `[admin]`: the operator's own listener (Prometheus metrics at `/metrics`, the admin API),
//! apart from the paywalled proxy.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use l402_server::config::{Checks, resolve_relative_path};
use serde::Deserialize;

/// `[admin]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Where the admin listener listens, e.g. `"127.0.0.1:9402"`. Unset: no admin listener.
    pub listen: Option<SocketAddr>,
    /// PEM certificate chain: the admin listener speaks HTTPS (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: every client must present a certificate chaining to one of them
    /// (mutual TLS; needs `tls_cert` and `tls_key`). A verified client without a macaroon
    /// gets `client_role`.
    pub client_ca: Option<PathBuf>,
    /// What a verified client certificate allows without a macaroon: `"full"` (default) or
    /// `"read"`.
    pub client_role: Option<ClientRole>,
}

/// What a verified client certificate allows on the admin API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientRole {
    /// Every admin route.
    #[default]
    Full,
    /// The read routes only.
    Read,
}

impl AdminSettings {
    pub(super) fn resolve_relative_paths(&mut self, base: &Path) {
        for path in [&mut self.tls_cert, &mut self.tls_key, &mut self.client_ca]
            .into_iter()
            .flatten()
        {
            resolve_relative_path(path, base);
        }
    }

    /// The listener's TLS configuration, when `tls_cert` and `tls_key` are set (and with
    /// client certificates required when `client_ca` is).
    pub fn server_tls(&self) -> Result<Option<l402_tls::rustls::ServerConfig>, l402_tls::TlsError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        match &self.client_ca {
            Some(ca) => l402_tls::server_config_requiring_client_certs(cert, key, ca).map(Some),
            None => l402_tls::server_config(cert, key).map(Some),
        }
    }
}

/// Refuses half a TLS pair, a client CA without TLS and files that cannot be loaded; warns
/// when the admin listener is reachable from other machines without client certificates: its
/// `/metrics` needs no macaroon, so request counts and revenue would be public.
pub(super) fn check(admin: &AdminSettings, checks: &mut Checks<'_>) {
    match (&admin.tls_cert, &admin.tls_key) {
        (Some(_), None) => checks.error("admin.tls_key", "tls_cert is set: set tls_key too"),
        (None, Some(_)) => checks.error("admin.tls_cert", "tls_key is set: set tls_cert too"),
        _ => {}
    }
    if admin.client_ca.is_some() && admin.tls_cert.is_none() {
        checks.error(
            "admin.client_ca",
            "client certificates need TLS: set tls_cert and tls_key too",
        );
    }
    if admin.client_role.is_some() && admin.client_ca.is_none() {
        checks.error(
            "admin.client_role",
            "client_role applies to client certificates: set client_ca too",
        );
    }
    if admin.tls_cert.is_some()
        && admin.tls_key.is_some()
        && let Err(e) = admin.server_tls()
    {
        checks.error("admin.tls_cert", e.to_string());
    }
    if let Some(addr) = admin.listen
        && !addr.ip().is_loopback()
        && admin.client_ca.is_none()
    {
        checks.warn(
            "admin.listen",
            format!(
                "{addr} is reachable from other machines, and the admin listener's /metrics \
                 needs no macaroon: anyone who can connect reads the request counts and \
                 revenue. Bind it to 127.0.0.1 or ::1, or firewall the port to your Prometheus"
            ),
        );
    }
}
