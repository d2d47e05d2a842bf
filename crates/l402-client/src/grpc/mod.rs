//! L402 for gRPC (feature `grpc`): [`L402GrpcLayer`], a tower layer for a tonic `Channel` (or
//! any service of `http::Request<tonic::body::Body>`) that pays like [`L402Client::execute`]:
//!
//! * A call carries the `macaroon` metadata Aperture accepts (the held macaroon in lowercase hex
//!   with a `preimage=<hex>` caveat appended) when the client holds a token for the call's
//!   scope: the origin given to the layer plus the service path segment, e.g.
//!   `http://127.0.0.1:8080/helloworld.Greeter` (under the client's [`ScopeRule`], the default
//!   [`ScopeRule::FirstPathSegment`]). Tokens are shared with HTTP requests to the same scope.
//! * A payment-required answer (HTTP 200, `grpc-status` 13 or 2 with "payment required" in
//!   `grpc-message`, the challenge in `www-authenticate`, all in the headers: a Trailers-Only
//!   response; an HTTP 402 counts too) is paid through the client's own payment path
//!   ([`L402Client::pay_challenge`]: invoice checks, budgets, the crash-safe journal, one payment
//!   per scope at a time, receipts) and the call is sent again, once, with the new token.
//! * A held token the server refuses is dropped and replaced by exactly one payment; a server
//!   that still asks for payment after that is not paid again (`PERMISSION_DENIED`).
//! * To be sent twice, the request body is read into memory first (up to
//!   [`DEFAULT_MAX_REPLAY_BODY`], see [`L402GrpcLayer::max_replay_body`]). Bodies over the cap,
//!   and client streams (bodies not complete at once), are sent once as they are: a
//!   payment-required answer to them reaches the caller unchanged.
//! * A call that already carries `macaroon` or `authorization` metadata is passed through
//!   untouched.
//! * What the client cannot do ends the call with a gRPC status, see [`status_for`] for the
//!   mapping: over budget is `RESOURCE_EXHAUSTED` with the budget's message; wallet failures are
//!   `UNAVAILABLE`. When the server asked for payment, its challenges are in the status metadata
//!   (`www-authenticate`).
//!
//! ```no_run
//! # async fn demo(client: l402_client::L402Client) -> Result<(), Box<dyn std::error::Error>> {
//! use l402_client::grpc::L402GrpcLayer;
//! use tower::ServiceBuilder;
//!
//! let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:8080")
//!     .connect()
//!     .await?;
//! let channel = ServiceBuilder::new()
//!     .layer(L402GrpcLayer::new(client.clone(), "http://127.0.0.1:8080"))
//!     .service(channel);
//! // let mut greeter = GreeterClient::new(channel); // any tonic client
//! # let _ = channel;
//! # Ok(()) }
//! ```
//!
//! [`ScopeRule`]: crate::ScopeRule
//! [`ScopeRule::FirstPathSegment`]: crate::ScopeRule::FirstPathSegment

mod body;
mod channel;
mod status;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue};
use l402_core::client::{ResponseView, StopReason};
use tonic::Status;
use tonic::body::Body;
use tonic::metadata::MetadataMap;
use tower::{BoxError, Layer, Service, ServiceExt};

pub use channel::channel;
pub use status::status_for;

use crate::client::L402Client;
use crate::error::ClientError;
use crate::execute::HeldToken;
use body::{Prepared, prepare, replay};
use status::status_with;

/// The default cap on a request body kept in memory to be sent again after a payment: 4 MiB,
/// tonic's default maximum message size.
pub const DEFAULT_MAX_REPLAY_BODY: usize = 4 * 1024 * 1024;

/// The metadata key of the credential: `macaroon`, as Aperture reads it.
pub const MACAROON_METADATA: &str = "macaroon";

/// The origin given to [`L402GrpcLayer`] is not `http(s)://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad gRPC origin {origin:?} for the L402 layer: {reason}")]
pub struct InvalidOrigin {
    /// The origin as given.
    pub origin: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Pays L402 challenges of gRPC calls (see the [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct L402GrpcLayer {
    client: L402Client,
    origin: Result<Arc<str>, InvalidOrigin>,
    max_replay_body: usize,
}

impl fmt::Debug for L402GrpcLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L402GrpcLayer")
            .field("origin", &self.origin)
            .field("max_replay_body", &self.max_replay_body)
            .finish_non_exhaustive()
    }
}

impl L402GrpcLayer {
    /// A layer paying through `client` for calls to `origin` (`http://host:port`, the address
    /// the channel connects to; it names the scope and the budget's domain). A bad origin is
    /// not a panic: every call through the layer then fails with `INVALID_ARGUMENT` saying why
    /// ([`try_new`](Self::try_new) reports it up front).
    pub fn new(client: L402Client, origin: impl AsRef<str>) -> Self {
        Self {
            client,
            origin: parse_origin(origin.as_ref()).map(Arc::from),
            max_replay_body: DEFAULT_MAX_REPLAY_BODY,
        }
    }

    /// [`new`](Self::new), refusing a bad origin.
    pub fn try_new(client: L402Client, origin: impl AsRef<str>) -> Result<Self, InvalidOrigin> {
        let layer = Self::new(client, origin);
        layer.origin.clone()?;
        Ok(layer)
    }

    /// The largest request body kept in memory to be sent again after a payment (default
    /// [`DEFAULT_MAX_REPLAY_BODY`]). Larger bodies are sent once, and a payment-required answer
    /// to them reaches the caller unchanged.
    pub fn max_replay_body(mut self, bytes: usize) -> Self {
        self.max_replay_body = bytes;
        self
    }
}

impl<S> Layer<S> for L402GrpcLayer {
    type Service = L402GrpcService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        L402GrpcService {
            inner,
            shared: Arc::new(self.clone()),
        }
    }
}

/// The service [`L402GrpcLayer`] wraps around a channel.
#[derive(Clone)]
pub struct L402GrpcService<S> {
    inner: S,
    shared: Arc<L402GrpcLayer>,
}

impl<S: fmt::Debug> fmt::Debug for L402GrpcService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L402GrpcService")
            .field("inner", &self.inner)
            .field("layer", &self.shared)
            .finish()
    }
}

impl<S> L402GrpcService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, B> Service<http::Request<Body>> for L402GrpcService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The instance `poll_ready` prepared serves this call; a fresh clone stays behind.
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        Box::pin(call(self.shared.clone(), inner, request))
    }
}

/// One call: send (with the held token), and on a payment-required answer pay and send again.
async fn call<S, B>(
    layer: Arc<L402GrpcLayer>,
    mut inner: S,
    request: http::Request<Body>,
) -> Result<http::Response<Body>, S::Error>
where
    S: Service<http::Request<Body>, Response = http::Response<B>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let origin = match &layer.origin {
        Ok(origin) => origin.clone(),
        Err(e) => return Ok(reply(Status::invalid_argument(format!("l402: {e}")))),
    };
    let headers = request.headers();
    if headers.contains_key(MACAROON_METADATA) || headers.contains_key(AUTHORIZATION) {
        // The caller brought its own credential.
        return Ok(boxed(inner.call(request).await?));
    }
    let url = format!("{origin}{}", request.uri().path());
    let held = match layer.client.held_token(&url).await {
        Ok(held) => held,
        Err(e) => return Ok(reply(status_for(&e))),
    };
    let (parts, body) = request.into_parts();
    let bytes = match prepare(body, layer.max_replay_body).await {
        Ok(Prepared::Replayable(bytes)) => bytes,
        Ok(Prepared::Once(body)) => {
            let request = match with_token(parts, body, held.as_ref()) {
                Ok(request) => request,
                Err(status) => return Ok(reply(status)),
            };
            return Ok(boxed(inner.call(request).await?));
        }
        Err(status) => return Ok(reply(status)),
    };
    let first = match with_token(parts.clone(), replay(&bytes), held.as_ref()) {
        Ok(request) => request,
        Err(status) => return Ok(reply(status)),
    };
    let response = inner.call(first).await?;
    let Some(challenge) = Challenge::of(&response) else {
        return Ok(boxed(response));
    };
    drop(response);
    let www: Vec<&str> = challenge.www.iter().map(String::as_str).collect();
    let view = ResponseView {
        status: challenge.status,
        www_authenticate: &www,
        grpc_status: challenge.grpc_status,
        grpc_message: challenge.grpc_message.as_deref(),
    };
    tracing::debug!(%url, with_token = held.is_some(), "gRPC call answered payment required");
    let paid = match layer.client.pay_challenge(&url, &view, held.as_ref()).await {
        Ok(paid) => paid,
        Err(e) => return Ok(reply(status_with(&e, challenge.metadata()))),
    };
    let retry = match with_token(parts, replay(&bytes), Some(&paid.token)) {
        Ok(request) => request,
        Err(status) => return Ok(reply(status)),
    };
    let response = inner.ready().await?.call(retry).await?;
    if paid.receipt.is_some()
        && let Some(again) = Challenge::of(&response)
    {
        let refused = ClientError::Refused(StopReason::StillRequiredAfterPayment);
        return Ok(reply(status_with(&refused, again.metadata())));
    }
    Ok(boxed(response))
}

/// `parts` and `body` as a request, with `token` as the `macaroon` metadata.
fn with_token(
    mut parts: http::request::Parts,
    body: Body,
    token: Option<&HeldToken>,
) -> Result<http::Request<Body>, Status> {
    if let Some(token) = token {
        let value = token
            .token
            .grpc_metadata_value()
            .and_then(|v| HeaderValue::try_from(v).ok())
            .map(|mut v| {
                v.set_sensitive(true);
                v
            })
            .ok_or_else(|| {
                status_for(&ClientError::InvalidToken(format!(
                    "the macaroon held for {} does not decode",
                    token.scope
                )))
            })?;
        parts.headers.insert(MACAROON_METADATA, value);
    }
    Ok(http::Request::from_parts(parts, body))
}

/// A response of the wrapped service with tonic's body.
fn boxed<B>(response: http::Response<B>) -> http::Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    response.map(Body::new)
}

/// `status` as a Trailers-Only response.
fn reply(status: Status) -> http::Response<Body> {
    status.into_http()
}

/// A payment-required answer, owned.
struct Challenge {
    status: u16,
    www: Vec<String>,
    grpc_status: Option<u32>,
    grpc_message: Option<String>,
}

impl Challenge {
    /// The answer in `response`'s headers, if it asks for payment.
    fn of<B>(response: &http::Response<B>) -> Option<Self> {
        let headers = response.headers();
        let status = response.status().as_u16();
        let grpc_status = headers
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        // Cheap test first: answers in the headers are rare (successful calls carry their
        // status in the trailers).
        if status != 402 && !matches!(grpc_status, Some(13 | 2)) {
            return None;
        }
        let challenge = Self {
            status,
            www: headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect(),
            grpc_status,
            // Percent-decoded, as gRPC encodes it.
            grpc_message: Status::from_header_map(headers).map(|s| s.message().to_owned()),
        };
        let www: Vec<&str> = challenge.www.iter().map(String::as_str).collect();
        let view = ResponseView {
            status,
            www_authenticate: &www,
            grpc_status,
            grpc_message: challenge.grpc_message.as_deref(),
        };
        if !view.is_payment_required() {
            return None;
        }
        drop(www);
        Some(challenge)
    }

    /// The server's challenges as status metadata, for the caller.
    fn metadata(&self) -> MetadataMap {
        let mut headers = HeaderMap::new();
        for value in &self.www {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(WWW_AUTHENTICATE, value);
            }
        }
        MetadataMap::from_headers(headers)
    }
}

/// `http(s)://host[:port]`, normalised (no trailing slash).
fn parse_origin(origin: &str) -> Result<String, InvalidOrigin> {
    let bad = |reason: &str| InvalidOrigin {
        origin: origin.to_owned(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(origin).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("use http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "give only scheme, host and port: the call's path is added",
        ));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            parse_origin("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            parse_origin("https://API.example.com:443").unwrap(),
            "https://api.example.com"
        );
        assert!(parse_origin("http://h:1/helloworld.Greeter").is_err());
        assert!(parse_origin("unix:/tmp/sock").is_err());
        assert!(parse_origin("127.0.0.1:8080").is_err());
    }

    #[test]
    fn payment_required_is_read_from_the_headers() {
        let answer = |status: u16, grpc: Option<(&str, &str)>| {
            let mut r = http::Response::builder().status(status);
            if let Some((code, message)) = grpc {
                r = r
                    .header("grpc-status", code)
                    .header("grpc-message", message);
            }
            r.header("www-authenticate", "L402 macaroon=\"m\", invoice=\"i\"")
                .body(())
                .unwrap()
        };
        let c = Challenge::of(&answer(200, Some(("13", "payment%20required")))).unwrap();
        assert_eq!(c.grpc_message.as_deref(), Some("payment required"));
        assert_eq!(c.www.len(), 1);
        assert_eq!(c.metadata().len(), 1);
        assert!(Challenge::of(&answer(200, Some(("2", "Payment Required")))).is_some());
        assert!(Challenge::of(&answer(402, None)).is_some());
        assert!(Challenge::of(&answer(200, Some(("13", "boom")))).is_none());
        assert!(Challenge::of(&answer(200, Some(("14", "payment required")))).is_none());
        assert!(Challenge::of(&answer(200, None)).is_none());
    }
}
