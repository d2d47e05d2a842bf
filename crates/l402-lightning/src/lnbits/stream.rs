//! Settlements pushed by LNbits over its websocket `/api/v1/ws/{invoice key}`.
//!
//! LNbits sends `{"wallet_balance": …, "payment": {…}}` to that channel whenever a payment of
//! the wallet changes; a `payment` with a positive amount and status `success` is a settled
//! invoice. One connection per backend feeds a broadcast channel; it reconnects with backoff
//! and closes once nobody listens. LNbits does not replay missed messages: settlements that
//! happen while the connection is down are not delivered (poll
//! [`invoice_state`](crate::LightningBackend::invoice_state) for those).
//!
//! The channel's name is the invoice key, so the websocket URL is a secret: it is never logged
//! and never part of an error.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use l402_core::PaymentHash;
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::wire::PaymentRecord;
use super::{BACKEND_NAME, time};
use crate::backend::Settlement;
use crate::error::BackendError;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Settlements buffered per subscriber before it lags.
const CAPACITY: usize = 256;
/// How often an idle connection checks whether anyone still listens.
const IDLE_CHECK: Duration = Duration::from_secs(15);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The running stream of one backend.
pub(super) struct Hub {
    tx: broadcast::Sender<Settlement>,
    task: tokio::task::JoinHandle<()>,
}

impl Hub {
    /// A receiver, unless the connection task has ended.
    pub(super) fn subscribe(&self) -> Option<broadcast::Receiver<Settlement>> {
        (!self.task.is_finished()).then(|| self.tx.subscribe())
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where the stream connects: `ws://host:port/api/v1/ws/<key>`, or `wss://…` for an
/// `https://` instance.
pub(super) fn ws_url(base_url: &str, invoice_key: &str) -> Option<String> {
    if let Some(rest) = base_url.strip_prefix("https://") {
        return Some(format!("wss://{rest}/api/v1/ws/{invoice_key}"));
    }
    let rest = base_url.strip_prefix("http://")?;
    Some(format!("ws://{rest}/api/v1/ws/{invoice_key}"))
}

/// Everything a (re)connection needs.
pub(super) struct Target {
    /// The websocket URL (secret: it holds the invoice key).
    pub(super) url: String,
    /// The invoice key, scrubbed from errors.
    pub(super) invoice_key: String,
    /// The instance's base URL, for messages.
    pub(super) base_url: String,
    /// How long a handshake may take.
    pub(super) timeout: Duration,
    /// TLS for `wss://` (from the backend's trust choice).
    pub(super) tls: Arc<rustls::ClientConfig>,
}

/// An error message with the secret URL's key scrubbed out.
fn scrub(message: String, invoice_key: &str) -> String {
    if invoice_key.is_empty() {
        message
    } else {
        message.replace(invoice_key, "<invoice key>")
    }
}

async fn connect(target: &Target) -> Result<Socket, BackendError> {
    let Target {
        url,
        invoice_key,
        base_url,
        timeout,
        tls,
    } = target;
    let connector = if url.starts_with("wss://") {
        Connector::Rustls(tls.clone())
    } else {
        Connector::Plain
    };
    let handshake =
        tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(connector));
    match tokio::time::timeout(*timeout, handshake).await {
        Err(_) => Err(BackendError::Timeout),
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(e)) => {
            use tokio_tungstenite::tungstenite::Error as WsError;
            Err(match &e {
                WsError::Io(io) => BackendError::Unreachable {
                    backend: BACKEND_NAME.into(),
                    address: base_url.into(),
                    detail: scrub(
                        format!("settlement websocket: {io}; is LNbits running there?"),
                        invoice_key,
                    ),
                    source: None,
                },
                WsError::Http(resp) => match resp.status().as_u16() {
                    401 | 403 => BackendError::Unauthorized,
                    status => BackendError::Other(format!(
                        "LNbits at {base_url} refused the settlement websocket (HTTP {status})"
                    )),
                },
                other => BackendError::Other(scrub(
                    format!("settlement websocket to LNbits at {base_url} failed: {other}"),
                    invoice_key,
                )),
            })
        }
    }
}

/// Connects (the first connection must succeed, so no settlement after this call is missed),
/// then keeps the stream running in a task.
pub(super) async fn start(
    target: Target,
) -> Result<(Hub, broadcast::Receiver<Settlement>), BackendError> {
    let socket = connect(&target).await?;
    let (tx, rx) = broadcast::channel(CAPACITY);
    let task = tokio::spawn(run(socket, tx.clone(), target));
    Ok((Hub { tx, task }, rx))
}

async fn run(mut socket: Socket, tx: broadcast::Sender<Settlement>, target: Target) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let listening = pump(&mut socket, &tx).await;
        let _ = socket.close(None).await;
        if !listening {
            return;
        }
        tracing::warn!(url = %target.base_url, "LNbits settlement websocket closed; reconnecting");
        socket = loop {
            tokio::time::sleep(backoff).await;
            if tx.receiver_count() == 0 {
                return;
            }
            match connect(&target).await {
                Ok(s) => {
                    backoff = Duration::from_millis(500);
                    break s;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LNbits settlement websocket: reconnect failed");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        };
    }
}

/// Forwards settlements until the socket ends (`true`) or nobody listens any more (`false`).
async fn pump(socket: &mut Socket, tx: &broadcast::Sender<Settlement>) -> bool {
    loop {
        if tx.receiver_count() == 0 {
            return false;
        }
        let msg = match tokio::time::timeout(IDLE_CHECK, socket.next()).await {
            Err(_) => continue,
            Ok(None | Some(Err(_))) => return true,
            Ok(Some(Ok(msg))) => msg,
        };
        match msg {
            Message::Text(text) => {
                if let Some(s) = settlement(text.as_bytes()) {
                    let _ = tx.send(s);
                }
            }
            Message::Close(_) => return true,
            // Pings are answered by the library while reading.
            _ => {}
        }
    }
}

#[derive(serde::Deserialize)]
struct Notification {
    payment: Option<PaymentRecord>,
}

/// The settlement a websocket message announces, if it announces one.
pub(super) fn settlement(message: &[u8]) -> Option<Settlement> {
    let record = serde_json::from_slice::<Notification>(message)
        .ok()?
        .payment?;
    let amount = record.amount.filter(|a| *a > 0)?;
    if record.status() != "success" {
        return None;
    }
    let payment_hash = PaymentHash::from_hex(record.payment_hash.as_deref()?).ok()?;
    Some(Settlement {
        payment_hash,
        amount_received: l402_core::Msat(amount.unsigned_abs()),
        settled_at_unix: record
            .updated_at
            .as_deref()
            .and_then(time::parse_unix)
            .unwrap_or_else(super::now_unix),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_follows_the_instance_scheme() {
        assert_eq!(
            ws_url("http://127.0.0.1:5000", "k").as_deref(),
            Some("ws://127.0.0.1:5000/api/v1/ws/k")
        );
        assert_eq!(
            ws_url("https://lnbits.example", "k").as_deref(),
            Some("wss://lnbits.example/api/v1/ws/k")
        );
        assert_eq!(ws_url("ftp://lnbits.example", "k"), None);
    }

    #[test]
    fn only_settled_incoming_payments_are_settlements() {
        let hash = "e10defa7070498eef09a7f6979a9129a04cde85566256a4e84e64a44fa3f295a";
        let msg = |amount: i64, status: &str| {
            format!(
                r#"{{"wallet_balance": 26, "payment": {{"payment_hash": "{hash}", "amount": {amount},
                "fee": 0, "status": "{status}", "preimage": "00",
                "updated_at": "2026-11-21T07:56:54.293095+00:00"}}}}"#
            )
        };
        let s = settlement(msg(5000, "success").as_bytes()).unwrap();
        assert_eq!(s.payment_hash.to_hex(), hash);
        assert_eq!(s.amount_received, l402_core::Msat(5000));
        assert_eq!(s.settled_at_unix, 1_795_219_200 + 7 * 3600 + 56 * 60 + 54);
        assert!(settlement(msg(-5000, "success").as_bytes()).is_none());
        assert!(settlement(msg(5000, "pending").as_bytes()).is_none());
        assert!(settlement(br#"{"pending": false, "status": "success"}"#).is_none());
        assert!(settlement(b"not json").is_none());
    }

    #[test]
    fn errors_never_carry_the_key() {
        assert_eq!(
            scrub("GET ws://h/api/v1/ws/secretkey failed".into(), "secretkey"),
            "GET ws://h/api/v1/ws/<invoice key> failed"
        );
    }
}
