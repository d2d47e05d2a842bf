//! The listener: accept loop, per-connection tasks, the service stack around the application layer,
//! and graceful shutdown.

mod conn;
mod h1;
mod reload;
mod service;
mod stack;
pub(crate) mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::endpoints::NoEndpoints;
use crate::error::ServerError;
use crate::forward::Forwarder;
use crate::health::ReadinessCheck;
use crate::shutdown::Controller;
pub use reload::Reloader;
use reload::{Current, Generation, Lifecycle};
pub use service::ProxyService;

/// The client's socket address, inserted as a request extension before the application layer runs
/// (per-client limits, logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

/// Facts about the connection a request came in on, inserted as a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The client's address.
    pub remote: SocketAddr,
    /// The local address the client connected to.
    pub local: SocketAddr,
    /// Whether the connection uses TLS.
    pub tls: bool,
}

impl ConnectionInfo {
    /// Describes a connection (for tests of layers that read this extension).
    pub fn new(remote: SocketAddr, local: SocketAddr, tls: bool) -> Self {
        Self { remote, local, tls }
    }
}

/// A bound, not yet running proxy. `S` is the application layer's service wrapped around the
/// [`Forwarder`]. Use [`Server::bind`] then [`Server::run`], or [`serve`] for both.
pub struct Server<S> {
    listener: TcpListener,
    local_addr: SocketAddr,
    /// The configured address (differs from `local_addr` for port 0).
    configured_addr: SocketAddr,
    current: Arc<Current<S>>,
    controller: Controller,
    drain_timeout: Duration,
}

impl<S> std::fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("tls", &self.current.load().params.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// The longest request head read: `max_header_bytes`, but at least 8 KiB (hyper's smallest read
/// buffer; smaller limits are enforced by the stack, with a 431).
fn max_head_bytes(config: &Config) -> usize {
    usize::try_from(config.limits.max_header_bytes)
        .unwrap_or(usize::MAX)
        .max(8192)
}

fn http_builder(config: &Config) -> auto::Builder<TokioExecutor> {
    let limits = &config.limits;
    let max_header = usize::try_from(limits.max_header_bytes).unwrap_or(usize::MAX);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(max_head_bytes(config))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(max_header).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

impl<S> Server<S>
where
    S: ProxyService,
{
    /// Checks `config`, builds the routing table, upstream clients and TLS, wraps the
    /// [`Forwarder`] in `layer`, and binds `[listen] addr` (port 0 picks a free port; see
    /// [`Server::local_addr`]). Configuration warnings are logged.
    pub async fn bind<L, R>(config: &Config, layer: L, readiness: R) -> Result<Self, ServerError>
    where
        L: tower::Layer<Forwarder, Service = S>,
        R: ReadinessCheck,
    {
        for warning in config.check()? {
            tracing::warn!("{warning}");
        }
        let controller = Controller::new();
        let lifecycle = Lifecycle {
            stop: controller.signal(),
            tasks: controller.token().downgrade(),
        };
        let generation =
            reload::build(config, layer, readiness, Arc::new(NoEndpoints), &lifecycle)?;
        let addr = config.listen.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let tls = generation.params.tls.is_some();
        tracing::info!(
            addr = %local_addr,
            tls,
            services = config.services.len(),
            "listening"
        );
        Ok(Self {
            listener,
            local_addr,
            configured_addr: addr,
            current: Current::new(generation),
            controller,
            drain_timeout: config.limits.drain_timeout,
        })
    }

    /// Answers `endpoints` before routing (see [`LocalEndpoints`](crate::endpoints::LocalEndpoints));
    /// call before [`run`](Server::run).
    pub fn with_endpoints(self, endpoints: impl crate::endpoints::LocalEndpoints) -> Self {
        let now = self.current.load();
        let mut stack = now.stack.clone();
        stack.endpoints = Arc::new(endpoints);
        self.current.replace(Generation {
            params: Arc::clone(&now.params),
            stack,
        });
        self
    }

    /// A handle that replaces this server's configuration while it runs (see [`Reloader`]).
    pub fn reloader(&self) -> Reloader<S> {
        Reloader::new(
            Arc::downgrade(&self.current),
            Lifecycle {
                stop: self.controller.signal(),
                tasks: self.controller.token().downgrade(),
            },
            self.configured_addr,
            self.current.load().params.tls.is_some(),
        )
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Accepts connections until `shutdown` resolves, then stops accepting, lets in-flight
    /// requests finish for up to `drain_timeout`, and closes what is left.
    pub async fn run<F>(self, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send,
    {
        let Self {
            listener,
            local_addr,
            current,
            controller,
            drain_timeout,
            ..
        } = self;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, remote)) => {
                        // Nagle only delays small writes such as SSE events; errors are harmless.
                        let _ = tcp.set_nodelay(true);
                        tokio::spawn(conn::run(
                            tcp,
                            remote,
                            local_addr,
                            Arc::clone(&current),
                            controller.signal(),
                            controller.signal(),
                            controller.token(),
                        ));
                    }
                    Err(e) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
        drop(listener);
        drop(current);
        tracing::info!(
            drain_timeout_ms = drain_timeout.as_millis() as u64,
            "shutting down: draining"
        );
        if controller.drain(drain_timeout).await {
            tracing::info!("all connections drained");
        } else {
            tracing::warn!("drain timeout reached; closed the remaining connections");
        }
        Ok(())
    }
}

/// Binds and runs the proxy until `shutdown` resolves (the binary passes a SIGTERM/SIGINT
/// future). `layer` wraps the [`Forwarder`]; every request it sees carries the
/// [`RouteDecision`](crate::RouteDecision), [`ClientAddr`] and [`ConnectionInfo`] extensions.
/// Use [`tower::layer::util::Identity`] for a plain proxy.
pub async fn serve<L, R, F>(
    config: &Config,
    layer: L,
    readiness: R,
    shutdown: F,
) -> Result<(), ServerError>
where
    L: tower::Layer<Forwarder>,
    L::Service: ProxyService,
    R: ReadinessCheck,
    F: Future<Output = ()> + Send,
{
    Server::bind(config, layer, readiness)
        .await?
        .run(shutdown)
        .await
}
