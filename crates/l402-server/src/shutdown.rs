//! Shutdown phases shared by the accept loop, connections and upgraded tunnels, and a tracker
//! that tells when every connection task has finished.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Running,
    /// Stop taking new requests; let in-flight ones finish.
    Draining,
    /// Drop everything still open.
    Stopped,
}

/// A receiver of the shutdown phases.
#[derive(Debug, Clone)]
pub(crate) struct Signal(watch::Receiver<Phase>);

impl Signal {
    async fn reached(&mut self, phase: Phase) {
        // An error means the controller is gone, which also means "stop".
        let _ = self.0.wait_for(|p| *p >= phase).await;
    }

    /// Resolves once draining has begun.
    pub(crate) async fn draining(&mut self) {
        self.reached(Phase::Draining).await;
    }

    /// Resolves once the drain period is over.
    pub(crate) async fn stopped(&mut self) {
        self.reached(Phase::Stopped).await;
    }
}

/// Held by every connection task; [`Controller::drain`] waits until all are dropped.
#[derive(Debug, Clone)]
pub(crate) struct TaskToken(#[allow(dead_code)] mpsc::Sender<()>);

impl TaskToken {
    /// A handle that does not keep the drain waiting by itself.
    pub(crate) fn downgrade(&self) -> WeakTaskToken {
        WeakTaskToken(self.0.downgrade())
    }
}

/// A [`TaskToken`] that does not count until upgraded.
#[derive(Debug, Clone)]
pub(crate) struct WeakTaskToken(mpsc::WeakSender<()>);

impl WeakTaskToken {
    /// A counting token, unless the drain already finished.
    pub(crate) fn upgrade(&self) -> Option<TaskToken> {
        self.0.upgrade().map(TaskToken)
    }
}

/// Owns the phases.
#[derive(Debug)]
pub(crate) struct Controller {
    phase: watch::Sender<Phase>,
    token: TaskToken,
    done: mpsc::Receiver<()>,
}

impl Controller {
    pub(crate) fn new() -> Self {
        let (phase, _) = watch::channel(Phase::Running);
        let (tx, done) = mpsc::channel(1);
        Self {
            phase,
            token: TaskToken(tx),
            done,
        }
    }

    pub(crate) fn signal(&self) -> Signal {
        Signal(self.phase.subscribe())
    }

    pub(crate) fn token(&self) -> TaskToken {
        self.token.clone()
    }

    /// Enters draining, waits up to `timeout` for every task to finish, then stops the rest
    /// and gives them a moment to close their sockets. Returns true if everything drained.
    pub(crate) async fn drain(self, timeout: Duration) -> bool {
        let Self {
            phase,
            token,
            mut done,
        } = self;
        drop(token);
        phase.send_replace(Phase::Draining);
        let drained = tokio::time::timeout(timeout, done.recv()).await.is_ok();
        phase.send_replace(Phase::Stopped);
        if !drained {
            let _ = tokio::time::timeout(Duration::from_secs(1), done.recv()).await;
        }
        drained
    }
}
