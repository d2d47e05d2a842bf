//! One client connection: optional TLS handshake, HTTP/1.1 or HTTP/2 (auto-detected), the
//! first-request deadline, the idle timeout, and graceful or hard shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::reload::Current;
use super::{ConnectionInfo, ProxyService};
use crate::body::{Body, BoxError};
use crate::shutdown::{Signal, TaskToken};

/// Settings shared by every connection.
pub(crate) struct ConnParams {
    pub(crate) builder: auto::Builder<TokioExecutor>,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
}

/// Tracks requests in flight on one connection.
struct Activity {
    in_flight: AtomicUsize,
    seen_request: AtomicBool,
    idle_since: Mutex<Instant>,
    changed: Notify,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            seen_request: AtomicBool::new(false),
            idle_since: Mutex::new(Instant::now()),
            changed: Notify::new(),
        })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.seen_request.store(true, Ordering::SeqCst);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_one();
        InFlight(Arc::clone(self))
    }

    fn idle_since(&self) -> Instant {
        // A poisoned lock only means another thread panicked while storing an Instant; the
        // value is still usable.
        *self.idle_since.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When this connection should be closed if nothing changes, if ever.
    fn deadline(&self, first_request: Instant, idle: Option<Duration>) -> Option<Instant> {
        if !self.seen_request.load(Ordering::SeqCst) {
            return Some(first_request);
        }
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        idle.map(|idle| self.idle_since() + idle)
    }
}

/// Dropped when the response body is finished (or abandoned).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
        self.0.changed.notify_one();
    }
}

/// A response body that holds the [`InFlight`] guard until it is dropped.
struct GuardedBody {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// The hyper service of one connection.
struct ConnService<S> {
    /// Read at each request, so a reload applies to open connections too.
    current: Arc<Current<S>>,
    info: ConnectionInfo,
    activity: Arc<Activity>,
}

impl<S> hyper::service::Service<Request<Incoming>> for ConnService<S>
where
    S: ProxyService,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let guard = self.activity.begin();
        let stack = self.current.load().stack.clone();
        let info = self.info;
        Box::pin(async move {
            let response = stack.handle(req, info).await;
            Ok(response.map(|inner| {
                Body::new(GuardedBody {
                    inner,
                    _guard: guard,
                })
            }))
        })
    }
}

/// Serves one accepted TCP connection until it closes or the server stops.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run<S>(
    tcp: TcpStream,
    remote: SocketAddr,
    local: SocketAddr,
    current: Arc<Current<S>>,
    draining: Signal,
    mut stopped: Signal,
    _token: TaskToken,
) where
    S: ProxyService,
{
    // The first request must arrive within header_read_timeout of the accept, TLS handshake
    // included: this is what stops clients that connect and then send nothing (or too little
    // for protocol detection).
    let params = Arc::clone(&current.load().params);
    let first_request = Instant::now() + params.header_read_timeout;
    let info = ConnectionInfo {
        remote,
        local,
        tls: params.tls.is_some(),
    };
    match params.tls.clone() {
        None => {
            serve_io(
                tcp,
                info,
                first_request,
                &params,
                current,
                draining,
                stopped,
            )
            .await
        }
        Some(acceptor) => {
            let handshake = tokio::time::timeout_at(first_request, acceptor.accept(tcp));
            let stream = tokio::select! {
                result = handshake => result,
                () = stopped.stopped() => return,
            };
            match stream {
                Ok(Ok(stream)) => {
                    serve_io(
                        stream,
                        info,
                        first_request,
                        &params,
                        current,
                        draining,
                        stopped,
                    )
                    .await
                }
                Ok(Err(e)) => tracing::debug!(client = %remote, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(client = %remote, "TLS handshake timed out"),
            }
        }
    }
}

async fn serve_io<I, S>(
    io: I,
    info: ConnectionInfo,
    first_request: Instant,
    params: &ConnParams,
    current: Arc<Current<S>>,
    mut draining: Signal,
    mut stopped: Signal,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: ProxyService,
{
    let activity = Activity::new();
    let service = ConnService {
        current,
        info,
        activity: Arc::clone(&activity),
    };
    let connection = params
        .builder
        .serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let deadline = activity.deadline(first_request, params.idle_timeout);
        let wake = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(client = %info.remote, error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(wake), if !closing && deadline.is_some() => {
                let still_due = activity
                    .deadline(first_request, params.idle_timeout)
                    .is_some_and(|d| d <= Instant::now());
                if still_due {
                    if !activity.seen_request.load(Ordering::SeqCst) {
                        tracing::debug!(client = %info.remote, "no complete request within header_read_timeout; closing");
                        return;
                    }
                    tracing::debug!(client = %info.remote, "idle timeout; closing");
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            () = activity.changed.notified() => {}
            () = draining.draining(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = stopped.stopped() => return,
        }
    }
}
