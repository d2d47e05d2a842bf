//! Long-lived answers behind a seller, and clients for them: an upstream serving a WebSocket
//! echo, a server-sent event stream and a plain answer on one loopback port, a WebSocket client
//! sending an `Authorization` header, and waits for a stream's end.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How often the upstream's event stream sends an event.
pub const EVENT_EVERY: Duration = Duration::from_millis(100);

/// Starts the upstream on an ephemeral loopback port. By the request path's end:
/// `…/ws` is a WebSocket echo (text and binary messages come back), `…/events` a
/// `text/event-stream` sending `data: <n>` every [`EVENT_EVERY`] until the client goes, and
/// anything else `200 plain` with a `Content-Length`.
pub async fn stream_upstream() -> SocketAddr {
    crate::serve::serve_each(|tcp| async move {
        let mut conn = BufReader::new(tcp);
        let Some((path, key)) = read_head(&mut conn).await else {
            return;
        };
        if path.ends_with("/ws") {
            websocket_echo(conn, key).await;
        } else if path.ends_with("/events") {
            events(conn).await;
        } else if path.ends_with("/download") {
            download(conn).await;
        } else {
            let _ = conn
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\
                      connection: close\r\n\r\nplain",
                )
                .await;
        }
    })
    .await
}

/// A 1 MiB answer of known length that sends its first 64 KiB and then stalls until the
/// client goes away: a long download in progress.
async fn download(mut conn: BufReader<TcpStream>) {
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\
                 content-length: 1048576\r\nconnection: close\r\n\r\n";
    if conn.write_all(head).await.is_err() || conn.write_all(&[b'x'; 65536]).await.is_err() {
        return;
    }
    let mut rest = [0u8; 1];
    // Returns when the proxy closes its side.
    let _ = conn.read(&mut rest).await;
}

/// Reads a request head; returns its path and `Sec-WebSocket-Key`, if any.
async fn read_head(conn: &mut BufReader<TcpStream>) -> Option<(String, Option<String>)> {
    let mut line = String::new();
    conn.read_line(&mut line).await.ok()?;
    let path = line.split(' ').nth(1)?.to_owned();
    let mut key = None;
    loop {
        line.clear();
        if conn.read_line(&mut line).await.ok()? == 0 || line.len() > 8192 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            return Some((path, key));
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("sec-websocket-key")
        {
            key = Some(value.trim().to_owned());
        }
    }
}

async fn websocket_echo(mut conn: BufReader<TcpStream>, key: Option<String>) {
    let Some(key) = key else {
        let _ = conn
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    let accept = derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-accept: {accept}\r\n\r\n"
    );
    if conn.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut ws = WebSocketStream::from_raw_socket(conn, Role::Server, None).await;
    while let Some(Ok(message)) = ws.next().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            Message::Close(_) => break,
            _ => continue,
        };
        if ws.send(reply).await.is_err() {
            break;
        }
    }
}

async fn events(mut conn: BufReader<TcpStream>) {
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
                 transfer-encoding: chunked\r\n\r\n";
    if conn.write_all(head).await.is_err() {
        return;
    }
    for n in 0u64.. {
        let event = format!("data: {n}\n\n");
        let chunk = format!("{:x}\r\n{event}\r\n", event.len());
        if conn.write_all(chunk.as_bytes()).await.is_err() || conn.flush().await.is_err() {
            return;
        }
        tokio::time::sleep(EVENT_EVERY).await;
    }
}

/// A WebSocket client connection.
pub type WsClient = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `url` (`ws://…`) with `authorization` (if any) in the handshake. `Err`
/// holds the handshake's failure (e.g. `Http` with the 402 answer).
pub async fn ws_connect(url: &str, authorization: Option<&str>) -> Result<WsClient, WsError> {
    let mut request = url.into_client_request()?;
    if let Some(value) = authorization {
        request.headers_mut().insert(
            "authorization",
            value.parse().expect("a valid Authorization value"),
        );
    }
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .unwrap_or_else(|_| panic!("WebSocket handshake with {url} timed out"))?;
    Ok(ws)
}

/// Sends `text` and waits (5 s at most) for it to come back: false if the connection ended
/// instead.
pub async fn ws_echoes(ws: &mut WsClient, text: &str) -> bool {
    if ws.send(Message::text(text)).await.is_err() {
        return false;
    }
    let reply = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("no echo and no close within 5 s");
    matches!(reply, Some(Ok(Message::Text(t))) if t.as_str() == text)
}

/// Waits until the connection ends (closed, reset or a close frame), at most `limit`; returns
/// when it ended. Panics, naming `what`, if it is still open then.
pub async fn ws_wait_closed(ws: &mut WsClient, limit: Duration, what: &str) -> Instant {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) => panic!("{what}: the WebSocket is still open after {limit:?}"),
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Instant::now(),
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// How a streamed response body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEnd {
    /// When.
    pub at: Instant,
    /// Chunks received before the end.
    pub chunks: usize,
    /// True when the body ended as a complete message (the last chunk of a chunked body); false
    /// when the connection broke.
    pub clean: bool,
}

/// Reads `response`'s body until it ends, at most `limit`; panics, naming `what`, if it is still
/// streaming then.
pub async fn read_until_end(
    response: &mut reqwest::Response,
    limit: Duration,
    what: &str,
) -> StreamEnd {
    let deadline = Instant::now() + limit;
    let mut chunks = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, response.chunk()).await {
            Err(_) => panic!("{what}: the body is still streaming after {limit:?}"),
            Ok(Ok(Some(_))) => chunks += 1,
            Ok(Ok(None)) => {
                return StreamEnd {
                    at: Instant::now(),
                    chunks,
                    clean: true,
                };
            }
            Ok(Err(_)) => {
                return StreamEnd {
                    at: Instant::now(),
                    chunks,
                    clean: false,
                };
            }
        }
    }
}
