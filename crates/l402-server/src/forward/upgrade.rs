//! Protocol upgrades (WebSocket and others): after both sides agreed (101), the two upgraded
//! connections are joined with `copy_bidirectional` until either closes or the server stops.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use crate::shutdown::{Signal, TaskToken};

/// Spawns the tunnel between the client's and the upstream's upgraded connections.
pub(crate) fn spawn_tunnel(
    client: OnUpgrade,
    upstream: OnUpgrade,
    service: String,
    mut stop: Signal,
    token: Option<TaskToken>,
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
        }
    });
}
