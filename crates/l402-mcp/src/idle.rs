//! Closes the prepaid sessions an MCP server holds once they sit idle, so a deposit comes back
//! to the wallet without the agent having to call `l402_close_sessions`.

use std::sync::Arc;
use std::time::Duration;

use l402_client::L402Client;

/// The longest wait between two looks at the sessions.
const MAX_CHECK_EVERY: Duration = Duration::from_secs(30);
/// The shortest.
const MIN_CHECK_EVERY: Duration = Duration::from_secs(1);

/// A background task closing `client`'s sessions unused for `idle`; it stops when this is
/// dropped.
#[derive(Debug)]
pub struct IdleSessionCloser {
    task: tokio::task::JoinHandle<()>,
}

impl IdleSessionCloser {
    /// Starts the task (on the current Tokio runtime): every `idle / 4` (between 1 and 30 s)
    /// it closes the sessions unused for `idle` ([`L402Client::close_idle_sessions`]).
    pub fn spawn(client: Arc<L402Client>, idle: Duration) -> Self {
        let every = (idle / 4).clamp(MIN_CHECK_EVERY, MAX_CHECK_EVERY);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match client.close_idle_sessions(idle).await {
                    Ok(closed) => {
                        for c in closed {
                            tracing::info!(
                                session = %c.session_id,
                                refund_msat = c.refund.map(|r| r.0),
                                "closed an idle prepaid session"
                            );
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot list the sessions to close"),
                }
            }
        });
        Self { task }
    }
}

impl Drop for IdleSessionCloser {
    fn drop(&mut self) {
        self.task.abort();
    }
}
