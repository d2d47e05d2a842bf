//! A pool of HTTP/1.1 connections to one plain `http://` upstream, lighter than hyper-util's
//! general client for the one case a reverse proxy meets most.
//!
//! hyper-util's pooled client serves any URI: per request it finds the pool by a key built from
//! the URI, races a checkout against a connect, rewrites the URI to origin form, and spawns a task
//! to hand the connection back once its response body is read. Here one pool belongs to one
//! upstream address: a checkout pops the most recently used idle connection under a short lock,
//! and the response body itself gives the connection back when it has been read to its end (or
//! dropped at its end) and the connection is ready for another request; one still busy (sending
//! a request body the upstream answered early) goes back when it is ready. A connection whose
//! body was dropped early is not reused (hyper closes it). A request that could not be sent on a
//! reused connection (the upstream closed it while it was idle) is sent again on another, as
//! hyper-util does; one that was sent is never repeated.
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
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::body::Body;

/// How long an unused upstream connection is kept open (hyper-util's pool default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a connection whose answer has been read may stay busy (still sending its request
/// body) before it is closed rather than pooled.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Why a request could not be sent through the pool.
#[derive(Debug, thiserror::Error)]
pub(crate) enum H1Error {
    /// No connection could be opened to the upstream.
    #[error("connecting to the upstream failed")]
    Connect(#[source] std::io::Error),
    /// Opening a connection took longer than the connect timeout.
    #[error("connecting to the upstream timed out")]
    ConnectTimeout,
    /// The connection failed while the request was sent or the answer's head was read (the
    /// request body's own error, such as the size limit, is in the source chain).
    #[error("the upstream connection failed")]
    Send(#[source] hyper::Error),
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

struct PoolInner {
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
    sender: SendRequest<Body>,
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
    pub(crate) async fn send(
        &self,
        mut req: Request<Body>,
    ) -> Result<Response<UpstreamBody>, H1Error> {
        loop {
            let (mut sender, reused) = match self.inner.checkout() {
                Some(sender) => (sender, true),
                None => (self.connect().await?, false),
            };
            if reused && sender.ready().await.is_err() {
                // Closed while idle: nothing was sent on it.
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(response) => {
                    let give_back = GiveBack {
                        pool: Arc::clone(&self.inner),
                        sender,
                    };
                    return Ok(response.map(|body| UpstreamBody::pooled(body, give_back)));
                }
                Err(mut failed) => match failed.take_message() {
                    // Not sent: a reused connection may have been closed under us; try another.
                    Some(unsent) if reused => req = unsent,
                    _ => return Err(H1Error::Send(failed.into_error())),
                },
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<Body>, H1Error> {
        let stream = self.inner.dial().await?;
        // Nagle only delays small writes such as a streamed request's chunks.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(H1Error::Send)?;
        tokio::spawn(async move {
            if let Err(e) = connection.with_upgrades().await {
                tracing::debug!(error = %e, "upstream connection ended");
            }
        });
        if !self.inner.reaper_started.swap(true, Ordering::Relaxed) {
            tokio::spawn(reap(Arc::downgrade(&self.inner)));
        }
        Ok(sender)
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
    fn checkout(&self) -> Option<SendRequest<Body>> {
        let mut idle = self.lock();
        while let Some(entry) = idle.pop() {
            if !entry.sender.is_closed() {
                return Some(entry.sender);
            }
        }
        None
    }

    fn give_back(&self, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let since = Instant::now();
        self.lock().push(Idle { sender, since });
    }

    /// Closes the connections idle for longer than the idle timeout, and forgets closed ones.
    fn reap(&self) {
        let now = Instant::now();
        let timeout = self.idle_timeout;
        self.lock()
            .retain(|entry| !entry.sender.is_closed() && now.duration_since(entry.since) < timeout);
    }

    /// Connects to the upstream's address, or to each address its name resolves to in turn,
    /// as hyper-util's connector does: the connect timeout is shared out between the addresses
    /// (so one that drops the handshake leaves time for the next), and covers the name lookup.
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
                Ok(Ok(stream)) => return Ok(stream),
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

struct GiveBack {
    pool: Arc<PoolInner>,
    sender: SendRequest<Body>,
}

/// An upstream answer's body. A pooled connection's body gives the connection back to its pool
/// once it has been read to its end.
pub(crate) struct UpstreamBody {
    inner: Incoming,
    give_back: Option<GiveBack>,
    ended: bool,
}

impl UpstreamBody {
    /// A body that holds no connection (hyper-util's client manages its own).
    pub(crate) fn unpooled(inner: Incoming) -> Self {
        Self {
            inner,
            give_back: None,
            ended: false,
        }
    }

    fn pooled(inner: Incoming, give_back: GiveBack) -> Self {
        Self {
            inner,
            give_back: Some(give_back),
            ended: false,
        }
    }

    /// Keeps the connection out of the pool (it was upgraded to another protocol).
    pub(crate) fn forget_connection(&mut self) {
        self.give_back = None;
    }
}

impl std::fmt::Debug for UpstreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamBody")
            .field("pooled", &self.give_back.is_some())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Drop for UpstreamBody {
    fn drop(&mut self) {
        let Some(GiveBack { pool, mut sender }) = self.give_back.take() else {
            return;
        };
        if !(self.ended || http_body::Body::is_end_stream(&self.inner)) {
            // Dropped before its end: hyper closes the connection.
            return;
        }
        if sender.is_ready() {
            pool.give_back(sender);
            return;
        }
        // The answer is read but the connection is still busy: most often it has not yet
        // noticed, sometimes it is still sending a request body the upstream answered early
        // (a 413 to an upload). Another request must not wait behind that: the connection goes
        // back once it is ready, or closes if that takes longer than `BUSY_WAIT`.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Ok(Ok(())) = tokio::time::timeout(BUSY_WAIT, sender.ready()).await {
                    pool.give_back(sender);
                }
            });
        }
    }
}

impl http_body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

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
}
