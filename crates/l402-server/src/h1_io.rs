//! Socket IO shared by both sides of our HTTP/1.1 code (the upstream connections of
//! [`crate::forward`] and the client connections of the server): reading into a buffer that
//! grows with the traffic, and writing one message, head and body framed as announced.
//! The wire format is [`l402_h1`]'s.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderName;
use http_body::{Body as _, Frame};
use l402_h1::Framing;
use l402_h1::encode::{self, CHUNK_END};
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::body::{Body, BoxError};

/// The read buffer's first size: one read takes a usual message whole.
pub(crate) const READ_CAPACITY: usize = 8 * 1024;

/// The largest read: a long body is read in ever larger pieces (each read that fills the room
/// it had doubles the next), up to this.
const MAX_READ: usize = 128 * 1024;

/// Data frames up to this size are copied behind the head or the chunk-size line, so that a
/// small message goes out in one write; larger ones are written from their own buffer.
pub(crate) const COPY_LIMIT: usize = 16 * 1024;

/// Reads what `io` has into `buf`: the number of bytes read, 0 at the connection's end.
/// `read_size` is the room a read gets, doubled (up to 128 KiB) by each read that fills it.
///
/// A read that does not fill its room has emptied the socket, and says so to the runtime (as
/// tokio's own `poll_read` does): the next wait for bytes then costs no read that finds none.
/// (`try_read_buf` leaves the readiness set until a read fails with `WouldBlock`, which is one
/// more system call per message.)
pub(crate) fn poll_fill(
    io: &TcpStream,
    buf: &mut BytesMut,
    read_size: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    loop {
        // Room only once there is something to read: a connection waiting for its next
        // request holds no buffer.
        ready!(io.poll_read_ready(cx))?;
        if buf.capacity() - buf.len() < *read_size / 4 {
            buf.reserve(*read_size);
        }
        let room = buf.capacity() - buf.len();
        let mut short = None;
        // The read inside a `try_io` of its own: the readiness cleared on a short read is the
        // one seen before the read.
        let read = io.try_io(Interest::READABLE, || {
            let n = io.try_read_buf(buf)?;
            // (Not on Windows, where tokio does not take a short read as proof either.)
            if n < room && cfg!(not(windows)) {
                // Emptied: `WouldBlock` makes `try_io` clear the readiness it saw before
                // the read (a later arrival keeps its own).
                short = Some(n);
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        });
        match (read, short) {
            (_, Some(n)) => return Poll::Ready(Ok(n)),
            (Err(e), None)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            (Ok(n), None) => {
                *read_size = (*read_size * 2).min(MAX_READ);
                return Poll::Ready(Ok(n));
            }
            (Err(e), None) => return Poll::Ready(Err(e)),
        }
    }
}

/// Where a message is written: a socket (tests write elsewhere).
pub(crate) trait WriteTarget {
    /// Writes some of `bufs`, in order; the number of bytes written.
    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
}

impl WriteTarget for TcpStream {
    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.poll_write_ready(cx))?;
            match self.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

/// Why a message could not be written.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    Io(io::Error),
    /// The body failed (its error kept: the size limit's error becomes a 413).
    Body(BoxError),
    /// The body's length differs from the length its framing announced.
    Length,
}

/// Which trailers a chunked body sends.
pub(crate) enum Trailers {
    /// Every trailer the body gives (a request to an upstream).
    All,
    /// Only those the head declared in its `Trailer` header (an answer to a client).
    Declared(Vec<HeaderName>),
}

/// What is written when the body fails or disagrees with its length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnBodyFailure {
    /// Nothing more: the failure is returned at once (a request, which an upstream must not
    /// take as whole).
    Stop,
    /// What was staged before it, then the failure (an answer, whose client then sees the
    /// head and what came, as from hyper); a body longer than its length is cut to it.
    WriteStaged,
}

/// Writes one message: the head, then the body framed as announced.
pub(crate) struct MessageWriter {
    /// Encoded bytes not yet written, from `pos`.
    staged: Vec<u8>,
    pos: usize,
    /// A large data frame, written after `staged`, then `data_end`.
    data: Bytes,
    data_end: &'static [u8],
    /// The body, until it has ended.
    body: Option<Body>,
    framing: Framing,
    /// For a length: the bytes the body still owes.
    owed: u64,
    trailers: Trailers,
    on_failure: OnBodyFailure,
    /// A failure to return once the staged bytes are written ([`OnBodyFailure::WriteStaged`]).
    failed: Option<WriteFailure>,
}

impl MessageWriter {
    /// A writer of the encoded `head`, then of `body` (when there is one to write) framed by
    /// `framing`.
    pub(crate) fn new(
        head: Vec<u8>,
        body: Option<Body>,
        framing: Framing,
        trailers: Trailers,
        on_failure: OnBodyFailure,
    ) -> Self {
        let owed = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Self {
            staged: head,
            pos: 0,
            data: Bytes::new(),
            data_end: b"",
            body,
            framing,
            owed,
            trailers,
            on_failure,
            failed: None,
        }
    }

    /// Starts again from the first byte (for a message of a head alone, written again on
    /// another connection).
    pub(crate) fn rewind(&mut self) {
        self.pos = 0;
    }

    fn has_staged(&self) -> bool {
        self.pos < self.staged.len() || !self.data.is_empty() || !self.data_end.is_empty()
    }

    /// Writes what can be written; ready once the whole message is out.
    pub(crate) fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        io: &impl WriteTarget,
    ) -> Poll<Result<(), WriteFailure>> {
        loop {
            // Gather what the body has ready while it is small: one write for a small message.
            // Nothing is staged while a large frame (or the CRLF after it) is still to go: the
            // staged bytes are written first.
            while self.data.is_empty()
                && self.data_end.is_empty()
                && self.staged.len() - self.pos < COPY_LIMIT
            {
                let Some(body) = self.body.as_mut() else {
                    break;
                };
                let step = match Pin::new(body).poll_frame(cx) {
                    Poll::Pending => break,
                    Poll::Ready(None) => self.finish(),
                    Poll::Ready(Some(Err(e))) => Err(WriteFailure::Body(e)),
                    Poll::Ready(Some(Ok(frame))) => self.stage(frame).and_then(|()| {
                        // Ended with this frame: finish now, unless the frame is still to be
                        // written (the last chunk must follow it; the next round finishes).
                        if self.data.is_empty()
                            && self
                                .body
                                .as_ref()
                                .is_some_and(http_body::Body::is_end_stream)
                        {
                            self.finish()
                        } else {
                            Ok(())
                        }
                    }),
                };
                if let Err(failure) = step {
                    if self.on_failure == OnBodyFailure::Stop {
                        return Poll::Ready(Err(failure));
                    }
                    self.body = None;
                    self.failed = Some(failure);
                }
            }
            if !self.has_staged() {
                if let Some(failure) = self.failed.take() {
                    return Poll::Ready(Err(failure));
                }
                return match self.body {
                    None => Poll::Ready(Ok(())),
                    // The body's waker is registered.
                    Some(_) => Poll::Pending,
                };
            }
            ready!(self.poll_flush(cx, io)).map_err(WriteFailure::Io)?;
        }
    }

    fn stage(&mut self, frame: Frame<Bytes>) -> Result<(), WriteFailure> {
        let mut data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                // Trailers: only a chunked body can carry them, and they end it.
                if let (Ok(trailers), Framing::Chunked) = (frame.into_trailers(), self.framing) {
                    self.compact();
                    let trailers = match &self.trailers {
                        Trailers::All => trailers,
                        Trailers::Declared(names) => names
                            .iter()
                            .flat_map(|name| {
                                trailers
                                    .get_all(name)
                                    .iter()
                                    .map(|v| (name.clone(), v.clone()))
                            })
                            .collect(),
                    };
                    encode::encode_last_chunk(Some(&trailers), &mut self.staged);
                    self.body = None;
                }
                return Ok(());
            }
        };
        if data.is_empty() {
            return Ok(());
        }
        self.compact();
        let chunked = match self.framing {
            Framing::Chunked => {
                encode::encode_chunk_size(data.len(), &mut self.staged);
                true
            }
            Framing::Length(_)
                if data.len() as u64 > self.owed
                    && self.on_failure == OnBodyFailure::WriteStaged =>
            {
                // An answer longer than its length: cut to it (the client reads that many).
                data.truncate(self.owed as usize);
                self.owed = 0;
                self.body = None;
                false
            }
            Framing::Length(_) if data.len() as u64 <= self.owed => {
                self.owed -= data.len() as u64;
                if self.owed == 0 {
                    // All the announced bytes: the message is whole (hyper also stops here,
                    // not at the body's own end, which may come in a later frame).
                    self.body = None;
                }
                false
            }
            Framing::Length(_) | Framing::None => {
                return Err(WriteFailure::Length);
            }
        };
        if data.len() <= COPY_LIMIT {
            self.staged.extend_from_slice(&data);
            if chunked {
                self.staged.extend_from_slice(CHUNK_END);
            }
        } else {
            self.data = data;
            self.data_end = if chunked { CHUNK_END } else { b"" };
        }
        Ok(())
    }

    /// The body has ended: a length must be complete; a chunked body gets its last chunk.
    fn finish(&mut self) -> Result<(), WriteFailure> {
        self.body = None;
        match self.framing {
            Framing::Length(_) if self.owed != 0 => Err(WriteFailure::Length),
            Framing::Chunked => {
                self.compact();
                encode::encode_last_chunk(None, &mut self.staged);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Drops the written part of `staged` before more is added to it.
    fn compact(&mut self) {
        if self.pos == self.staged.len() {
            self.staged.clear();
        } else {
            self.staged.drain(..self.pos);
        }
        self.pos = 0;
    }

    /// Writes the staged bytes, the large frame and its end, in that order.
    fn poll_flush(&mut self, cx: &mut Context<'_>, io: &impl WriteTarget) -> Poll<io::Result<()>> {
        while self.has_staged() {
            let slices = [
                IoSlice::new(&self.staged[self.pos..]),
                IoSlice::new(&self.data),
                IoSlice::new(self.data_end),
            ];
            let mut written = ready!(io.poll_write_vectored(cx, &slices))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let from_staged = written.min(self.staged.len() - self.pos);
            self.pos += from_staged;
            written -= from_staged;
            let from_data = written.min(self.data.len());
            self.data.advance(from_data);
            written -= from_data;
            self.data_end = &self.data_end[written..];
        }
        Poll::Ready(Ok(()))
    }
}

/// Test helpers: a socket that takes a few bytes at a time, a body of given frames.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;

    /// A socket that takes at most `each` bytes per write and says "not now" to every other
    /// write, as a slow peer's socket does.
    pub(crate) struct Trickle {
        each: usize,
        /// What was written, and whether the last write was refused.
        pub(crate) written: Mutex<(Vec<u8>, bool)>,
    }

    impl WriteTarget for Trickle {
        fn poll_write_vectored(
            &self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut state = self.written.lock().unwrap();
            state.1 = !state.1;
            if state.1 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let mut room = self.each;
            let mut taken = 0;
            for buf in bufs {
                let n = buf.len().min(room);
                state.0.extend_from_slice(&buf[..n]);
                room -= n;
                taken += n;
            }
            Poll::Ready(Ok(taken))
        }
    }

    /// Drives `send` against a socket taking `each` bytes at a time until it is done: what
    /// went out.
    pub(crate) fn trickled(
        each: usize,
        mut send: impl FnMut(&mut Context<'_>, &Trickle) -> Poll<Result<(), WriteFailure>>,
    ) -> Result<Vec<u8>, WriteFailure> {
        let target = Trickle {
            each,
            written: Mutex::new((Vec::new(), false)),
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        loop {
            if let Poll::Ready(sent) = send(&mut cx, &target) {
                sent?;
                return Ok(target.written.into_inner().unwrap().0);
            }
        }
    }

    /// A body that hands out its frames at once.
    pub(crate) struct Frames(pub(crate) VecDeque<Frame<Bytes>>);

    impl http_body::Body for Frames {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }

        fn is_end_stream(&self) -> bool {
            self.0.is_empty()
        }
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};
    use tokio::io::AsyncWriteExt;

    use super::testing::{Frames, trickled};
    use super::*;

    #[tokio::test]
    async fn bytes_that_come_after_a_read_that_emptied_the_socket_are_still_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut peer = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (io, _) = listener.accept().await.unwrap();
        let mut buf = BytesMut::new();
        let mut read_size = READ_CAPACITY;
        for (i, piece) in [&b"first"[..], b"second", b"", b"third"].iter().enumerate() {
            if piece.is_empty() {
                // Nothing sent: the wait must not end on its own.
                let waited = tokio::time::timeout(
                    std::time::Duration::from_millis(100),
                    std::future::poll_fn(|cx| poll_fill(&io, &mut buf, &mut read_size, cx)),
                )
                .await;
                assert!(waited.is_err(), "a read with nothing sent: {waited:?}");
                continue;
            }
            peer.write_all(piece).await.unwrap();
            let n = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                std::future::poll_fn(|cx| poll_fill(&io, &mut buf, &mut read_size, cx)),
            )
            .await
            .unwrap_or_else(|_| panic!("piece {i} never read"))
            .unwrap();
            assert_eq!(&buf.split_to(n)[..], *piece);
        }
        drop(peer);
        let end = std::future::poll_fn(|cx| poll_fill(&io, &mut buf, &mut read_size, cx))
            .await
            .unwrap();
        assert_eq!(end, 0, "the close reads as 0");
    }

    #[test]
    fn an_answer_sends_only_the_trailers_its_head_declared() {
        let mut trailers = HeaderMap::new();
        trailers.append("x-sum", HeaderValue::from_static("1"));
        trailers.append("x-sum", HeaderValue::from_static("2"));
        trailers.insert("x-secret", HeaderValue::from_static("no"));
        let body = || {
            Body::new(Frames(
                [
                    Frame::data(Bytes::from_static(b"abc")),
                    Frame::trailers(trailers.clone()),
                ]
                .into(),
            ))
        };
        for each in [1, 3, 1000] {
            let mut writer = MessageWriter::new(
                b"HEAD\r\n".to_vec(),
                Some(body()),
                Framing::Chunked,
                Trailers::Declared(vec![HeaderName::from_static("x-sum")]),
                OnBodyFailure::WriteStaged,
            );
            let wire = trickled(each, |cx, target| writer.poll_send(cx, target)).unwrap();
            assert_eq!(
                wire, b"HEAD\r\n3\r\nabc\r\n0\r\nx-sum: 1\r\nx-sum: 2\r\n\r\n",
                "writes of {each}"
            );
        }
    }

    #[test]
    fn a_request_body_off_its_length_fails_with_nothing_written_and_an_answer_s_is_cut_or_sent_to_where_it_failed()
     {
        let frames = |parts: &[&'static [u8]]| {
            Some(Body::new(Frames(
                parts
                    .iter()
                    .map(|p| Frame::data(Bytes::from_static(p)))
                    .collect(),
            )))
        };
        let send = |body, on_failure| {
            let mut writer = MessageWriter::new(
                b"H\r\n".to_vec(),
                body,
                Framing::Length(3),
                Trailers::All,
                on_failure,
            );
            trickled(10, |cx, target| writer.poll_send(cx, target))
        };
        // Short, and long: a request fails before a byte is written.
        for parts in [&[&b"ab"[..]][..], &[b"ab", b"cd"]] {
            assert!(matches!(
                send(frames(parts), OnBodyFailure::Stop),
                Err(WriteFailure::Length)
            ));
        }
        // An answer short of its length: the head and what came, then the failure.
        let mut sent = Vec::new();
        let mut writer = MessageWriter::new(
            b"H\r\n".to_vec(),
            frames(&[b"ab"]),
            Framing::Length(3),
            Trailers::All,
            OnBodyFailure::WriteStaged,
        );
        let outcome = trickled(10, |cx, target| {
            let step = writer.poll_send(cx, target);
            if step.is_ready() {
                sent = target.written.lock().unwrap().0.clone();
            }
            step
        });
        assert!(matches!(outcome, Err(WriteFailure::Length)));
        assert_eq!(sent, b"H\r\nab");
        // Longer than its length: cut to it, and whole.
        assert_eq!(
            send(frames(&[b"ab", b"cdef"]), OnBodyFailure::WriteStaged).unwrap(),
            b"H\r\nabc"
        );
    }
}
