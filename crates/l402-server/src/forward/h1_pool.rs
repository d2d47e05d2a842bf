//! A pool of HTTP/1.1 connections to one plain `http://` upstream, lighter than hyper-util's
//! general client for the one case a reverse proxy meets most.
//!
//! hyper-util's pooled client serves any URI: per request it finds the pool by a key built from
//! the URI, races a checkout against a connect, rewrites the URI to origin form, and spawns a task
//! to hand the connection back once its response body is read; each connection runs as a task
//! of its own, and hands the request and the answer across channels. Here one pool belongs to
//! one upstream address: a checkout pops the most recently used idle connection under a short
//! lock, and the request's own task drives the connection ([`super::h1_conn`], our own
//! HTTP/1.1 codec from [`l402_h1`]): it writes the request, reads the answer, and the answer's
//! body gives the connection back to the pool as soon as its last byte has been read. A
//! connection whose body was dropped before its end, or whose answer ended before the request
//! body was all sent, is closed.
//!
//! A checkout reads the idle connection without waiting: one the upstream closed (or sent
//! something on) is dropped and the next is tried. An idempotent request without a body, on a
//! reused connection the upstream closed before a byte of an answer, is sent once more, on a
//! new connection (the upstream most likely closed the idle connection as it was reused); one
//! with a body is never repeated.
//!
//! A request asking for a protocol upgrade (WebSocket) gets a connection of its own through
//! hyper's client, whose upgraded IO the tunnel takes over after a 101; it never joins the pool.
//!
//! Idle connections are closed after the idle timeout by a reaper task that holds the pool weakly
//! (it ends when the pool is dropped).

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::h1_conn::{Conn, Failed, OwnBody, RequestWriter, exchange};
use super::headers::wants_upgrade;
use crate::body::{Body, BoxError};

/// How long an unused upstream connection is kept open (hyper-util's pool default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Why a request could not be sent through the pool, or its answer not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum H1Error {
    /// No connection could be opened to the upstream.
    #[error("connecting to the upstream failed")]
    Connect(#[source] std::io::Error),
    /// Opening a connection took longer than the connect timeout.
    #[error("connecting to the upstream timed out")]
    ConnectTimeout,
    /// An upgrade's connection (hyper's client) failed while the request was sent or the
    /// answer's head was read (the request body's own error is in the source chain).
    #[error("the upstream connection failed")]
    Send(#[source] hyper::Error),
    /// Reading from or writing to the upstream failed.
    #[error("the upstream connection failed")]
    Io(#[source] std::io::Error),
    /// The upstream closed the connection before its answer's head.
    #[error("the upstream closed the connection before answering")]
    Closed,
    /// The upstream's answer is not HTTP/1.1 this proxy can read.
    #[error("the upstream's answer is not valid HTTP/1.1")]
    Protocol(#[source] l402_h1::Error),
    /// The request body failed while it was sent (the size limit's error among them).
    #[error("reading the request body failed")]
    RequestBody(#[source] BoxError),
    /// The request body's length differs from its `Content-Length`.
    #[error("the request body's length differs from its Content-Length")]
    RequestBodyLength,
}

impl H1Error {
    /// True when no connection could be made (the upstream is unreachable).
    pub(crate) fn is_connect(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::ConnectTimeout)
    }
}

/// A pool of HTTP/1.1 connections to one `host:port`. Cloning shares the pool.
#[derive(Clone)]
pub(crate) struct H1Pool {
    inner: Arc<PoolInner>,
}

pub(crate) struct PoolInner {
    /// The host as a name to resolve, or `None` when `ip` is set.
    host: String,
    ip: Option<IpAddr>,
    port: u16,
    connect_timeout: Duration,
    idle_timeout: Duration,
    /// Idle connections, the most recently used last.
    idle: Mutex<Vec<Idle>>,
    reaper_started: AtomicBool,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

impl std::fmt::Debug for H1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1Pool")
            .field("host", &self.inner.host)
            .field("port", &self.inner.port)
            .finish_non_exhaustive()
    }
}

impl H1Pool {
    /// A pool for `host` (a name, an IPv4 address or a bracketed IPv6 address) and `port`.
    pub(crate) fn new(host: &str, port: u16, connect_timeout: Duration) -> Self {
        Self::with_idle_timeout(host, port, connect_timeout, IDLE_TIMEOUT)
    }

    fn with_idle_timeout(
        host: &str,
        port: u16,
        connect_timeout: Duration,
        idle_timeout: Duration,
    ) -> Self {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Self {
            inner: Arc::new(PoolInner {
                host: bare.to_owned(),
                ip: bare.parse().ok(),
                port,
                connect_timeout,
                idle_timeout,
                idle: Mutex::new(Vec::new()),
                reaper_started: AtomicBool::new(false),
            }),
        }
    }

    /// Sends `req` (origin-form URI, `Host` set) on an idle connection, or on a new one. The
    /// answer's body gives the connection back to the pool when it has been read to its end.
    pub(crate) async fn send(&self, req: Request<Body>) -> Result<Response<UpstreamBody>, H1Error> {
        if wants_upgrade(req.headers()) {
            return self.send_upgrade(req).await;
        }
        let (writer, method) = RequestWriter::new(req);
        let writer = match self.inner.checkout() {
            Some(idle) => match exchange(idle, writer, &method, &self.inner).await {
                // Closed under us as it was reused, before a byte of an answer: sent once more,
                // on a new connection.
                Err(Failed {
                    replay: Some(unsent),
                    ..
                }) => unsent,
                done => return done.map(own).map_err(|failed| failed.error),
            },
            None => writer,
        };
        let conn = self.connect().await?;
        exchange(conn, writer, &method, &self.inner)
            .await
            .map(own)
            .map_err(|failed| failed.error)
    }

    async fn connect(&self) -> Result<Conn, H1Error> {
        let stream = self.inner.dial().await?;
        if !self.inner.reaper_started.swap(true, Ordering::Relaxed) {
            tokio::spawn(reap(Arc::downgrade(&self.inner)));
        }
        Ok(Conn::new(stream))
    }

    /// A request asking for an upgrade, on a connection of its own driven by hyper's client,
    /// which hands the connection to the tunnel after a 101.
    async fn send_upgrade(&self, req: Request<Body>) -> Result<Response<UpstreamBody>, H1Error> {
        let stream = self.inner.dial().await?;
        let (mut sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(H1Error::Send)?;
        tokio::spawn(async move {
            if let Err(e) = connection.with_upgrades().await {
                tracing::debug!(error = %e, "upstream connection ended");
            }
        });
        let response = sender.send_request(req).await.map_err(H1Error::Send)?;
        Ok(response.map(UpstreamBody::unpooled))
    }

    /// Whether `self` and `other` are one pool (tests).
    #[cfg(test)]
    pub(crate) fn is_same_pool(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The number of idle connections (tests).
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.inner.lock().len()
    }
}

impl PoolInner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The list stays consistent under a panic (each step is one push or pop).
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used idle connection that is still open.
    fn checkout(&self) -> Option<Conn> {
        loop {
            let mut conn = self.lock().pop()?.conn;
            // Read outside the lock; a closed one is dropped (closed) here.
            if conn.is_open() {
                return Some(conn);
            }
        }
    }

    /// Takes back a connection whose answer has been read to its end.
    pub(crate) fn give_back(&self, conn: Conn) {
        let since = Instant::now();
        self.lock().push(Idle { conn, since });
    }

    /// Closes the connections idle for longer than the idle timeout, and those closed by the
    /// upstream.
    fn reap(&self) {
        let now = Instant::now();
        let timeout = self.idle_timeout;
        self.lock()
            .retain_mut(|entry| now.duration_since(entry.since) < timeout && entry.conn.is_open());
    }

    /// Connects (without Nagle's delay) to the upstream's address, or to each address its name
    /// resolves to in turn, as hyper-util's connector does: the connect timeout is shared out
    /// between the addresses (so one that drops the handshake leaves time for the next), and
    /// covers the name lookup.
    async fn dial(&self) -> Result<TcpStream, H1Error> {
        let limit = self.connect_timeout;
        let addrs: Vec<SocketAddr> = match self.ip {
            Some(ip) => vec![SocketAddr::new(ip, self.port)],
            None => {
                let lookup = tokio::net::lookup_host((self.host.as_str(), self.port));
                match tokio::time::timeout(limit, lookup).await {
                    Ok(addrs) => addrs.map_err(H1Error::Connect)?.collect(),
                    Err(_) => return Err(H1Error::ConnectTimeout),
                }
            }
        };
        let each = limit / u32::try_from(addrs.len().max(1)).unwrap_or(u32::MAX);
        let mut last = None;
        for addr in addrs {
            match tokio::time::timeout(each, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    // Nagle only delays small writes such as a streamed request's chunks.
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                    last = Some(H1Error::ConnectTimeout);
                }
                Ok(Err(e)) => last = Some(H1Error::Connect(e)),
                Err(_) => last = Some(H1Error::ConnectTimeout),
            }
        }
        Err(last.unwrap_or_else(|| {
            H1Error::Connect(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("`{}` resolved to no address", self.host),
            ))
        }))
    }
}

/// An answer read by this crate's own connection.
fn own(response: Response<OwnBody>) -> Response<UpstreamBody> {
    response.map(|body| UpstreamBody {
        inner: Inner::Own(body),
    })
}

/// Every half idle timeout, closes what has been idle for longer than the timeout; ends when the
/// pool is dropped.
async fn reap(pool: Weak<PoolInner>) {
    let Some(period) = pool.upgrade().map(|p| p.idle_timeout / 2) else {
        return;
    };
    loop {
        tokio::time::sleep(period).await;
        match pool.upgrade() {
            Some(pool) => pool.reap(),
            None => return,
        }
    }
}

/// An upstream answer's body: from this crate's own connection, or from hyper's client (an
/// upgrade's connection, and hyper-util's pooled client for `https://` and h2c upstreams).
pub(crate) struct UpstreamBody {
    inner: Inner,
}

enum Inner {
    Own(OwnBody),
    Hyper { body: Incoming },
}

impl UpstreamBody {
    /// A body read by hyper's client (which manages its own connection).
    pub(crate) fn unpooled(body: Incoming) -> Self {
        Self {
            inner: Inner::Hyper { body },
        }
    }

    /// Keeps the connection out of the pool (it was upgraded to another protocol).
    pub(crate) fn forget_connection(&mut self) {
        if let Inner::Own(body) = &mut self.inner {
            body.forget_connection();
        }
    }
}

impl std::fmt::Debug for UpstreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamBody")
            .field("own", &matches!(self.inner, Inner::Own(_)))
            .finish_non_exhaustive()
    }
}

impl http_body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.inner {
            Inner::Own(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
            Inner::Hyper { body } => Pin::new(body).poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Own(body) => body.is_end_stream(),
            Inner::Hyper { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Own(body) => body.size_hint(),
            Inner::Hyper { body } => body.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use crate::h1_io::COPY_LIMIT;

    /// An upstream that answers every request on a connection with `answer`, counting accepted
    /// connections; `close_after` requests it closes the connection.
    async fn upstream(
        answer: &'static [u8],
        close_after: Option<usize>,
    ) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (mut tcp, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut served = 0;
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            if tcp.write_all(answer).await.is_err() {
                                return;
                            }
                            served += 1;
                            if close_after == Some(served) {
                                return;
                            }
                        }
                        match tcp.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    fn get(addr: SocketAddr) -> Request<Body> {
        Request::get("/x")
            .header(http::header::HOST, addr.to_string())
            .body(Body::empty())
            .unwrap()
    }

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    fn pool_for(addr: SocketAddr) -> H1Pool {
        H1Pool::new(&addr.ip().to_string(), addr.port(), Duration::from_secs(2))
    }

    #[tokio::test]
    async fn a_read_body_gives_its_connection_back_and_the_next_request_reuses_it() {
        let (addr, accepted) = upstream(OK, None).await;
        let pool = pool_for(addr);
        for _ in 0..5 {
            let response = pool.send(get(addr)).await.unwrap();
            assert_eq!(response.status(), 200);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"ok");
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one connection for five requests"
        );
        assert_eq!(pool.idle_count(), 1);
    }

    #[tokio::test]
    async fn a_body_dropped_before_its_end_does_not_return_the_connection() {
        let (addr, accepted) = upstream(
            b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\npartial",
            None,
        )
        .await;
        let pool = pool_for(addr);
        let response = pool.send(get(addr)).await.unwrap();
        drop(response);
        assert_eq!(pool.idle_count(), 0);
        // The next request opens a new connection.
        let response = pool.send(get(addr)).await.unwrap();
        drop(response);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_connection_still_sending_an_answered_upload_does_not_hold_up_the_next_request() {
        let (addr, accepted) = upstream(
            b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n",
            None,
        )
        .await;
        let pool = pool_for(addr);
        // An upload that never ends, answered (413) before the upstream reads it.
        let (mut tx, body) =
            http_body_util::channel::Channel::<Bytes, crate::body::BoxError>::new(1);
        tx.send_data(Bytes::from_static(b"part of an upload"))
            .await
            .unwrap();
        let upload = Request::post("/upload")
            .header(http::header::HOST, addr.to_string())
            .body(Body::new(body))
            .unwrap();
        let answered = pool.send(upload).await.unwrap();
        assert_eq!(answered.status(), 413);
        drop(answered);
        // The next request gets another connection rather than waiting for the upload.
        let next = tokio::time::timeout(Duration::from_secs(5), pool.send(get(addr)))
            .await
            .expect("the next request must not wait behind the unfinished upload")
            .unwrap();
        assert_eq!(next.status(), 413);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        drop(tx);
    }

    #[tokio::test]
    async fn a_connection_closed_by_the_upstream_while_idle_is_replaced_without_an_error() {
        let (addr, accepted) = upstream(OK, Some(1)).await;
        let pool = pool_for(addr);
        for round in 0..3 {
            let response = pool.send(get(addr)).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"ok", "round {round}");
            // Let the upstream's close reach the pooled connection (or not: both must work).
            tokio::time::sleep(Duration::from_millis(20 * round)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = pool_for(addr).send(get(addr)).await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(matches!(err, H1Error::Connect(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_connect_that_is_never_answered_is_a_connect_timeout() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        // Fill the accept queue (nothing accepts): later handshakes get no answer.
        let mut held = Vec::new();
        for _ in 0..4 {
            if let Ok(Ok(tcp)) =
                tokio::time::timeout(Duration::from_millis(100), TcpStream::connect(addr)).await
            {
                held.push(tcp);
            }
        }
        let pool = H1Pool::new(
            &addr.ip().to_string(),
            addr.port(),
            Duration::from_millis(200),
        );
        let started = Instant::now();
        let err = pool.send(get(addr)).await.unwrap_err();
        assert!(matches!(err, H1Error::ConnectTimeout), "{err:?}");
        assert!(err.is_connect());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn names_are_resolved_and_bracketed_ipv6_is_an_address() {
        let (addr, _) = upstream(OK, None).await;
        let by_name = H1Pool::new("localhost", addr.port(), Duration::from_secs(2));
        assert!(by_name.inner.ip.is_none());
        let response = by_name.send(get(addr)).await.unwrap();
        assert_eq!(response.status(), 200);
        let v6 = H1Pool::new("[::1]", 1, Duration::from_secs(2));
        assert_eq!(v6.inner.ip, Some("::1".parse().unwrap()));
    }

    #[tokio::test]
    async fn the_reaper_closes_connections_idle_past_the_timeout() {
        let (addr, _) = upstream(OK, None).await;
        let pool = H1Pool::with_idle_timeout(
            &addr.ip().to_string(),
            addr.port(),
            Duration::from_secs(2),
            Duration::from_millis(200),
        );
        let response = pool.send(get(addr)).await.unwrap();
        response.into_body().collect().await.unwrap();
        assert_eq!(pool.idle_count(), 1);
        // Two reaper periods after the connection went idle: the second one is past its timeout.
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(pool.idle_count(), 0, "idle past the timeout: closed");
    }

    /// One step of a scripted upstream's conversation on each connection.
    #[derive(Clone, Copy)]
    enum Step {
        /// Reads until the bytes received on this connection end with these.
        ReadUntil(&'static [u8]),
        Write(&'static [u8]),
        Close,
    }

    /// An upstream that runs `script` on every connection it accepts; it counts the
    /// connections and keeps every byte received, in order.
    async fn scripted(
        script: &'static [Step],
    ) -> (
        SocketAddr,
        Arc<std::sync::atomic::AtomicUsize>,
        Arc<Mutex<Vec<u8>>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (counter, log) = (Arc::clone(&accepted), Arc::clone(&received));
        tokio::spawn(async move {
            loop {
                let (mut tcp, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut chunk = [0u8; 65536];
                    for step in script {
                        match *step {
                            Step::ReadUntil(end) => {
                                while !seen.ends_with(end) {
                                    match tcp.read(&mut chunk).await {
                                        Ok(0) | Err(_) => return,
                                        Ok(n) => {
                                            seen.extend_from_slice(&chunk[..n]);
                                            log.lock().unwrap().extend_from_slice(&chunk[..n]);
                                        }
                                    }
                                }
                                seen.clear();
                            }
                            Step::Write(bytes) => {
                                if tcp.write_all(bytes).await.is_err() {
                                    return;
                                }
                            }
                            Step::Close => return,
                        }
                    }
                    // Script done: hold the connection until the peer closes it.
                    while let Ok(n) = tcp.read(&mut chunk).await {
                        if n == 0 {
                            return;
                        }
                    }
                });
            }
        });
        (addr, accepted, received)
    }

    fn post(addr: SocketAddr, body: Body) -> Request<Body> {
        Request::post("/upload")
            .header(http::header::HOST, addr.to_string())
            .body(body)
            .unwrap()
    }

    type Channel = http_body_util::channel::Channel<Bytes, crate::body::BoxError>;

    #[tokio::test]
    async fn a_streamed_request_body_goes_out_chunked_large_frames_and_trailers_included() {
        static SCRIPT: &[Step] = &[
            Step::ReadUntil(b"\r\n0\r\nx-sum: 7\r\n\r\n"),
            Step::Write(OK),
        ];
        let (addr, _, received) = scripted(SCRIPT).await;
        let (mut tx, body) = Channel::new(4);
        let big = Bytes::from(vec![b'z'; COPY_LIMIT + 1]);
        tx.send_data(Bytes::from_static(b"abc")).await.unwrap();
        tx.send_data(big.clone()).await.unwrap();
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-sum", http::HeaderValue::from_static("7"));
        tx.send_trailers(trailers).await.unwrap();
        drop(tx);
        let response = pool_for(addr)
            .send(post(addr, Body::new(body)))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut expected = format!(
            "POST /upload HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n{:x}\r\n",
            big.len()
        )
        .into_bytes();
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b"\r\n0\r\nx-sum: 7\r\n\r\n");
        assert_eq!(*received.lock().unwrap(), expected);
    }

    #[tokio::test]
    async fn a_body_of_known_length_goes_out_in_the_head_s_write_with_its_length() {
        static SCRIPT: &[Step] = &[Step::ReadUntil(b"hello"), Step::Write(OK)];
        let (addr, _, received) = scripted(SCRIPT).await;
        let response = pool_for(addr)
            .send(post(addr, Body::full("hello")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let expected =
            format!("POST /upload HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 5\r\n\r\nhello");
        assert_eq!(*received.lock().unwrap(), expected.as_bytes());
    }

    #[tokio::test]
    async fn a_request_body_short_of_its_content_length_fails_before_a_byte_is_sent() {
        static SCRIPT: &[Step] = &[Step::ReadUntil(b"abc"), Step::Write(OK)];
        let (addr, _, received) = scripted(SCRIPT).await;
        let mut short = post(addr, Body::full("abc"));
        short.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from_static("10"),
        );
        let err = pool_for(addr).send(short).await.unwrap_err();
        assert!(matches!(err, H1Error::RequestBodyLength), "{err:?}");
        // The whole body was known before the first write: nothing that lies went out.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(received.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_chunked_answer_is_read_frame_by_frame_with_its_trailers_and_the_connection_reused() {
        static SCRIPT: &[Step] = &[
            Step::ReadUntil(b"\r\n\r\n"),
            Step::Write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
            Step::Write(b"2;ext=1\r\nde\r\n0\r\nx-t: 1\r\n\r\n"),
            Step::ReadUntil(b"\r\n\r\n"),
            Step::Write(OK),
        ];
        let (addr, accepted, _) = scripted(SCRIPT).await;
        let pool = pool_for(addr);
        let response = pool.send(get(addr)).await.unwrap();
        assert!(
            response
                .headers()
                .contains_key(http::header::TRANSFER_ENCODING)
        );
        let collected = response.into_body().collect().await.unwrap();
        assert_eq!(collected.trailers().unwrap()["x-t"], "1");
        assert_eq!(&collected.to_bytes()[..], b"abcde");
        let again = pool.send(get(addr)).await.unwrap();
        assert_eq!(
            &again.into_body().collect().await.unwrap().to_bytes()[..],
            b"ok"
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "the chunked answer's connection was reused"
        );
    }

    #[tokio::test]
    async fn an_answer_read_until_the_close_ends_there_and_its_connection_is_not_reused() {
        static SCRIPT: &[Step] = &[
            Step::ReadUntil(b"\r\n\r\n"),
            Step::Write(b"HTTP/1.1 200 OK\r\n\r\nall of it"),
            Step::Close,
        ];
        let (addr, _, _) = scripted(SCRIPT).await;
        let pool = pool_for(addr);
        let response = pool.send(get(addr)).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"all of it");
        assert_eq!(pool.idle_count(), 0);
    }

    #[tokio::test]
    async fn an_answer_cut_short_fails_its_body_and_a_malformed_one_fails_the_request() {
        static CUT: &[Step] = &[
            Step::ReadUntil(b"\r\n\r\n"),
            Step::Write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"),
            Step::Close,
        ];
        let (addr, _, _) = scripted(CUT).await;
        let response = pool_for(addr).send(get(addr)).await.unwrap();
        let err = response.into_body().collect().await.unwrap_err();
        assert!(err.to_string().contains("not valid HTTP/1.1"), "{err}");
        static MALFORMED: &[Step] = &[
            Step::ReadUntil(b"\r\n\r\n"),
            Step::Write(b"HTTP/1.1 200 OK\r\ncontent-length: ten\r\n\r\n"),
        ];
        let (addr, _, _) = scripted(MALFORMED).await;
        let err = pool_for(addr).send(get(addr)).await.unwrap_err();
        assert!(
            matches!(err, H1Error::Protocol(l402_h1::Error::ContentLength)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_idempotent_request_whose_reused_connection_closes_unanswered_is_sent_again() {
        // Each connection answers its first request, then reads the second and closes.
        static SCRIPT: &[Step] = &[
            Step::ReadUntil(b"\r\n\r\n"),
            Step::Write(OK),
            Step::ReadUntil(b"\r\n\r\n"),
            Step::Close,
        ];
        let (addr, accepted, _) = scripted(SCRIPT).await;
        let pool = pool_for(addr);
        let first = pool.send(get(addr)).await.unwrap();
        first.into_body().collect().await.unwrap();
        let second = pool.send(get(addr)).await.unwrap();
        assert_eq!(
            &second.into_body().collect().await.unwrap().to_bytes()[..],
            b"ok"
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "sent again on a new connection"
        );
        // A POST is not idempotent: the same close is its error.
        let answered = pool.send(post(addr, Body::empty())).await;
        assert!(matches!(answered, Err(H1Error::Closed)), "{answered:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        // And a fresh connection's close is not retried either.
        static SILENT: &[Step] = &[Step::ReadUntil(b"\r\n\r\n"), Step::Close];
        let (addr, accepted, _) = scripted(SILENT).await;
        let err = pool_for(addr).send(get(addr)).await.unwrap_err();
        assert!(matches!(err, H1Error::Closed), "{err:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_request_body_goes_on_while_an_early_answer_is_read() {
        // The upstream answers once it has the head, and ends its answer only once the whole
        // request body has arrived.
        static SCRIPT: &[Step] = &[
            Step::ReadUntil(b"chunked\r\n\r\n"),
            Step::Write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
            Step::ReadUntil(b"0\r\n\r\n"),
            Step::Write(b"5\r\nhello\r\n0\r\n\r\n"),
        ];
        let (addr, _, received) = scripted(SCRIPT).await;
        let (mut tx, body) = Channel::new(1);
        let response = pool_for(addr)
            .send(post(addr, Body::new(body)))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let reading = tokio::spawn(async move { response.into_body().collect().await });
        tx.send_data(Bytes::from_static(b"late")).await.unwrap();
        drop(tx);
        let body = tokio::time::timeout(Duration::from_secs(5), reading)
            .await
            .expect("the answer ends once the request body is sent")
            .unwrap()
            .unwrap()
            .to_bytes();
        assert_eq!(&body[..], b"hello");
        assert!(
            received
                .lock()
                .unwrap()
                .ends_with(b"4\r\nlate\r\n0\r\n\r\n")
        );
    }

    #[tokio::test]
    async fn a_long_body_is_read_in_growing_pieces() {
        static BODY: [u8; 1 << 20] = [b'x'; 1 << 20];
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut chunk = [0u8; 4096];
            let _ = tcp.read(&mut chunk).await;
            let _ = tcp
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1048576\r\n\r\n")
                .await;
            let _ = tcp.write_all(&BODY).await;
        });
        let response = pool_for(addr).send(get(addr)).await.unwrap();
        // Let the body pile up in the socket, so that every read can fill its room.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut body = response.into_body();
        let (mut total, mut largest) = (0, 0);
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            total += data.len();
            largest = largest.max(data.len());
        }
        assert_eq!(total, 1 << 20);
        assert!(
            largest > 4 * 8 * 1024,
            "the reads grew past four times the first size: largest {largest}"
        );
    }

    /// The upstream answers as soon as it has the head, reads the whole upload, then ends its
    /// answer.
    static ANSWERS_FIRST: &[Step] = &[
        Step::ReadUntil(b"chunked\r\n\r\n"),
        Step::Write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
        Step::ReadUntil(b"0\r\n\r\n"),
        Step::Write(b"5\r\nhello\r\n0\r\n\r\n"),
    ];

    #[tokio::test]
    async fn an_early_answer_s_upload_goes_on_while_its_body_is_not_read() {
        let (addr, _, received) = scripted(ANSWERS_FIRST).await;
        let (mut tx, body) = Channel::new(1);
        let response = pool_for(addr)
            .send(post(addr, Body::new(body)))
            .await
            .unwrap();
        // A client that sends its whole upload before it reads anything of the answer.
        let sending = async {
            for part in [&b"one"[..], b"two", b"three"] {
                tx.send_data(Bytes::from_static(part)).await.unwrap();
            }
            drop(tx);
        };
        tokio::time::timeout(Duration::from_secs(5), sending)
            .await
            .expect("the upload does not wait for the answer to be read");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"hello");
        assert!(
            received
                .lock()
                .unwrap()
                .ends_with(b"5\r\nthree\r\n0\r\n\r\n")
        );
    }

    #[tokio::test]
    async fn an_early_answer_whose_upload_fails_fails_too() {
        let (addr, accepted, _) = scripted(ANSWERS_FIRST).await;
        let pool = pool_for(addr);
        let (mut tx, body) = Channel::new(1);
        let response = pool.send(post(addr, Body::new(body))).await.unwrap();
        tx.send_data(Bytes::from_static(b"part")).await.unwrap();
        tx.abort("the client went away".into());
        let err = tokio::time::timeout(Duration::from_secs(5), response.into_body().collect())
            .await
            .expect("the answer does not wait for an upload that failed")
            .unwrap_err();
        assert!(err.to_string().contains("request body"), "{err}");
        assert_eq!(pool.idle_count(), 0);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }
}
