//! The one body type that flows through the proxy stack, in both directions.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};

/// A boxed, thread-safe error, as used by bodies and by the application layer's service.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streaming HTTP body: the request body handed to the application layer and the [`Forwarder`],
/// and the response body they return.
///
/// It wraps any [`http_body::Body`] frame by frame (data and trailers); nothing is buffered.
///
/// [`Forwarder`]: crate::Forwarder
pub struct Body(UnsyncBoxBody<Bytes, BoxError>);

impl Body {
    /// Wraps any body whose data is [`Bytes`].
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(body.map_err(Into::into).boxed_unsync())
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::new(Empty::<Bytes>::new())
    }

    /// A body made of one in-memory chunk.
    pub fn full(data: impl Into<Bytes>) -> Self {
        Self::new(Full::new(data.into()))
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}

impl From<Bytes> for Body {
    fn from(value: Bytes) -> Self {
        Self::full(value)
    }
}

impl From<String> for Body {
    fn from(value: String) -> Self {
        Self::full(value)
    }
}

impl From<&'static str> for Body {
    fn from(value: &'static str) -> Self {
        Self::full(Bytes::from_static(value.as_bytes()))
    }
}

impl From<Vec<u8>> for Body {
    fn from(value: Vec<u8>) -> Self {
        Self::full(value)
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

/// True if `err` or any error in its source chain is a request-body length-limit violation.
pub(crate) fn is_body_limit_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}
