//! What happens to each request before the application layer: health endpoints, header and body limits,
//! routing, extensions, tracing; and after it: error mapping and body boxing.

use std::future::poll_fn;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST};
use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::Limited;
use tracing::Instrument;

use super::{ClientAddr, ConnectionInfo, ProxyService};
use crate::access_log::AccessLine;
use crate::body::{Body, BoxError};
use crate::client_ip::{ClientIp, ClientIpResolver};
use crate::config::ServiceConfig;
use crate::endpoints::LocalEndpoints;
use crate::health::{ReadinessCheck, readiness_json};
use crate::response;
use crate::routing::{RouteError, Router};

/// How long `/readyz` waits for the readiness check.
const READINESS_TIMEOUT: Duration = Duration::from_secs(5);

/// State shared by every request of a server.
pub(crate) struct Shared {
    pub(crate) router: Router,
    pub(crate) readiness: Arc<dyn ReadinessCheck>,
    pub(crate) max_header_bytes: u64,
    pub(crate) max_body_bytes: u64,
    pub(crate) client_ip: ClientIpResolver,
}

/// The per-request pipeline around the layer-wrapped forwarder `S`.
pub(crate) struct Stack<S> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Shared>,
    /// The application's own endpoints, answered before routing.
    pub(crate) endpoints: Arc<dyn LocalEndpoints>,
}

impl<S: Clone> Clone for Stack<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            endpoints: Arc::clone(&self.endpoints),
        }
    }
}

/// Approximate size of the request head as sent in HTTP/1.1.
fn head_size<B>(req: &Request<B>) -> u64 {
    let line = req.method().as_str().len()
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + req.uri().authority().map_or(0, |a| a.as_str().len())
        + 12;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (line + headers) as u64
}

fn content_length<B>(req: &Request<B>) -> Option<u64> {
    req.headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

impl<S> Stack<S>
where
    S: ProxyService,
{
    /// Handles one request from a client connection, and logs it: one access-log line at
    /// `info` (`request handled`, with its method, path, client, service, status and latency).
    /// When this module logs at `debug`, every line the request causes is also inside a
    /// `request` span with the same fields; below that no span is made (a span costs more than
    /// the line).
    pub(crate) async fn handle<ReqB>(
        self,
        req: Request<ReqB>,
        conn: ConnectionInfo,
    ) -> Response<Body>
    where
        ReqB: http_body::Body<Data = Bytes> + Send + 'static,
        ReqB::Error: Into<BoxError>,
    {
        if !tracing::enabled!(tracing::Level::INFO) {
            return self
                .dispatch(req, conn, &mut None, &tracing::Span::none())
                .await;
        }
        let span = if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                client = %conn.remote.ip(),
                service = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        // Cheap copies: a standard method is inline, a URI shares the request's bytes.
        let method = req.method().clone();
        let uri = req.uri().clone();
        let started = Instant::now();
        let mut service = None;
        let response = self
            .dispatch(req, conn, &mut service, &span)
            .instrument(span.clone())
            .await;
        AccessLine {
            method: &method,
            path: uri.path(),
            client: conn.remote.ip(),
            service: service.as_ref().map(|s| s.name.as_str()),
            status: response.status().as_u16(),
            latency: started.elapsed(),
        }
        .log();
        response
    }

    /// Routes and serves one request; `routed` is set to the service it was routed to, and
    /// recorded in `span` (`Span::none()` when there is none).
    async fn dispatch<ReqB>(
        mut self,
        req: Request<ReqB>,
        conn: ConnectionInfo,
        routed: &mut Option<Arc<ServiceConfig>>,
        span: &tracing::Span,
    ) -> Response<Body>
    where
        ReqB: http_body::Body<Data = Bytes> + Send + 'static,
        ReqB::Error: Into<BoxError>,
    {
        let grpc = response::is_grpc(req.headers());
        match req.uri().path() {
            "/healthz" => {
                return response::json(StatusCode::OK, "{\"status\":\"ok\"}\n".to_owned());
            }
            "/readyz" => return readiness(&self.shared).await,
            _ => {}
        }
        if req.method() == http::Method::CONNECT {
            // Tunnels to arbitrary hosts are not a reverse proxy's job.
            return response::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "CONNECT is not supported",
                None,
                grpc,
            );
        }
        if head_size(&req) > self.shared.max_header_bytes {
            return response::error(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
                "the request headers are larger than the configured limit",
                None,
                grpc,
            );
        }
        if self.endpoints.claims(req.uri().path()) {
            return self.local(req, conn).await;
        }
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.host()));
        let decision = match self
            .shared
            .router
            .route(req.method(), host, req.uri().path())
        {
            Ok(d) => d,
            Err(e @ RouteError::NoService { .. }) => {
                return response::error(
                    StatusCode::NOT_FOUND,
                    "no_service",
                    &e.to_string(),
                    None,
                    grpc,
                );
            }
            Err(e) => {
                return response::error(
                    StatusCode::BAD_REQUEST,
                    "bad_path",
                    &e.to_string(),
                    None,
                    grpc,
                );
            }
        };
        let config = Arc::clone(&decision.service);
        let service = config.name.as_str();
        *routed = Some(Arc::clone(&config));
        span.record("service", service);
        let max_body = self.shared.max_body_bytes;
        if max_body > 0 && content_length(&req).is_some_and(|len| len > max_body) {
            return response::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than the configured limit",
                Some(service),
                grpc,
            );
        }
        let (mut parts, body) = req.into_parts();
        if let Err(e) = use_normalized_path(&mut parts.uri, &decision.path) {
            tracing::warn!(error = %e, "cannot rebuild the request URI with the normalised path");
            return response::error(
                StatusCode::BAD_REQUEST,
                "bad_path",
                "the request path cannot be forwarded",
                Some(service),
                grpc,
            );
        }
        let body = if max_body > 0 {
            Body::new(Limited::new(
                body,
                usize::try_from(max_body).unwrap_or(usize::MAX),
            ))
        } else {
            Body::new(body)
        };
        parts.extensions.insert(decision);
        parts.extensions.insert(ClientAddr(conn.remote));
        let client_ip = self
            .shared
            .client_ip
            .resolve(conn.remote.ip(), &parts.headers);
        parts.extensions.insert(ClientIp(client_ip));
        parts.extensions.insert(conn);
        let req = Request::from_parts(parts, body);

        if let Err(e) = poll_fn(|cx| self.inner.poll_ready(cx)).await {
            return self.internal_error(service, e.into(), grpc);
        }
        match self.inner.call(req).await {
            Ok(response) => response.map(Body::new),
            Err(e) => self.internal_error(service, e.into(), grpc),
        }
    }

    /// Answers one of the application's own endpoints: the body bounded like a routed
    /// request's, the client's IP as an extension.
    async fn local<ReqB>(self, req: Request<ReqB>, conn: ConnectionInfo) -> Response<Body>
    where
        ReqB: http_body::Body<Data = Bytes> + Send + 'static,
        ReqB::Error: Into<BoxError>,
    {
        let max_body = self.shared.max_body_bytes;
        if max_body > 0 && content_length(&req).is_some_and(|len| len > max_body) {
            return response::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than the configured limit",
                None,
                false,
            );
        }
        let (mut parts, body) = req.into_parts();
        let body = if max_body > 0 {
            Body::new(Limited::new(
                body,
                usize::try_from(max_body).unwrap_or(usize::MAX),
            ))
        } else {
            Body::new(body)
        };
        let client_ip = self
            .shared
            .client_ip
            .resolve(conn.remote.ip(), &parts.headers);
        parts.extensions.insert(ClientAddr(conn.remote));
        parts.extensions.insert(ClientIp(client_ip));
        parts.extensions.insert(conn);
        self.endpoints.serve(Request::from_parts(parts, body)).await
    }

    fn internal_error(&self, service: &str, error: BoxError, grpc: bool) -> Response<Body> {
        tracing::error!(error = %error, "the application layer failed");
        response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the request could not be processed",
            Some(service),
            grpc,
        )
    }
}

/// Puts the normalised `path` in `uri` (the query is kept as sent), so that the layer prices,
/// and the forwarder forwards, exactly the path routing matched.
fn use_normalized_path(uri: &mut Uri, path: &str) -> Result<(), http::Error> {
    if uri.path() == path {
        return Ok(());
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = std::mem::take(uri).into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query)?);
    *uri = Uri::from_parts(parts)?;
    Ok(())
}

async fn readiness(shared: &Shared) -> Response<Body> {
    let readiness = tokio::time::timeout(READINESS_TIMEOUT, shared.readiness.check())
        .await
        .unwrap_or_else(|_| {
            crate::health::Readiness::from_checks(vec![crate::health::CheckResult {
                name: "readiness".to_owned(),
                ok: false,
                detail: Some("the readiness check timed out".to_owned()),
            }])
        });
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    response::json(status, readiness_json(&readiness))
}
