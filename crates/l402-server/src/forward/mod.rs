//! The forwarder: a [`tower::Service`] that proxies a routed request to its service's upstream,
//! streaming bodies frame by frame (trailers included) and tunnelling protocol upgrades, each
//! ended early when the request carries a [`deadline::StreamDeadline`] that is reached.

pub(crate) mod client;
pub mod deadline;
mod forwarded_lines;
mod h1_conn;
mod h1_pool;
pub mod headers;
pub mod target;
mod upgrade;
mod upstream;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::HOST;
use http::{HeaderValue, Request, Response, StatusCode, Version};

use crate::body::{Body, is_body_limit_error};
use crate::config::Config;
use crate::error::ServerError;
use crate::response;
use crate::routing::RouteDecision;
use crate::server::{ClientAddr, ConnectionInfo};
use crate::shutdown::{Controller, Signal, WeakTaskToken};
use client::ClientFactory;
use deadline::{DeadlineBody, StreamDeadline};
use upstream::{SendError, Upstream};

/// Proxies requests to the upstream of the service named by the request's [`RouteDecision`]
/// extension. Never fails as a service: upstream problems become 502/504 responses (or gRPC
/// errors for gRPC callers), a request body over the limit becomes 413.
#[derive(Clone)]
pub struct Forwarder {
    inner: Arc<Inner>,
}

struct Inner {
    upstreams: HashMap<String, Upstream>,
    request_timeout: Option<Duration>,
    stop: Signal,
    tasks: Option<WeakTaskToken>,
    /// Keeps `stop` pending when the forwarder runs outside a [`crate::Server`].
    _own_controller: Option<Controller>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("services", &self.inner.upstreams.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Forwarder {
    /// Builds clients for every service of `config` (resolving `upstream_headers` secrets).
    pub fn new(config: &Config) -> Result<Self, ServerError> {
        let controller = Controller::new();
        let stop = controller.signal();
        Self::build(config, stop, None, Some(controller))
    }

    pub(crate) fn with_shutdown(
        config: &Config,
        stop: Signal,
        tasks: WeakTaskToken,
    ) -> Result<Self, ServerError> {
        Self::build(config, stop, Some(tasks), None)
    }

    fn build(
        config: &Config,
        stop: Signal,
        tasks: Option<WeakTaskToken>,
        own: Option<Controller>,
    ) -> Result<Self, ServerError> {
        let mut clients = ClientFactory::new(config.limits.upstream_connect_timeout);
        let mut upstreams = HashMap::with_capacity(config.services.len());
        for service in &config.services {
            upstreams.insert(service.name.clone(), Upstream::new(service, &mut clients)?);
        }
        let timeout = config.limits.request_timeout;
        Ok(Self {
            inner: Arc::new(Inner {
                upstreams,
                request_timeout: (!timeout.is_zero()).then_some(timeout),
                stop,
                tasks,
                _own_controller: own,
            }),
        })
    }
}

impl tower::Service<Request<Body>> for Forwarder {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { Ok(inner.forward(req).await) })
    }
}

impl Inner {
    async fn forward(&self, mut req: Request<Body>) -> Response<Body> {
        let grpc = response::is_grpc(req.headers());
        let Some(service) = req
            .extensions()
            .get::<RouteDecision>()
            .map(|d| Arc::clone(&d.service))
        else {
            tracing::error!("request reached the forwarder without a RouteDecision extension");
            return response::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the request was not routed",
                None,
                grpc,
            );
        };
        let name = service.name.as_str();
        let Some(upstream) = self.upstreams.get(name) else {
            tracing::error!(service = name, "no upstream built for service");
            return response::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                &format!("service `{name}` has no upstream"),
                Some(name),
                grpc,
            );
        };
        let client_addr = req.extensions().get::<ClientAddr>().map(|c| c.0);
        let deadline = req.extensions().get::<StreamDeadline>().cloned();
        let tls = req
            .extensions()
            .get::<ConnectionInfo>()
            .is_some_and(|c| c.tls);
        let is_upgrade = req.version() <= Version::HTTP_11 && headers::wants_upgrade(req.headers());
        let client_upgrade = is_upgrade.then(|| hyper::upgrade::on(&mut req));
        // A header value shares the request's bytes; only an HTTP/2 `:authority` is copied. A
        // `Host` that is not visible ASCII is ignored, as routing ignores it.
        let original_host = req
            .headers()
            .get(HOST)
            .filter(|h| h.to_str().is_ok())
            .cloned()
            .or_else(|| {
                req.uri()
                    .authority()
                    .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            });

        let (mut parts, body) = req.into_parts();
        parts.uri = match upstream.uri_for(&parts.uri) {
            Ok(uri) => uri,
            Err(e) => {
                tracing::warn!(service = name, error = %e, "cannot build the upstream URI");
                return response::error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "the request path cannot be forwarded",
                    Some(name),
                    grpc,
                );
            }
        };
        parts.version = Version::HTTP_11;
        parts.extensions = http::Extensions::new();
        headers::strip_hop_by_hop(&mut parts.headers, is_upgrade);
        // The client's `Host` with `preserve_host`, else the upstream's own (see `Upstream::host`).
        let host = match &original_host {
            Some(original) if upstream.preserve_host => Some(original),
            _ => upstream.host.as_ref(),
        };
        match host {
            Some(host) => parts.headers.insert(HOST, host.clone()),
            None => parts.headers.remove(HOST),
        };
        headers::add_forwarded(
            &mut parts.headers,
            client_addr,
            if tls { "https" } else { "http" },
            original_host.as_ref(),
        );
        for (header, value) in &upstream.headers {
            parts.headers.insert(header.clone(), value.clone());
        }

        let pending = upstream.send(Request::from_parts(parts, body));
        let result = match self.request_timeout {
            Some(limit) => match tokio::time::timeout(limit, pending).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(
                        service = name,
                        timeout_ms = limit.as_millis() as u64,
                        "upstream response timed out"
                    );
                    return response::error(
                        StatusCode::GATEWAY_TIMEOUT,
                        "upstream_timeout",
                        &format!("service `{name}`: the upstream did not answer in time"),
                        Some(name),
                        grpc,
                    );
                }
            },
            None => pending.await,
        };
        let mut upstream_response = match result {
            Ok(r) => r,
            Err(e) => return self.failure(name, &e, grpc),
        };

        let switching = upstream_response.status() == StatusCode::SWITCHING_PROTOCOLS;
        if switching {
            // The connection now carries the tunnel: it must not go back to the pool.
            upstream_response.body_mut().forget_connection();
            match client_upgrade {
                Some(client_upgrade) => upgrade::spawn_tunnel(
                    client_upgrade,
                    hyper::upgrade::on(&mut upstream_response),
                    name.to_owned(),
                    self.stop.clone(),
                    self.tasks.as_ref().and_then(WeakTaskToken::upgrade),
                    deadline.clone(),
                ),
                None => {
                    tracing::warn!(
                        service = name,
                        "upstream switched protocols without being asked"
                    );
                    return response::error(
                        StatusCode::BAD_GATEWAY,
                        "upstream_error",
                        &format!("service `{name}`: unexpected protocol switch from the upstream"),
                        Some(name),
                        grpc,
                    );
                }
            }
        }
        let (mut parts, body) = upstream_response.into_parts();
        headers::strip_hop_by_hop(&mut parts.headers, switching);
        parts.version = Version::HTTP_11;
        parts.extensions = http::Extensions::new();
        // A short answer of known length is not a stream: it needs no deadline (and skips
        // the deadline's timer and subscriptions, most of what a paid request adds).
        let short = http_body::Body::size_hint(&body)
            .exact()
            .is_some_and(|len| len <= deadline::SHORT_BODY_BYTES);
        let body = match deadline {
            Some(deadline) if !short => {
                Body::new(DeadlineBody::new(body, deadline, name.to_owned(), grpc))
            }
            _ => Body::new(body),
        };
        Response::from_parts(parts, body)
    }

    fn failure(&self, name: &str, err: &SendError, grpc: bool) -> Response<Body> {
        if is_body_limit_error(err) {
            tracing::info!(service = name, "request body over the size limit");
            return response::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than the configured limit",
                Some(name),
                grpc,
            );
        }
        if err.is_connect_timeout() {
            tracing::warn!(service = name, error = %err, "upstream connect timed out");
            return response::error(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                &format!("service `{name}`: connecting to the upstream timed out"),
                Some(name),
                grpc,
            );
        }
        let source = std::error::Error::source(err)
            .map(|s| s.to_string())
            .unwrap_or_default();
        tracing::warn!(service = name, error = %err, cause = %source, "upstream request failed");
        let message = if err.is_connect() {
            format!("service `{name}`: the upstream is unreachable")
        } else {
            format!("service `{name}`: the upstream connection failed")
        };
        response::error(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            &message,
            Some(name),
            grpc,
        )
    }
}
