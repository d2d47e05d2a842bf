//! `[admin]`: the operator's own listener (Prometheus metrics at `/metrics`, the admin API),
//! apart from the paywalled proxy.

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

/// Warns when the admin listener is reachable from other machines: its `/metrics` needs no
/// macaroon, so request counts and revenue would be public.
pub(super) fn check(admin: &AdminSettings, checks: &mut Checks<'_>) {
    if let Some(addr) = admin.listen
        && !addr.ip().is_loopback()
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
