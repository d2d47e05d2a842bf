//! HTTP/1.1 requests written byte for byte on a socket: the request target reaches the server
//! exactly as given (HTTP clients resolve `..`, and some re-encode), for path-normalisation
//! tests.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response as read off the socket.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Everything after the head (not de-chunked).
    pub body: String,
}

/// Sends `GET <target> HTTP/1.1` with `Host: host`, `Connection: close` and the `extra` header
/// lines (each without CRLF) to `addr`, and reads the whole answer. Panics with the answer when
/// it has no status line.
pub async fn raw_get(addr: SocketAddr, host: &str, target: &str, extra: &[&str]) -> RawResponse {
    let mut tcp = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for line in extra {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("writing to {addr}: {e}"));
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer)
        .await
        .unwrap_or_else(|e| panic!("reading from {addr}: {e}"));
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line from {addr} for {target:?}: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    RawResponse { status, body }
}
