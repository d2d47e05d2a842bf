//! The body of a client's request read by our own HTTP/1.1 code: nothing, bytes already read
//! with the head, or the rest read from the socket as the body is polled (by the request's own
//! task, or by the task that finishes an upload the upstream answered early).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use tokio::net::TcpStream;

use crate::h1_io::poll_fill;

/// What an unread body may still be drained of, without waiting, for the connection to carry
/// another request: more, or more than has arrived, and the connection closes instead.
const DRAIN_LIMIT: usize = 64 * 1024;

/// A request body of a known length (`Content-Length`, or none).
pub(super) enum ClientBody {
    /// No body, or one already read.
    Done,
    /// The whole body, read with the head.
    Whole(Bytes),
    /// A body still arriving on the socket.
    Streaming(Arc<Streaming>),
}

/// A body being read from the connection, shared by the body and the connection: the
/// connection takes its read buffer back once the answer has been written.
pub(super) struct Streaming {
    io: Arc<TcpStream>,
    state: Mutex<State>,
}

struct State {
    /// The connection's read buffer: the body's next bytes, then the next request's.
    buf: BytesMut,
    read_size: usize,
    /// The body's bytes not yet handed out.
    remaining: u64,
    /// The connection has moved on: the body must not read any more.
    reclaimed: bool,
}

impl ClientBody {
    /// The body of `len` bytes that starts at the front of `buf`: what it needs of `buf` is
    /// taken (all of it, when the body is not all there).
    pub(super) fn new(len: u64, buf: &mut BytesMut, read_size: usize, io: &Arc<TcpStream>) -> Self {
        if len == 0 {
            return Self::Done;
        }
        if len <= buf.len() as u64 {
            return Self::Whole(buf.split_to(len as usize).freeze());
        }
        Self::Streaming(Arc::new(Streaming {
            io: Arc::clone(io),
            state: Mutex::new(State {
                buf: std::mem::take(buf),
                read_size,
                remaining: len,
                reclaimed: false,
            }),
        }))
    }
}

impl Streaming {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoned only by a panic between two plain assignments: the state is whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the connection's read buffer back once the answer is out. A body not read to its
    /// end is drained from what has arrived, up to [`DRAIN_LIMIT`], never waiting; `None` when
    /// it could not be, and the connection must close. The body fails if polled again.
    pub(super) fn reclaim(&self) -> Option<BytesMut> {
        let mut state = self.lock();
        state.reclaimed = true;
        let mut drained = 0;
        loop {
            let here = state.remaining.min(state.buf.len() as u64) as usize;
            state.buf.advance(here);
            state.remaining -= here as u64;
            drained += here;
            if state.remaining == 0 {
                return Some(std::mem::take(&mut state.buf));
            }
            if drained > DRAIN_LIMIT {
                return None;
            }
            match read_now(&self.io, &mut state.buf) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}

/// Reads what the socket holds now into `buf`, never waiting: a read on the socket itself, as
/// the runtime's readiness may not have seen bytes that arrived since the body's last read.
fn read_now(io: &TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
    let mut chunk = [0u8; 8192];
    let n = std::io::Read::read(&mut &*socket2::SockRef::from(io), &mut chunk)?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

impl http_body::Body for ClientBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let streaming = match &mut *self {
            Self::Done => return Poll::Ready(None),
            Self::Whole(data) => {
                let data = std::mem::take(data);
                *self = Self::Done;
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            Self::Streaming(streaming) => Arc::clone(streaming),
        };
        let mut state = streaming.lock();
        if state.remaining == 0 {
            return Poll::Ready(None);
        }
        if state.reclaimed {
            return Poll::Ready(Some(Err(io::Error::other(
                "the request body was not read before its answer was sent",
            ))));
        }
        loop {
            if !state.buf.is_empty() {
                let n = state.remaining.min(state.buf.len() as u64) as usize;
                state.remaining -= n as u64;
                let data = state.buf.split_to(n).freeze();
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            let State { buf, read_size, .. } = &mut *state;
            if ready!(poll_fill(&streaming.io, buf, read_size, cx))? == 0 {
                return Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection before the end of the request body",
                ))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Done => true,
            Self::Whole(_) => false,
            Self::Streaming(streaming) => streaming.lock().remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(match self {
            Self::Done => 0,
            Self::Whole(data) => data.len() as u64,
            Self::Streaming(streaming) => streaming.lock().remaining,
        })
    }
}
