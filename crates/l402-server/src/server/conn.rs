//! One client connection: optional TLS handshake, HTTP/1.1 or HTTP/2 (auto-detected), the
//! first-request deadline, the idle timeout, and graceful or hard shutdown. A plain-TCP
//! connection is served by [`super::h1`] until a request needs hyper; a TLS one by hyper.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
    /// The longest request head read (hyper's read buffer limit too).
    pub(crate) max_head_bytes: usize,
}

/// Tracks requests in flight on one connection, with atomics: a request costs no lock and no
/// wake-up of the connection's watchdog, which looks at this when its timer fires (only the
/// first request wakes it, since the idle deadline can then come before the first-request one).
struct Activity {
    in_flight: AtomicUsize,
    seen_request: AtomicBool,
    first_request: Notify,
    /// When the connection last became idle, in microseconds since `epoch`.
    idle_since_us: AtomicU64,
    epoch: Instant,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            seen_request: AtomicBool::new(false),
            first_request: Notify::new(),
            idle_since_us: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if !self.seen_request.swap(true, Ordering::AcqRel) {
            self.first_request.notify_one();
        }
        InFlight(Arc::clone(self))
    }

    fn idle_since(&self) -> Instant {
        self.epoch + Duration::from_micros(self.idle_since_us.load(Ordering::Acquire))
    }

    /// When this connection should be closed if nothing changes.
    fn deadline(&self, first_request: Instant, idle: Option<Duration>) -> Due {
        if !self.seen_request.load(Ordering::Acquire) {
            return Due::At(first_request);
        }
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Due::Busy;
        }
        idle.map_or(Due::Never, |idle| Due::At(self.idle_since() + idle))
    }
}

/// When a connection is due to close.
enum Due {
    At(Instant),
    /// A request is in flight: no deadline until it ends.
    Busy,
    /// Idle connections are never closed (`idle_timeout = 0`).
    Never,
}

/// Dropped when the response body is finished (or abandoned).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        // The time first: a watchdog that sees no request in flight also sees when the last
        // one ended (with several, the last to end sets the time the connection went idle).
        let since = Instant::now().saturating_duration_since(self.0.epoch);
        let us = u64::try_from(since.as_micros()).unwrap_or(u64::MAX);
        self.0.idle_since_us.fetch_max(us, Ordering::AcqRel);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
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

/// What serving an accepted connection needs besides its socket.
pub(super) struct Accepted<S> {
    /// Who it is from and to.
    pub(super) info: ConnectionInfo,
    /// When its first request must have arrived by.
    pub(super) first_request: Instant,
    /// The listener's limits and TLS of the generation it was accepted under.
    pub(super) params: Arc<ConnParams>,
    /// The configuration in force, read again for each request.
    pub(super) current: Arc<Current<S>>,
    /// The drain (stop accepting new requests).
    pub(super) draining: Signal,
    /// The stop.
    pub(super) stopped: Signal,
}

/// Serves one accepted TCP connection until it closes or the server stops.
pub(crate) async fn run<S>(
    tcp: TcpStream,
    remote: SocketAddr,
    local: SocketAddr,
    current: Arc<Current<S>>,
    draining: Signal,
    stopped: Signal,
    _token: TaskToken,
) where
    S: ProxyService,
{
    // The first request must arrive within header_read_timeout of the accept, TLS handshake
    // included: this is what stops clients that connect and then send nothing (or too little
    // for protocol detection).
    let params = Arc::clone(&current.load().params);
    let tls = params.tls.clone();
    let accepted = Accepted {
        info: ConnectionInfo {
            remote,
            local,
            tls: tls.is_some(),
        },
        first_request: Instant::now() + params.header_read_timeout,
        params,
        current,
        draining,
        stopped,
    };
    match tls {
        None => super::h1::serve(tcp, accepted).await,
        // Boxed, as the hyper connection of a handed-off plain connection is: this task's
        // future is sized for its largest path, and the plain HTTP/1.1 one, the most common,
        // is a third of the size of a TLS handshake and hyper's connection.
        Some(acceptor) => Box::pin(serve_tls(tcp, acceptor, accepted)).await,
    }
}

/// The TLS handshake, within the first request's deadline, then hyper on the TLS stream.
async fn serve_tls<S>(tcp: TcpStream, acceptor: TlsAcceptor, accepted: Accepted<S>)
where
    S: ProxyService,
{
    let handshake = tokio::time::timeout_at(accepted.first_request, acceptor.accept(tcp));
    let stream = tokio::select! {
        result = handshake => result,
        () = accepted.stopped.stopped() => return,
    };
    let remote = accepted.info.remote;
    match stream {
        Ok(Ok(stream)) => serve_io(stream, accepted).await,
        Ok(Err(e)) => tracing::debug!(client = %remote, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(client = %remote, "TLS handshake timed out"),
    }
}

/// Serves `io` with hyper (HTTP/1.1 or HTTP/2, detected), with the first-request deadline, the
/// idle timeout and the shutdown phases.
pub(super) async fn serve_io<I, S>(io: I, accepted: Accepted<S>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: ProxyService,
{
    let Accepted {
        info,
        first_request,
        params,
        current,
        draining,
        stopped,
    } = accepted;
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
    // Made once: requests do not wake this loop, the timer does (then the deadline is
    // computed again and the timer moved to it).
    let timer = tokio::time::sleep_until(first_request);
    tokio::pin!(timer);
    let mut timer_armed = true;
    let first_request_seen = activity.first_request.notified();
    tokio::pin!(first_request_seen);
    let mut waiting_for_first = true;
    let draining = draining.draining();
    tokio::pin!(draining);
    let stopped = stopped.stopped();
    tokio::pin!(stopped);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(client = %info.remote, error = %e, "connection ended with an error");
                }
                return;
            }
            () = timer.as_mut(), if !closing && timer_armed => {
                let now = Instant::now();
                match activity.deadline(first_request, params.idle_timeout) {
                    Due::At(due) if due <= now => {
                        if !activity.seen_request.load(Ordering::Acquire) {
                            tracing::debug!(client = %info.remote, "no complete request within header_read_timeout; closing");
                            return;
                        }
                        tracing::debug!(client = %info.remote, "idle timeout; closing");
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    Due::At(due) => timer.as_mut().reset(due),
                    Due::Never => timer_armed = false,
                    // A request in flight: the idle time can only start after it, so look again
                    // one idle period from now at the earliest.
                    Due::Busy => timer
                        .as_mut()
                        .reset(now + params.idle_timeout.unwrap_or(params.header_read_timeout)),
                }
            }
            () = first_request_seen.as_mut(), if waiting_for_first => {
                waiting_for_first = false;
                // The timer was set for the first-request deadline; the request may end, and
                // the idle time run out, before that.
                timer_armed = true;
                timer.as_mut().reset(Instant::now());
            }
            () = draining.as_mut(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = stopped.as_mut() => return,
        }
    }
}
