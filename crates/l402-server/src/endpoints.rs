//! The application's own endpoints, answered by the proxy before routing (like `/healthz`): a
//! document the application publishes about itself on every host, whatever the services'
//! path prefixes are. The proxy knows nothing of what they say.

use http::{Request, Response};

use crate::body::Body;
use crate::health::BoxFuture;

/// Endpoints an application answers itself, before routing. The request's body is bounded by
/// `[limits] max_body_bytes`; the [`ClientIp`](crate::ClientIp) of the caller is a request
/// extension.
pub trait LocalEndpoints: Send + Sync + 'static {
    /// Whether `path` (as sent, not normalised) is one of these endpoints. The endpoint then
    /// answers every method itself (405 for the ones it does not serve).
    fn claims(&self, path: &str) -> bool;

    /// Answers a request whose path [`claims`](LocalEndpoints::claims) accepted.
    fn serve(&self, request: Request<Body>) -> BoxFuture<'_, Response<Body>>;
}

/// No endpoints of the application's own: every request is routed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEndpoints;

impl LocalEndpoints for NoEndpoints {
    fn claims(&self, _path: &str) -> bool {
        false
    }

    fn serve(&self, _request: Request<Body>) -> BoxFuture<'_, Response<Body>> {
        Box::pin(async { Response::new(Body::empty()) })
    }
}

impl<T: LocalEndpoints + ?Sized> LocalEndpoints for std::sync::Arc<T> {
    fn claims(&self, path: &str) -> bool {
        (**self).claims(path)
    }

    fn serve(&self, request: Request<Body>) -> BoxFuture<'_, Response<Body>> {
        (**self).serve(request)
    }
}
