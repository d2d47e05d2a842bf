//! Live reconfiguration: the accept loop and every connection read the current
//! [`Generation`] (connection settings and the request stack) through one [`Current`] slot,
//! which a [`Reloader`] replaces. A request already running finishes on the generation it
//! started with; the next request, on any connection, sees the new one; no connection is
//! dropped.

use std::sync::{Arc, PoisonError, RwLock, Weak};

use tokio_rustls::TlsAcceptor;

use super::conn::ConnParams;
use super::stack::{Shared, Stack};
use super::{ProxyService, http_builder, max_head_bytes, tls};
use crate::config::Config;
use crate::endpoints::{LocalEndpoints, NoEndpoints};
use crate::error::ServerError;
use crate::forward::Forwarder;
use crate::health::ReadinessCheck;
use crate::routing::Router;
use crate::shutdown::{Signal, WeakTaskToken};

/// What one configuration builds: the settings of new connections and the request pipeline.
pub(crate) struct Generation<S> {
    pub(crate) params: Arc<ConnParams>,
    pub(crate) stack: Stack<S>,
}

/// The generation in force, shared by the accept loop, the connections and the reloader.
pub(crate) struct Current<S>(RwLock<Arc<Generation<S>>>);

impl<S> Current<S> {
    pub(crate) fn new(generation: Generation<S>) -> Arc<Self> {
        Arc::new(Self(RwLock::new(Arc::new(generation))))
    }

    /// The generation in force now.
    pub(crate) fn load(&self) -> Arc<Generation<S>> {
        // A poisoned lock only means a thread panicked while swapping an `Arc`: the value
        // inside is whole.
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `generation` in force.
    pub(crate) fn replace(&self, generation: Generation<S>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(generation);
    }
}

/// Where a generation's forwarder learns of shutdown.
#[derive(Clone)]
pub(crate) struct Lifecycle {
    pub(crate) stop: Signal,
    pub(crate) tasks: WeakTaskToken,
}

/// Builds the generation `config` describes: routing table, upstream clients, listener TLS
/// (certificate files are read again), limits, the application's `layer` around the
/// forwarder, `readiness` and `endpoints`.
pub(crate) fn build<S, L, R>(
    config: &Config,
    layer: L,
    readiness: R,
    endpoints: Arc<dyn LocalEndpoints>,
    lifecycle: &Lifecycle,
) -> Result<Generation<S>, ServerError>
where
    L: tower::Layer<Forwarder, Service = S>,
    R: ReadinessCheck,
{
    let router = Router::new(config)?;
    let forwarder =
        Forwarder::with_shutdown(config, lifecycle.stop.clone(), lifecycle.tasks.clone())?;
    let tls = match (&config.listen.tls_cert, &config.listen.tls_key) {
        (Some(cert), Some(key)) => Some(TlsAcceptor::from(Arc::new(tls::load_server_config(
            cert, key,
        )?))),
        _ => None,
    };
    let idle = config.limits.idle_timeout;
    let params = Arc::new(ConnParams {
        builder: http_builder(config),
        tls,
        header_read_timeout: config.limits.header_read_timeout,
        idle_timeout: (!idle.is_zero()).then_some(idle),
        max_head_bytes: max_head_bytes(config),
    });
    let stack = Stack {
        inner: layer.layer(forwarder),
        shared: Arc::new(Shared {
            router,
            readiness: Arc::new(readiness),
            max_header_bytes: config.limits.max_header_bytes,
            max_body_bytes: config.limits.max_body_bytes,
            client_ip: crate::client_ip::ClientIpResolver::new(
                config.listen.trusted_proxies.clone(),
                config.listen.client_ip_header.as_deref(),
            ),
        }),
        endpoints,
    };
    Ok(Generation { params, stack })
}

/// Replaces a running [`Server`](super::Server)'s configuration without dropping a
/// connection. Get one from [`Server::reloader`](super::Server::reloader) before
/// [`run`](super::Server::run); it is cheap to clone.
///
/// What a reload changes: services and their routes, upstreams and upstream TLS, limits (new
/// connections take the new header and idle timeouts), the listener's certificate and key
/// (read again from their files, for new connections), trusted proxies, the application's
/// layer, readiness check and endpoints. What it cannot change: the address listened on
/// (`[listen] addr`) and whether the listener uses TLS at all; a reload that asks for either
/// is refused with [`ServerError::NeedsRestart`] and changes nothing.
pub struct Reloader<S> {
    /// Weak: a reloader kept after the server stopped must not keep its stack (and whatever
    /// the application's layer holds) alive.
    current: Weak<Current<S>>,
    lifecycle: Lifecycle,
    /// The configured address (not the bound one, which differs for port 0).
    addr: std::net::SocketAddr,
    tls: bool,
}

impl<S> Clone for Reloader<S> {
    fn clone(&self) -> Self {
        Self {
            current: Weak::clone(&self.current),
            lifecycle: self.lifecycle.clone(),
            addr: self.addr,
            tls: self.tls,
        }
    }
}

impl<S> std::fmt::Debug for Reloader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl<S: ProxyService> Reloader<S> {
    pub(crate) fn new(
        current: Weak<Current<S>>,
        lifecycle: Lifecycle,
        addr: std::net::SocketAddr,
        tls: bool,
    ) -> Self {
        Self {
            current,
            lifecycle,
            addr,
            tls,
        }
    }

    /// Checks `config` (its warnings are logged), builds everything it describes with `layer`
    /// around the new forwarder, and puts it in force for the next request. On any error the
    /// running configuration stays as it was. After the server stopped, this fails with
    /// [`ServerError::Stopped`].
    pub fn reload<L, R>(
        &self,
        config: &Config,
        layer: L,
        readiness: R,
        endpoints: Option<Arc<dyn LocalEndpoints>>,
    ) -> Result<(), ServerError>
    where
        L: tower::Layer<Forwarder, Service = S>,
        R: ReadinessCheck,
    {
        let tls = config.listen.tls_cert.is_some() && config.listen.tls_key.is_some();
        if config.listen.addr != self.addr {
            return Err(ServerError::NeedsRestart("[listen] addr"));
        }
        if tls != self.tls {
            return Err(ServerError::NeedsRestart(
                "[listen] tls_cert / tls_key (on or off)",
            ));
        }
        for warning in config.check()? {
            tracing::warn!("{warning}");
        }
        let current = self.current.upgrade().ok_or(ServerError::Stopped)?;
        let endpoints = endpoints.unwrap_or_else(|| Arc::new(NoEndpoints));
        let generation = build(config, layer, readiness, endpoints, &self.lifecycle)?;
        current.replace(generation);
        tracing::info!(services = config.services.len(), "configuration reloaded");
        Ok(())
    }
}
