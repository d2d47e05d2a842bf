//! Protocol upgrades (WebSocket and others): after both sides agreed (101), the two upgraded
//! connections are joined with `copy_bidirectional` until either closes, the server stops or
//! the request's stream deadline is reached.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::deadline::{StreamDeadline, reached};
use crate::shutdown::{Signal, TaskToken};

/// Spawns the tunnel between the client's and the upstream's upgraded connections.
pub(crate) fn spawn_tunnel(
    client: OnUpgrade,
    upstream: OnUpgrade,
    service: String,
    stop: Signal,
    token: Option<TaskToken>,
    deadline: Option<StreamDeadline>,
) {
    tokio::spawn(async move {
        // Counted by the drain until the tunnel ends.
        let _token = token;
        let (client, upstream) = tokio::join!(client, upstream);
        let (client, upstream) = match (client, upstream) {
            (Ok(c), Ok(u)) => (c, u),
            (Err(e), _) | (_, Err(e)) => {
                tracing::debug!(service = %service, error = %e, "upgrade failed");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        tokio::select! {
            result = tokio::io::copy_bidirectional(&mut client, &mut upstream) => match result {
                Ok((up, down)) => tracing::debug!(service = %service, bytes_up = up, bytes_down = down, "upgraded connection closed"),
                Err(e) => tracing::debug!(service = %service, error = %e, "upgraded connection ended with an error"),
            },
            () = stop.stopped() => tracing::debug!(service = %service, "upgraded connection closed by shutdown"),
            () = reached(deadline.as_ref()) => tracing::info!(service = %service, "stream deadline reached: upgraded connection closed"),
        }
    });
}
