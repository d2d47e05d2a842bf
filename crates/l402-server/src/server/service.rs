//! [`ProxyService`]: what the proxy needs of the service the application layer makes.

use bytes::Bytes;
use http::{Request, Response};

use crate::body::{Body, BoxError};

/// The service the application layer wraps around the [`Forwarder`](crate::Forwarder): a
/// cloneable, sendable and shareable (`Sync`: a reload swaps it under running connections)
/// [`tower::Service`] of [`Request<Body>`] whose future is `Send` and whose
/// response body yields [`Bytes`]; its errors (and its body's) convert into [`BoxError`].
///
/// Implemented for every service that qualifies (a blanket impl): name it in bounds instead of
/// spelling the `Service` bounds out.
pub trait ProxyService:
    tower::Service<
        Request<Body>,
        Response = Response<Self::ResBody>,
        Future: Send + 'static,
        Error: Into<BoxError>,
    > + Clone
    + Send
    + Sync
    + 'static
{
    /// The body of the service's responses.
    type ResBody: http_body::Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static;
}

impl<S, B> ProxyService for S
where
    S: tower::Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type ResBody = B;
}
