//! Shutdown phases shared by the accept loop, connections and upgraded tunnels, and a tracker
//! that tells when every connection task has finished.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use atomic_waker::AtomicWaker;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Running,
    /// Stop taking new requests; let in-flight ones finish.
    Draining,
    /// Drop everything still open.
    Stopped,
}

/// The phase where it can be read without a lock, and the wakers of the [`PhaseWatch`]es.
#[derive(Debug)]
struct Shared {
    /// The current [`Phase`], as its discriminant.
    phase: AtomicU8,
    /// Every watch made (some gone): woken at each change of phase.
    watches: Mutex<Vec<Weak<AtomicWaker>>>,
}

impl Shared {
    fn reached(&self, phase: Phase) -> bool {
        self.phase.load(Ordering::Acquire) >= phase as u8
    }

    /// Enters `phase` and wakes every watch.
    fn enter(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
        let watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        for watch in watches.iter().filter_map(Weak::upgrade) {
            watch.wake();
        }
    }
}

/// A receiver of the shutdown phases.
#[derive(Debug, Clone)]
pub(crate) struct Signal {
    shared: Arc<Shared>,
}

impl Signal {
    async fn reached(&self, phase: Phase) {
        let watch = self.watch();
        std::future::poll_fn(|cx| watch.poll_reached(phase, cx)).await;
    }

    /// A watch on the phases, for a loop that polls it at every turn: a poll reads an atomic
    /// and registers the task's waker in the watch's own slot (no lock shared with other
    /// connections).
    pub(crate) fn watch(&self) -> PhaseWatch {
        let waker = Arc::new(AtomicWaker::new());
        let mut watches = self
            .shared
            .watches
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Forget the watches of closed connections now and then (amortised: at each doubling).
        if watches.len() >= 64 && watches.len().is_power_of_two() {
            watches.retain(|w| w.strong_count() > 0);
        }
        watches.push(Arc::downgrade(&waker));
        drop(watches);
        PhaseWatch {
            shared: Arc::clone(&self.shared),
            waker,
        }
    }

    /// Resolves once draining has begun.
    pub(crate) async fn draining(&self) {
        self.reached(Phase::Draining).await;
    }

    /// Resolves once the drain period is over.
    pub(crate) async fn stopped(&self) {
        self.reached(Phase::Stopped).await;
    }
}

/// A connection's view of the phases (see [`Signal::watch`]).
#[derive(Debug)]
pub(crate) struct PhaseWatch {
    shared: Arc<Shared>,
    waker: Arc<AtomicWaker>,
}

impl PhaseWatch {
    /// Ready once draining has begun.
    pub(crate) fn poll_draining(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_reached(Phase::Draining, cx)
    }

    /// Ready once the drain period is over.
    pub(crate) fn poll_stopped(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_reached(Phase::Stopped, cx)
    }

    fn poll_reached(&self, phase: Phase, cx: &mut Context<'_>) -> Poll<()> {
        if self.shared.reached(phase) {
            return Poll::Ready(());
        }
        // Registered before the second look: a change of phase in between wakes this task.
        self.waker.register(cx.waker());
        if self.shared.reached(phase) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
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

/// The controller's hold on the phases: when it goes (the controller dropped without a
/// drain), every watch and [`Signal`] sees the stop.
#[derive(Debug)]
struct PhaseOwner(Arc<Shared>);

impl Drop for PhaseOwner {
    fn drop(&mut self) {
        self.0.enter(Phase::Stopped);
    }
}

/// Owns the phases.
#[derive(Debug)]
pub(crate) struct Controller {
    shared: PhaseOwner,
    token: TaskToken,
    done: mpsc::Receiver<()>,
}

impl Controller {
    pub(crate) fn new() -> Self {
        let (tx, done) = mpsc::channel(1);
        Self {
            shared: PhaseOwner(Arc::new(Shared {
                phase: AtomicU8::new(Phase::Running as u8),
                watches: Mutex::new(Vec::new()),
            })),
            token: TaskToken(tx),
            done,
        }
    }

    pub(crate) fn signal(&self) -> Signal {
        Signal {
            shared: Arc::clone(&self.shared.0),
        }
    }

    pub(crate) fn token(&self) -> TaskToken {
        self.token.clone()
    }

    /// Enters draining, waits up to `timeout` for every task to finish, then stops the rest
    /// and gives them a moment to close their sockets. Returns true if everything drained.
    pub(crate) async fn drain(self, timeout: Duration) -> bool {
        let Self {
            shared,
            token,
            mut done,
        } = self;
        drop(token);
        shared.0.enter(Phase::Draining);
        let drained = tokio::time::timeout(timeout, done.recv()).await.is_ok();
        shared.0.enter(Phase::Stopped);
        if !drained {
            let _ = tokio::time::timeout(Duration::from_secs(1), done.recv()).await;
        }
        drained
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    /// Polls `watch` for the drain and the stop until one is ready; which one.
    async fn next_phase(watch: &PhaseWatch, draining_seen: bool) -> Phase {
        poll_fn(|cx| {
            if watch.poll_stopped(cx).is_ready() {
                return Poll::Ready(Phase::Stopped);
            }
            if !draining_seen && watch.poll_draining(cx).is_ready() {
                return Poll::Ready(Phase::Draining);
            }
            Poll::Pending
        })
        .await
    }

    #[tokio::test]
    async fn a_watch_wakes_for_the_drain_then_the_stop() {
        let controller = Controller::new();
        let token = controller.token();
        let watch = controller.signal().watch();
        let waiting = tokio::spawn(async move {
            let first = next_phase(&watch, false).await;
            // The task still runs: the drain waits for its token.
            let second = next_phase(&watch, true).await;
            (first, second)
        });
        tokio::task::yield_now().await;
        let draining = tokio::spawn(controller.drain(Duration::from_millis(200)));
        let (first, second) = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the watch is woken")
            .unwrap();
        assert_eq!((first, second), (Phase::Draining, Phase::Stopped));
        drop(token);
        assert!(
            !draining.await.unwrap(),
            "the token outlived the drain period"
        );
    }

    #[tokio::test]
    async fn a_watch_made_after_a_change_sees_it_and_a_dropped_controller_stops() {
        let controller = Controller::new();
        let signal = controller.signal();
        let before = signal.watch();
        let pending = poll_fn(|cx| Poll::Ready(before.poll_draining(cx).is_pending())).await;
        assert!(pending, "running");
        drop(controller);
        let after = signal.watch();
        for watch in [&before, &after] {
            assert_eq!(next_phase(watch, false).await, Phase::Stopped);
        }
    }

    #[test]
    fn closed_watches_are_forgotten() {
        let controller = Controller::new();
        let signal = controller.signal();
        let kept: Vec<_> = (0..10).map(|_| signal.watch()).collect();
        for _ in 0..1000 {
            drop(signal.watch());
        }
        let registered = controller.shared.0.watches.lock().unwrap().len();
        assert!(registered < 200, "{registered} watches still listed");
        assert_eq!(kept.len(), 10);
    }
}
