//! Making a request body replayable: a unary gRPC request body is read into memory before it
//! is sent, so it can be sent again after a payment. Bodies over the cap, and bodies that are
//! not complete right away (client streams), are sent once as they are.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body as _, Frame};
use tonic::Status;
use tonic::body::Body;

/// A request body, ready to send.
pub(crate) enum Prepared {
    /// The whole body, in memory: it can be sent any number of times.
    Replayable(Bytes),
    /// A body that can be sent only once: what was read so far, then the rest.
    Once(Body),
}

/// A body of `bytes`, for one attempt.
pub(crate) fn replay(bytes: &Bytes) -> Body {
    Body::new(http_body_util::Full::new(bytes.clone()))
}

/// Reads `body` while its frames are ready at once, up to `cap` bytes. A body that ends within
/// the cap (as a unary request's does: tonic encodes the one message synchronously) is
/// [`Prepared::Replayable`]; a body that goes over the cap, carries trailers, or would make the
/// caller wait (a client stream whose next message is not written yet) is [`Prepared::Once`],
/// with nothing lost. An error reading the body is returned.
pub(crate) async fn prepare(mut body: Body, cap: usize) -> Result<Prepared, Status> {
    if body.is_end_stream() {
        return Ok(Prepared::Replayable(Bytes::new()));
    }
    let mut read: VecDeque<Frame<Bytes>> = VecDeque::new();
    let mut len = 0usize;
    let complete = std::future::poll_fn(|cx| {
        loop {
            match Pin::new(&mut body).poll_frame(cx) {
                Poll::Ready(None) => return Poll::Ready(Ok(true)),
                Poll::Ready(Some(Ok(frame))) => {
                    let is_data = frame.is_data();
                    if let Some(data) = frame.data_ref() {
                        len = len.saturating_add(data.len());
                    }
                    read.push_back(frame);
                    if !is_data || len > cap {
                        return Poll::Ready(Ok(false));
                    }
                }
                Poll::Ready(Some(Err(status))) => return Poll::Ready(Err(status)),
                // Not complete right away: a stream, not a unary body. The waker registered
                // here is simply woken later; the body is polled again by whoever sends it.
                Poll::Pending => return Poll::Ready(Ok(false)),
            }
        }
    })
    .await?;
    if !complete {
        return Ok(Prepared::Once(Body::new(Resumed {
            read,
            rest: Some(body),
        })));
    }
    let mut data = read.into_iter().filter_map(|f| f.into_data().ok());
    let bytes = match (data.next(), data.next()) {
        (None, _) => Bytes::new(),
        (Some(one), None) => one,
        (Some(first), Some(second)) => {
            let mut all = BytesMut::with_capacity(len);
            all.extend_from_slice(&first);
            all.extend_from_slice(&second);
            for chunk in data {
                all.extend_from_slice(&chunk);
            }
            all.freeze()
        }
    };
    Ok(Prepared::Replayable(bytes))
}

/// The frames already read, then the rest of the body.
struct Resumed {
    read: VecDeque<Frame<Bytes>>,
    rest: Option<Body>,
}

impl http_body::Body for Resumed {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some(frame) = self.read.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        match self.rest.as_mut() {
            Some(rest) => {
                let polled = Pin::new(rest).poll_frame(cx);
                if matches!(polled, Poll::Ready(None)) {
                    self.rest = None;
                }
                polled
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_empty() && self.rest.as_ref().is_none_or(|r| r.is_end_stream())
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    /// A body that yields `chunks`, then waits forever when `then_pending`.
    struct Chunks {
        chunks: VecDeque<Bytes>,
        then_pending: bool,
    }

    impl http_body::Body for Chunks {
        type Data = Bytes;
        type Error = Status;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            match self.chunks.pop_front() {
                Some(c) => Poll::Ready(Some(Ok(Frame::data(c)))),
                None if self.then_pending => Poll::Pending,
                None => Poll::Ready(None),
            }
        }
    }

    fn body(chunks: &[&'static [u8]], then_pending: bool) -> Body {
        Body::new(Chunks {
            chunks: chunks.iter().map(|c| Bytes::from_static(c)).collect(),
            then_pending,
        })
    }

    #[tokio::test]
    async fn a_complete_body_within_the_cap_is_replayable() {
        let Prepared::Replayable(bytes) = prepare(body(&[b"ab", b"cd"], false), 4).await.unwrap()
        else {
            panic!("expected a replayable body")
        };
        assert_eq!(&bytes[..], b"abcd");
        for _ in 0..2 {
            let sent = replay(&bytes).collect().await.unwrap().to_bytes();
            assert_eq!(&sent[..], b"abcd");
        }
    }

    #[tokio::test]
    async fn over_the_cap_or_pending_is_sent_once_with_nothing_lost() {
        for (chunks, pending, cap) in [
            (&[b"ab".as_slice(), b"cd", b"ef"][..], false, 3),
            (&[b"ab".as_slice(), b"cd"][..], true, 100),
        ] {
            let Prepared::Once(mut once) = prepare(body(chunks, pending), cap).await.unwrap()
            else {
                panic!("expected a one-shot body")
            };
            let mut seen = Vec::new();
            for _ in 0..chunks.len() {
                let frame = once.frame().await.unwrap().unwrap();
                seen.extend_from_slice(&frame.into_data().unwrap());
            }
            assert_eq!(seen, chunks.concat());
        }
    }

    #[tokio::test]
    async fn an_empty_body_is_replayable() {
        let Prepared::Replayable(bytes) = prepare(Body::empty(), 4).await.unwrap() else {
            panic!("expected a replayable body")
        };
        assert!(bytes.is_empty());
    }
}
