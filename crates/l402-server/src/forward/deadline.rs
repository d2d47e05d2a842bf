//! Stream deadlines: when an application layer says so, the forwarder ends what a request
//! opened that can outlive the request itself — an upgraded connection (a WebSocket) and the
//! response body (a server-sent event stream, any long download).
//!
//! The application attaches a [`StreamDeadline`] to the request's extensions (the L402 seller
//! turns the paywall's token lease into one). When its future resolves:
//!
//! - an upgraded connection's tunnel is closed on both sides (the proxy does not parse the
//!   upgraded protocol, so a WebSocket client sees the connection end without a close frame,
//!   1006 "abnormal closure");
//! - the response body ends cleanly at a frame boundary: for a chunked HTTP/1.1 response the
//!   last chunk is sent, for HTTP/2 the stream's end, so a server-sent event client sees the
//!   stream end, never an error status; a gRPC response ends with trailers `grpc-status: 4`
//!   (`DEADLINE_EXCEEDED`) and a `grpc-message`. (A body with a `Content-Length` that is cut
//!   short ends its connection, as HTTP requires.)
//!
//! A response body whose length is known and at most [`SHORT_BODY_BYTES`] is not a stream and
//! gets no deadline (watching the lease would cost a timer and two subscriptions per paid
//! answer): the client cannot stretch it, since hyper holds the upstream to its
//! `Content-Length`, but an upstream that sends it very slowly keeps it open.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use http_body::{Frame, SizeHint};

/// The largest response body of known length that is sent without a deadline.
pub const SHORT_BODY_BYTES: u64 = 64 * 1024;

/// The future a [`StreamDeadline`] gives: resolves when the stream must end.
pub type DeadlineFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A request extension: when what this request opens (an upgraded connection, its response
/// body) must end. Each call to [`StreamDeadline::ended`] makes a fresh future from the
/// function given to [`StreamDeadline::new`].
#[derive(Clone)]
pub struct StreamDeadline(Arc<dyn Fn() -> DeadlineFuture + Send + Sync>);

impl fmt::Debug for StreamDeadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamDeadline").finish_non_exhaustive()
    }
}

impl StreamDeadline {
    /// A deadline reached when a future made by `ended` resolves.
    pub fn new<F, Fut>(ended: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self(Arc::new(move || Box::pin(ended())))
    }

    /// A future that resolves when the deadline is reached.
    pub fn ended(&self) -> DeadlineFuture {
        (self.0)()
    }
}

/// Waits for `deadline`, or forever when there is none.
pub(crate) async fn reached(deadline: Option<&StreamDeadline>) {
    match deadline {
        Some(deadline) => deadline.ended().await,
        None => std::future::pending().await,
    }
}

/// A response body that ends (cleanly, as if the upstream had finished) when its deadline is
/// reached. The deadline's future is made on the first poll.
pub(crate) struct DeadlineBody<B> {
    inner: Option<B>,
    deadline: StreamDeadline,
    ended: Option<DeadlineFuture>,
    service: String,
    /// A gRPC response: it ends with `DEADLINE_EXCEEDED` trailers.
    grpc: bool,
}

impl<B> DeadlineBody<B> {
    pub(crate) fn new(inner: B, deadline: StreamDeadline, service: String, grpc: bool) -> Self {
        Self {
            inner: Some(inner),
            deadline,
            ended: None,
            service,
            grpc,
        }
    }
}

/// The trailers ending a gRPC response cut by its deadline.
fn grpc_deadline_trailers() -> HeaderMap {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("4"));
    trailers.insert(
        "grpc-message",
        HeaderValue::from_static("the stream's deadline passed"),
    );
    trailers
}

impl<B> http_body::Body for DeadlineBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let deadline = &this.deadline;
        let ended = this.ended.get_or_insert_with(|| deadline.ended());
        if ended.as_mut().poll(cx).is_ready() {
            tracing::info!(service = %this.service, "stream deadline reached: response body ended");
            // Dropping the upstream's body releases its connection.
            this.inner = None;
            this.ended = None;
            return Poll::Ready(
                this.grpc
                    .then(|| Ok(Frame::trailers(grpc_deadline_trailers()))),
            );
        }
        let frame = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            // Finished by the upstream: nothing more to end.
            this.inner = None;
            this.ended = None;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(B::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), B::size_hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn a_body_ends_cleanly_when_its_deadline_is_reached() {
        let (mut tx, rx) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(4);
        let (reach, reached) = oneshot::channel::<()>();
        let reached = std::sync::Mutex::new(Some(reached));
        let deadline = StreamDeadline::new(move || {
            let rx = reached.lock().unwrap().take();
            async move {
                if let Some(rx) = rx {
                    let _ = rx.await;
                }
            }
        });
        let mut body = DeadlineBody::new(rx, deadline, "svc".into(), false);
        tx.send_data(Bytes::from_static(b"data: 1\n\n"))
            .await
            .unwrap();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "data: 1\n\n");
        reach.send(()).unwrap();
        // The upstream would go on; the body ends (no error) and stays ended.
        tx.send_data(Bytes::from_static(b"data: 2\n\n"))
            .await
            .unwrap();
        assert!(body.frame().await.is_none());
        assert!(body.frame().await.is_none());
        assert!(http_body::Body::is_end_stream(&body));
    }

    #[tokio::test]
    async fn a_grpc_body_ends_with_deadline_exceeded_trailers() {
        let (_tx, rx) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(1);
        let reached = StreamDeadline::new(|| async {});
        let mut body = DeadlineBody::new(rx, reached, "svc".into(), true);
        let trailers = body
            .frame()
            .await
            .unwrap()
            .unwrap()
            .into_trailers()
            .unwrap();
        assert_eq!(trailers["grpc-status"], "4");
        assert!(body.frame().await.is_none());
    }
}
