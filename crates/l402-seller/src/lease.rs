//! Long-lived connections: the paywall's [`TokenLease`] (a paid request's extension) becomes the
//! proxy's [`StreamDeadline`], so a WebSocket or a server-sent event stream opened with a token
//! ends `stream_grace_secs` after the token expires or is revoked (see `docs/SECURITY.md`,
//! "Long-lived connections").

use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use l402_server::StreamDeadline;
use l402_tower::{DEFAULT_STREAM_GRACE, TokenLease};
use tower::{Layer, Service};

use crate::config::L402Settings;

/// The grace period the configuration sets (`stream_grace_secs`), or the default.
pub(crate) fn stream_grace(settings: &L402Settings) -> Duration {
    settings
        .stream_grace_secs
        .map_or(DEFAULT_STREAM_GRACE, Duration::from_secs)
}

/// Sits between the paywall and the forwarder: gives each request carrying a [`TokenLease`] the
/// matching [`StreamDeadline`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LeaseDeadlines;

impl<S> Layer<S> for LeaseDeadlines {
    type Service = WithDeadline<S>;
    fn layer(&self, inner: S) -> Self::Service {
        WithDeadline(inner)
    }
}

/// The service [`LeaseDeadlines`] makes.
#[derive(Debug, Clone)]
pub(crate) struct WithDeadline<S>(S);

impl<S, B> Service<Request<B>> for WithDeadline<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        if let Some(lease) = request.extensions().get::<TokenLease>().cloned() {
            request
                .extensions_mut()
                .insert(StreamDeadline::new(move || {
                    let lease = lease.clone();
                    async move {
                        let reason = lease.ended().await;
                        tracing::info!(reason = reason.as_str(), "a stream's token ended");
                    }
                }));
        }
        self.0.call(request)
    }
}
