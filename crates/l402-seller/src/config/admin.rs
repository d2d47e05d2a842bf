//! `[admin]`: the operator's own listener (today: Prometheus metrics at `/metrics`), apart from
//! the paywalled proxy.

use std::net::SocketAddr;

use l402_server::config::Checks;
use serde::Deserialize;

/// `[admin]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Where the admin listener listens, e.g. `"127.0.0.1:9402"`. Unset: no admin listener.
    pub listen: Option<SocketAddr>,
}

/// Warns when the admin listener is reachable from other machines: it has no authentication
/// yet, so what it serves (request counts, revenue) would be public.
pub(super) fn check(admin: &AdminSettings, checks: &mut Checks<'_>) {
    if let Some(addr) = admin.listen
        && !addr.ip().is_loopback()
    {
        checks.warn(
            "admin.listen",
            format!(
                "{addr} is reachable from other machines, and the admin listener has no \
                 authentication: anyone who can connect reads the metrics (requests, revenue). \
                 Bind it to 127.0.0.1 or ::1, or firewall the port to your Prometheus"
            ),
        );
    }
}
