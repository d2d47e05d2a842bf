//! One WebSocket connection to the wallet's relay, kept up by a task: it subscribes to the
//! wallet's responses and notifications for our client key, publishes request events, routes
//! each response to the request it answers (by the request's event id in the response's `e`
//! tag), and reconnects with backoff when the socket drops.
//!
//! Requests in flight when the socket drops are re-published after the reconnection unless the
//! relay had already acknowledged them (`OK`): an acknowledged request may have reached the
//! wallet, and its answer, if the wallet sent it while we were away, is lost (responses are
//! ephemeral events). Such a request ends in [`BackendError::Timeout`] unless the caller retries
//! it (the backend does so for read-only calls).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use l402_core::{Msat, PaymentHash};
use nostr::event::{Event, EventId, Kind};
use nostr::filter::Filter;
use nostr::key::{Keys, PublicKey};
use nostr::message::{ClientMessage, RelayMessage, SubscriptionId};
use nostr::types::Timestamp;
use tokio::net::TcpStream;
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::BACKEND_NAME;
use super::codec::{self, WalletInfo};
use crate::backend::Settlement;
use crate::error::BackendError;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The subscription for responses and notifications.
const SUB_WALLET: &str = "l402-nwc";
/// The one-shot subscription for the wallet's info event.
const SUB_INFO: &str = "l402-nwc-info";
/// Settlements buffered per subscriber before it lags.
const SETTLEMENT_CAPACITY: usize = 256;
/// Payment hashes remembered to drop duplicate notifications (a wallet that speaks both
/// schemes sends each notification twice, as kind 23196 and 23197).
const SEEN_NOTIFICATIONS: usize = 512;
/// How far back a resubscription reaches, to pick up notifications a relay stored while the
/// socket was down (most relays store none: they are ephemeral).
const RESUBSCRIBE_SLACK_SECS: u64 = 5;

/// Longest pause between reconnection attempts while a call waits for the link.
const WAITED_BACKOFF: Duration = Duration::from_secs(1);

/// Time limits of the connection task.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    /// TCP + TLS + WebSocket handshake, and the wait for the subscriptions' `EOSE`.
    pub connect_timeout: Duration,
    /// First wait between reconnection attempts (doubles up to `max_backoff`).
    pub min_backoff: Duration,
    /// Longest wait between reconnection attempts.
    pub max_backoff: Duration,
    /// How often to ping the relay; a relay silent for 2.5 intervals is taken as gone.
    pub ping_interval: Duration,
}

/// The state of the link to the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Link {
    /// Not connected: connecting, or waiting to retry. `error` says why the last attempt or
    /// connection failed.
    Down {
        /// The generation of the last connection (0: never connected).
        generation: u64,
        /// What went wrong last, if anything did.
        error: Option<String>,
    },
    /// Connected and subscribed.
    Up {
        /// Counts successful connections.
        generation: u64,
    },
}

/// A response, or why there will be none.
pub(super) type Answer = Result<Event, BackendError>;

struct Pending {
    event: Event,
    tx: oneshot::Sender<Answer>,
    /// The relay acknowledged the event (`OK true`).
    acked: bool,
}

/// What the backend and the task share.
pub(super) struct Shared {
    relay: String,
    wallet: PublicKey,
    keys: Keys,
    tls: Option<Arc<rustls::ClientConfig>>,
    timing: Timing,
    pending: Mutex<HashMap<EventId, Pending>>,
    link: watch::Sender<Link>,
    info: Mutex<Option<WalletInfo>>,
    settlements: broadcast::Sender<Settlement>,
    kick: Notify,
    outbox: mpsc::UnboundedSender<EventId>,
}

/// The running connection; dropping it stops the task and closes the socket.
pub(super) struct Connection {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one still holds consistent data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connection {
    /// Starts the connection task (it connects at once). Must be called inside a tokio runtime.
    pub(super) fn start(
        relay: String,
        wallet: PublicKey,
        keys: Keys,
        tls: Option<Arc<rustls::ClientConfig>>,
        timing: Timing,
    ) -> Self {
        let (outbox, outbox_rx) = mpsc::unbounded_channel();
        let (settlements, _) = broadcast::channel(SETTLEMENT_CAPACITY);
        let shared = Arc::new(Shared {
            relay,
            wallet,
            keys,
            tls,
            timing,
            pending: Mutex::new(HashMap::new()),
            link: watch::Sender::new(Link::Down {
                generation: 0,
                error: None,
            }),
            info: Mutex::new(None),
            settlements,
            kick: Notify::new(),
            outbox,
        });
        let task = tokio::spawn(run(shared.clone(), outbox_rx));
        Self { shared, task }
    }

    /// The relay URL.
    pub(super) fn relay(&self) -> &str {
        &self.shared.relay
    }

    /// What the wallet's info event said, if the relay had one.
    pub(super) fn info(&self) -> Option<WalletInfo> {
        lock(&self.shared.info).clone()
    }

    /// A receiver of `payment_received` notifications.
    pub(super) fn settlements(&self) -> broadcast::Receiver<Settlement> {
        self.shared.settlements.subscribe()
    }

    /// Waits until the link is up and returns its generation. Gives up at `deadline` with
    /// [`BackendError::Timeout`], or earlier, once the link has been down for
    /// `connect_timeout` of this wait, with [`BackendError::Unreachable`].
    pub(super) async fn wait_up(&self, deadline: Instant) -> Result<u64, BackendError> {
        let mut rx = self.shared.link.subscribe();
        if let Link::Up { generation } = *rx.borrow_and_update() {
            return Ok(generation);
        }
        // Skip the rest of a backoff pause: someone is waiting.
        self.shared.kick.notify_one();
        let unreachable_at = Instant::now() + self.shared.timing.connect_timeout;
        let limit = deadline.min(unreachable_at);
        let up =
            tokio::time::timeout_at(limit.into(), rx.wait_for(|l| matches!(l, Link::Up { .. })))
                .await;
        match up {
            Ok(Ok(link)) => match *link {
                Link::Up { generation } => Ok(generation),
                Link::Down { .. } => Err(self.unreachable(None)),
            },
            Ok(Err(_)) => Err(self.unreachable(Some("the connection task ended"))),
            Err(_) if limit == deadline && deadline < unreachable_at => Err(BackendError::Timeout),
            Err(_) => {
                let error = match &*self.shared.link.borrow() {
                    Link::Down { error, .. } => error.clone(),
                    Link::Up { .. } => None,
                };
                Err(self.unreachable(error.as_deref()))
            }
        }
    }

    fn unreachable(&self, error: Option<&str>) -> BackendError {
        BackendError::Unreachable {
            backend: BACKEND_NAME.into(),
            address: self.shared.relay.clone(),
            detail: format!(
                "cannot connect to the NWC relay: {}; is the relay in the connection URI up?",
                error.unwrap_or("no connection yet")
            ),
            source: None,
        }
    }

    /// Resolves once the link is no longer the connection of `generation` (it dropped, or
    /// another connection replaced it).
    pub(super) async fn dropped(&self, generation: u64) {
        let mut rx = self.shared.link.subscribe();
        let _ = rx.wait_for(|l| *l != Link::Up { generation }).await;
    }

    /// Queues `event` for publication and returns where its response will arrive. The request
    /// stays registered until it is answered or [`forget`](Self::forget) is called.
    pub(super) fn submit(&self, event: Event) -> oneshot::Receiver<Answer> {
        let (tx, rx) = oneshot::channel();
        let id = event.id;
        lock(&self.shared.pending).insert(
            id,
            Pending {
                event,
                tx,
                acked: false,
            },
        );
        // The task holds the receiver as long as this connection lives.
        let _ = self.shared.outbox.send(id);
        rx
    }

    /// Drops a request nobody waits for any more (timed out); a late answer is then ignored.
    pub(super) fn forget(&self, id: &EventId) {
        lock(&self.shared.pending).remove(id);
    }
}

/// Connects, serves, reconnects; forever (the task is aborted when the backend goes away).
async fn run(shared: Arc<Shared>, mut outbox: mpsc::UnboundedReceiver<EventId>) {
    let timing = shared.timing;
    let mut backoff = timing.min_backoff;
    let mut generation = 0u64;
    let mut since = Timestamp::now();
    let mut seen = VecDeque::with_capacity(SEEN_NOTIFICATIONS);
    loop {
        match connect(&shared, since, &mut seen).await {
            Ok(mut socket) => {
                generation += 1;
                backoff = timing.min_backoff;
                // Everything queued so far is re-sent below (every unacknowledged request).
                while outbox.try_recv().is_ok() {}
                shared.link.send_replace(Link::Up { generation });
                tracing::debug!(relay = %shared.relay, generation, "NWC relay connected");
                let reason = match resend_unacked(&shared, &mut socket).await {
                    Ok(()) => serve(&shared, &mut socket, &mut outbox, &mut seen).await,
                    Err(e) => e,
                };
                let _ = socket.close(None).await;
                since = Timestamp::from_secs(
                    Timestamp::now()
                        .as_secs()
                        .saturating_sub(RESUBSCRIBE_SLACK_SECS),
                );
                tracing::warn!(
                    relay = %shared.relay,
                    reason = %reason,
                    "NWC relay connection lost; reconnecting"
                );
                shared.link.send_replace(Link::Down {
                    generation,
                    error: Some(reason),
                });
            }
            Err(e) => {
                tracing::debug!(relay = %shared.relay, error = %e, "NWC relay connection failed");
                shared.link.send_replace(Link::Down {
                    generation,
                    error: Some(e),
                });
            }
        }
        // While a call waits for the link, retry at least every second.
        let pause = if shared.link.receiver_count() > 0 {
            backoff.min(WAITED_BACKOFF)
        } else {
            backoff
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = shared.kick.notified() => {}
        }
        backoff = (backoff * 2).min(timing.max_backoff);
    }
}

async fn send(socket: &mut Socket, msg: &ClientMessage<'_>) -> Result<(), String> {
    socket
        .send(Message::text(msg.as_json()))
        .await
        .map_err(|e| format!("sending to the relay failed: {e}"))
}

/// Opens the socket, fetches the wallet's info event and subscribes to responses and
/// notifications; returns once the relay has acknowledged both subscriptions (`EOSE`).
async fn connect(
    shared: &Shared,
    since: Timestamp,
    seen: &mut VecDeque<PaymentHash>,
) -> Result<Socket, String> {
    let timeout = shared.timing.connect_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let connector = match &shared.tls {
        Some(config) => Connector::Rustls(config.clone()),
        None => Connector::Plain,
    };
    let handshake = tokio_tungstenite::connect_async_tls_with_config(
        shared.relay.as_str(),
        None,
        true,
        Some(connector),
    );
    let mut socket = match tokio::time::timeout_at(deadline, handshake).await {
        Err(_) => return Err(format!("no WebSocket handshake within {timeout:?}")),
        Ok(Err(e)) => return Err(e.to_string()),
        Ok(Ok((socket, _))) => socket,
    };
    let info = Filter::new()
        .kind(Kind::WalletConnectInfo)
        .author(shared.wallet)
        .limit(1);
    send(
        &mut socket,
        &ClientMessage::req(SubscriptionId::new(SUB_INFO), vec![info]),
    )
    .await?;
    let wallet = Filter::new()
        .kinds([
            Kind::WalletConnectResponse,
            Kind::WalletConnectNotification,
            Kind::WalletConnectNotificationNip44V2,
        ])
        .author(shared.wallet)
        .pubkey(shared.keys.public_key())
        .since(since);
    send(
        &mut socket,
        &ClientMessage::req(SubscriptionId::new(SUB_WALLET), vec![wallet]),
    )
    .await?;
    let (mut info_done, mut wallet_done) = (false, false);
    while !(info_done && wallet_done) {
        let msg = match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => {
                // A relay that never says EOSE still delivers live events; go on.
                tracing::debug!(relay = %shared.relay, "no EOSE from the NWC relay; going on");
                break;
            }
            Ok(None) => return Err("the relay closed the connection".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(msg))) => msg,
        };
        let Message::Text(text) = msg else { continue };
        match RelayMessage::from_json(text.as_str()) {
            Ok(RelayMessage::EndOfStoredEvents(sub)) if sub.as_str() == SUB_INFO => {
                info_done = true;
            }
            Ok(RelayMessage::EndOfStoredEvents(sub)) if sub.as_str() == SUB_WALLET => {
                wallet_done = true;
            }
            Ok(RelayMessage::Closed {
                subscription_id,
                message,
            }) if [SUB_INFO, SUB_WALLET].contains(&subscription_id.as_str()) => {
                return Err(format!("the relay refused the subscription: {message}"));
            }
            Ok(other) => {
                if let Some(stop) = handle(shared, other, seen) {
                    return Err(stop);
                }
            }
            Err(_) => tracing::debug!(relay = %shared.relay, "unparsable relay message ignored"),
        }
    }
    send(
        &mut socket,
        &ClientMessage::close(SubscriptionId::new(SUB_INFO)),
    )
    .await?;
    Ok(socket)
}

/// Publishes every request the relay has not acknowledged (queued while the link was down, or
/// in flight when it dropped).
async fn resend_unacked(shared: &Shared, socket: &mut Socket) -> Result<(), String> {
    let events: Vec<Event> = lock(&shared.pending)
        .values()
        .filter(|p| !p.acked)
        .map(|p| p.event.clone())
        .collect();
    for event in events {
        send(socket, &ClientMessage::event(event)).await?;
    }
    Ok(())
}

/// Serves the connection until it fails; returns why.
async fn serve(
    shared: &Shared,
    socket: &mut Socket,
    outbox: &mut mpsc::UnboundedReceiver<EventId>,
    seen: &mut VecDeque<PaymentHash>,
) -> String {
    let ping_every = shared.timing.ping_interval;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            id = outbox.recv() => {
                let Some(id) = id else { return "the backend is gone".into() };
                let event = lock(&shared.pending).get(&id).map(|p| p.event.clone());
                if let Some(event) = event
                    && let Err(e) = send(socket, &ClientMessage::event(event)).await
                {
                    return e;
                }
            }
            msg = socket.next() => {
                last_heard = Instant::now();
                match msg {
                    None => return "the relay closed the connection".into(),
                    Some(Err(e)) => return e.to_string(),
                    Some(Ok(Message::Close(_))) => {
                        return "the relay closed the connection".into();
                    }
                    Some(Ok(Message::Text(text))) => {
                        match RelayMessage::from_json(text.as_str()) {
                            Ok(msg) => {
                                if let Some(stop) = handle(shared, msg, seen) {
                                    return stop;
                                }
                            }
                            Err(_) => tracing::debug!(
                                relay = %shared.relay,
                                "unparsable relay message ignored"
                            ),
                        }
                    }
                    // Pings are answered by the library while reading; pongs only show life.
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > ping_every.mul_f32(2.5) {
                    return format!("nothing heard from the relay for {:?}", last_heard.elapsed());
                }
                if let Err(e) = socket.send(Message::Ping(Vec::new().into())).await {
                    return format!("ping failed: {e}");
                }
            }
        }
    }
}

/// Acts on one relay message; returns a reason to drop the connection, if any.
fn handle(
    shared: &Shared,
    msg: RelayMessage<'_>,
    seen: &mut VecDeque<PaymentHash>,
) -> Option<String> {
    match msg {
        RelayMessage::Event {
            subscription_id,
            event,
        } => {
            let event = event.into_owned();
            if event.pubkey != shared.wallet || event.verify().is_err() {
                tracing::debug!(relay = %shared.relay, "event not signed by the wallet ignored");
                return None;
            }
            match subscription_id.as_str() {
                SUB_INFO if event.kind == Kind::WalletConnectInfo => {
                    *lock(&shared.info) = Some(WalletInfo::parse(&event));
                }
                SUB_WALLET => on_wallet_event(shared, event, seen),
                _ => {}
            }
            None
        }
        RelayMessage::Ok {
            event_id,
            status,
            message,
        } => {
            let mut pending = lock(&shared.pending);
            let accepted = status || message.starts_with("duplicate:");
            if accepted {
                if let Some(p) = pending.get_mut(&event_id) {
                    p.acked = true;
                }
            } else if let Some(p) = pending.remove(&event_id) {
                let _ = p.tx.send(Err(refused(&shared.relay, &message)));
            }
            None
        }
        RelayMessage::Closed {
            subscription_id,
            message,
        } if subscription_id.as_str() == SUB_WALLET => Some(format!(
            "the relay closed the subscription to the wallet's responses: {message}"
        )),
        RelayMessage::Notice(message) => {
            tracing::info!(relay = %shared.relay, notice = %message, "NWC relay notice");
            None
        }
        RelayMessage::Auth { .. } => {
            tracing::warn!(
                relay = %shared.relay,
                "the NWC relay asks for NIP-42 authentication, which this client does not do; \
                 requests may be refused"
            );
            None
        }
        _ => None,
    }
}

/// A response goes to the request its `e` tag names; a notification becomes a settlement.
fn on_wallet_event(shared: &Shared, event: Event, seen: &mut VecDeque<PaymentHash>) {
    if event.kind == Kind::WalletConnectResponse {
        let waiting = {
            let mut pending = lock(&shared.pending);
            event.tags.event_ids().find_map(|id| pending.remove(&id))
        };
        match waiting {
            Some(p) => {
                let _ = p.tx.send(Ok(event));
            }
            None => tracing::debug!(
                relay = %shared.relay,
                "NWC response to no pending request (late, or answered already) ignored"
            ),
        }
        return;
    }
    let Some(paid) = codec::payment_received(&shared.keys, &event) else {
        return;
    };
    let Ok(payment_hash) = PaymentHash::from_hex(&paid.payment_hash) else {
        return;
    };
    if seen.contains(&payment_hash) {
        return;
    }
    if seen.len() == SEEN_NOTIFICATIONS {
        seen.pop_front();
    }
    seen.push_back(payment_hash);
    let _ = shared.settlements.send(Settlement {
        payment_hash,
        amount_received: Msat(paid.amount),
        settled_at_unix: paid.settled_at.as_secs(),
    });
}

/// The relay refused to take a request (`OK false`).
fn refused(relay: &str, message: &str) -> BackendError {
    let message = super::errors::quote(message);
    if message.starts_with("rate-limited:") {
        BackendError::Unreachable {
            backend: BACKEND_NAME.into(),
            address: relay.to_owned(),
            detail: format!("the relay is rate limiting us ({message}); retry later"),
            source: None,
        }
    } else {
        BackendError::Other(format!(
            "the NWC relay {relay} refused the request: {message}"
        ))
    }
}
