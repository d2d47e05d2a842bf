//! One HTTP/1.1 connection to a plain `http://` upstream, driven by the task of the request it
//! carries (no task of its own): the request's task writes the request, reads the answer's head
//! and then, through the answer's body, the rest of the answer. The wire format is
//! [`l402_h1`]'s; this module does the socket IO.
//!
//! An upstream may answer before it has read the whole request body (a 413 to an upload, or an
//! upstream that streams its answer as it reads): the rest of the body is then sent by a task
//! of its own, so that the upload never waits for the answer to be read (a client may send its
//! whole upload before it reads anything). The connection goes back to the pool only if that
//! upload ended before the answer did; a request body that fails (the size limit, a client gone)
//! fails the answer's body too, as the upstream would otherwise wait for bytes that never come.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::{Method, Request, Response};
use http_body::{Frame, SizeHint};
use l402_h1::request;
use l402_h1::{BodyDecoder, Decoded, Framing, ResponseHead, response};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use super::h1_pool::{H1Error, PoolInner};
use crate::body::Body;
use crate::h1_io::{
    MessageWriter, OnBodyFailure, READ_CAPACITY, Trailers, WriteFailure, WriteTarget, poll_fill,
};

/// An open connection and what has been read from it but not yet used.
pub(crate) struct Conn {
    /// Shared with the task that finishes an upload the upstream answered early.
    io: Arc<TcpStream>,
    buf: BytesMut,
    /// How much room the next read gets.
    read_size: usize,
}

impl Conn {
    pub(crate) fn new(io: TcpStream) -> Self {
        Self {
            io: Arc::new(io),
            buf: BytesMut::new(),
            read_size: READ_CAPACITY,
        }
    }

    /// True when an idle connection can carry a request: the upstream has neither closed it
    /// nor sent anything on it (as far as the runtime has seen). Never waits, and spends none
    /// of the task's budget.
    pub(crate) fn is_open(&mut self) -> bool {
        match self.io.try_read_buf(&mut self.buf) {
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
            // The close, or bytes nobody asked for.
            Ok(_) => false,
        }
    }

    /// Reads what the socket has into the buffer: the number of bytes read, 0 at the
    /// connection's end.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        poll_fill(&self.io, &mut self.buf, &mut self.read_size, cx)
    }
}

/// Writes one request: a [`MessageWriter`] that knows whether the request may be sent again.
pub(crate) struct RequestWriter {
    message: MessageWriter,
    /// The request is idempotent and had no body: its bytes are the head alone and can be
    /// written again on another connection.
    replayable: bool,
}

impl RequestWriter {
    /// Encodes the head of `req` (origin-form URI).
    pub(crate) fn new(req: Request<Body>) -> (Self, Method) {
        let (parts, body) = req.into_parts();
        let ended = http_body::Body::is_end_stream(&body);
        let framing = Framing::for_request(
            &parts.method,
            &parts.headers,
            ended,
            http_body::Body::size_hint(&body).exact(),
        );
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        // `encode_head` allocates once, to the head's size.
        let mut head = Vec::new();
        request::encode_head(&parts.method, target, &parts.headers, framing, &mut head);
        let bodiless = ended && !matches!(framing, Framing::Length(1..));
        // Only an idempotent request may be sent twice (RFC 9110 §9.2.2).
        let replayable = bodiless && parts.method.is_idempotent();
        let body = (!bodiless).then_some(body);
        let writer = Self {
            message: MessageWriter::new(head, body, framing, Trailers::All, OnBodyFailure::Stop),
            replayable,
        };
        (writer, parts.method)
    }

    /// The same request, to be written again from its start, when it may be.
    fn rewound(mut self) -> Option<Self> {
        self.replayable.then(|| {
            self.message.rewind();
            self
        })
    }

    /// Writes what can be written; ready once the whole request is out.
    pub(crate) fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        io: &impl WriteTarget,
    ) -> Poll<Result<(), WriteFailure>> {
        self.message.poll_send(cx, io)
    }
}

/// A request that failed, with what is needed to try it again on another connection.
pub(crate) struct Failed {
    pub(crate) error: H1Error,
    /// The request, when it is idempotent, had no body, and the connection closed before a
    /// byte of an answer (not even an interim one) arrived: most likely the upstream closed an
    /// idle connection as it was reused.
    pub(crate) replay: Option<RequestWriter>,
}

/// Sends the request of `writer` on `conn` and reads the answer's head; the answer's body reads
/// the rest and gives the connection back to `pool` when it can carry another request.
pub(crate) async fn exchange(
    mut conn: Conn,
    mut writer: RequestWriter,
    method: &Method,
    pool: &Arc<PoolInner>,
) -> Result<Response<OwnBody>, Failed> {
    let mut sending = true;
    let mut write_error = None;
    let mut read_any = false;
    let head = std::future::poll_fn(|cx| {
        if sending {
            match writer.poll_send(cx, &*conn.io) {
                Poll::Ready(Ok(())) => sending = false,
                Poll::Ready(Err(WriteFailure::Io(e))) => {
                    // The upstream may have answered early and closed: read what it sent.
                    sending = false;
                    write_error = Some(e);
                }
                Poll::Ready(Err(WriteFailure::Body(e))) => {
                    return Poll::Ready(Err(H1Error::RequestBody(e)));
                }
                Poll::Ready(Err(WriteFailure::Length)) => {
                    return Poll::Ready(Err(H1Error::RequestBodyLength));
                }
                Poll::Pending => {}
            }
        }
        loop {
            if let Some(head) = response::parse(&mut conn.buf, method).map_err(H1Error::Protocol)? {
                return Poll::Ready(Ok(head));
            }
            match ready!(conn.poll_fill(cx)) {
                Ok(0) => {
                    return Poll::Ready(Err(write_error
                        .take()
                        .map_or(H1Error::Closed, H1Error::Io)));
                }
                Ok(_) => read_any = true,
                Err(e) => return Poll::Ready(Err(H1Error::Io(write_error.take().unwrap_or(e)))),
            }
        }
    })
    .await;
    let head = match head {
        Ok(head) => head,
        Err(error) => {
            let unanswered = !read_any
                && (matches!(&error, H1Error::Closed)
                    || matches!(&error, H1Error::Io(e) if is_reset(e)));
            let replay = if unanswered { writer.rewound() } else { None };
            return Err(Failed { error, replay });
        }
    };
    let ResponseHead {
        status,
        version,
        headers,
        framing,
        keep_alive,
    } = head;
    // Answered before the whole request was sent: a task of its own sends the rest.
    let upload = sending.then(|| Upload::spawn(writer, Arc::clone(&conn.io)));
    let mut body = OwnBody {
        decoder: BodyDecoder::new(framing),
        conn: Some(conn),
        upload,
        reusable: keep_alive && write_error.is_none(),
        pool: Arc::clone(pool),
    };
    if body.decoder.is_end() {
        body.finish();
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    Ok(response)
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

/// The rest of a request body the upstream answered before it had all of it, sent by a task
/// of its own.
struct Upload {
    done: oneshot::Receiver<Result<(), WriteFailure>>,
    task: AbortHandle,
}

impl Upload {
    fn spawn(mut writer: RequestWriter, io: Arc<TcpStream>) -> Self {
        let (tx, done) = oneshot::channel();
        let task = tokio::spawn(async move {
            let sent = std::future::poll_fn(|cx| writer.poll_send(cx, &*io)).await;
            let _ = tx.send(sent);
        });
        Self {
            done,
            task: task.abort_handle(),
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Once the answer is over (or dropped), nobody waits for the rest of the upload.
        self.task.abort();
    }
}

/// The body of an answer read from a [`Conn`]. Reading it to its end gives the connection back
/// to the pool (if the answer allows it, the whole request was sent and nothing else arrived);
/// dropping it before then closes the connection.
pub(crate) struct OwnBody {
    decoder: BodyDecoder,
    /// `None` once the body has ended (the connection given back or closed).
    conn: Option<Conn>,
    /// The rest of a request body the upstream answered before reading it all.
    upload: Option<Upload>,
    reusable: bool,
    pool: Arc<PoolInner>,
}

impl OwnBody {
    /// The body has ended: the connection goes back to the pool or is closed.
    fn finish(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // An upload still going (or failed) leaves the connection mid-request: closed.
        let upload_over = match self.upload.take() {
            None => true,
            Some(mut upload) => matches!(upload.done.try_recv(), Ok(Ok(()))),
        };
        if self.reusable && upload_over && conn.buf.is_empty() {
            conn.read_size = READ_CAPACITY;
            self.pool.give_back(conn);
        }
    }

    /// The answer failed: the connection is closed and an upload still going is stopped.
    fn close(&mut self) {
        self.conn = None;
        self.upload = None;
    }

    /// Keeps the connection out of the pool.
    pub(crate) fn forget_connection(&mut self) {
        self.reusable = false;
    }

    /// Checks on an early answer's upload: an error when its request body failed.
    fn poll_upload(&mut self, cx: &mut Context<'_>) -> Result<(), H1Error> {
        let Some(upload) = self.upload.as_mut() else {
            return Ok(());
        };
        let outcome = match Pin::new(&mut upload.done).poll(cx) {
            Poll::Pending => return Ok(()),
            Poll::Ready(outcome) => outcome,
        };
        self.upload = None;
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(WriteFailure::Body(e))) => Err(H1Error::RequestBody(e)),
            Ok(Err(WriteFailure::Length)) => Err(H1Error::RequestBodyLength),
            // The upstream stopped reading (it has answered): the answer goes on, the
            // connection is not reused.
            Ok(Err(WriteFailure::Io(_))) | Err(_) => {
                self.reusable = false;
                Ok(())
            }
        }
    }

    /// The next step of the answer's body, reading the connection as needed (which must be
    /// open).
    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Decoded, H1Error>> {
        // A request body that failed leaves the upstream waiting for bytes that never come.
        self.poll_upload(cx)?;
        let Some(conn) = self.conn.as_mut() else {
            return Poll::Ready(Ok(Decoded::End));
        };
        loop {
            if let Some(step) = self
                .decoder
                .decode(&mut conn.buf)
                .map_err(H1Error::Protocol)?
            {
                return Poll::Ready(Ok(step));
            }
            if ready!(conn.poll_fill(cx)).map_err(H1Error::Io)? == 0 {
                self.reusable = false;
                return Poll::Ready(
                    self.decoder
                        .decode_eof(&mut conn.buf)
                        .map_err(H1Error::Protocol),
                );
            }
        }
    }
}

impl http_body::Body for OwnBody {
    type Data = Bytes;
    type Error = H1Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, H1Error>>> {
        let this = &mut *self;
        if this.conn.is_none() {
            return Poll::Ready(None);
        }
        let frame = match ready!(this.poll_step(cx)) {
            Ok(Decoded::Data(data)) => Frame::data(data),
            Ok(Decoded::Trailers(trailers)) => Frame::trailers(trailers),
            Ok(Decoded::End) => {
                this.finish();
                return Poll::Ready(None);
            }
            Err(e) => {
                this.close();
                return Poll::Ready(Some(Err(e)));
            }
        };
        if this.decoder.is_end() {
            this.finish();
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.decoder.is_end()
    }

    fn size_hint(&self) -> SizeHint {
        match self.decoder.remaining() {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;
    use crate::h1_io::COPY_LIMIT;
    use crate::h1_io::testing::{Frames, trickled};

    /// Writes `req` to a socket taking `each` bytes at a time: what went out.
    fn written(req: Request<Body>, each: usize) -> Result<Vec<u8>, WriteFailure> {
        let (mut writer, _) = RequestWriter::new(req);
        trickled(each, |cx, target| writer.poll_send(cx, target))
    }

    fn upload(frames: Vec<Frame<Bytes>>, length: Option<&'static str>) -> Request<Body> {
        let mut req = Request::post("/up")
            .header(http::header::HOST, "up")
            .body(Body::new(Frames(frames.into())))
            .unwrap();
        if let Some(length) = length {
            req.headers_mut().insert(
                http::header::CONTENT_LENGTH,
                HeaderValue::from_static(length),
            );
        }
        req
    }

    #[test]
    fn a_chunked_upload_is_framed_right_whichever_byte_a_write_stops_at() {
        let large = Bytes::from(vec![b'L'; COPY_LIMIT + 3]);
        let mut trailers = HeaderMap::new();
        trailers.insert("x-sum", HeaderValue::from_static("9"));
        let frames = || {
            vec![
                Frame::data(large.clone()),
                Frame::data(Bytes::from_static(b"small")),
                Frame::data(large.clone()),
                Frame::trailers(trailers.clone()),
            ]
        };
        let mut expected =
            b"POST /up HTTP/1.1\r\nhost: up\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for data in [&large[..], b"small", &large[..]] {
            expected.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            expected.extend_from_slice(data);
            expected.extend_from_slice(b"\r\n");
        }
        expected.extend_from_slice(b"0\r\nx-sum: 9\r\n\r\n");
        for each in (1..=70).chain([4095, 4096, 16_387, 16_389, 1 << 20]) {
            let wire = written(upload(frames(), None), each).unwrap();
            assert!(
                wire == expected,
                "writes of {each} bytes framed the upload wrongly"
            );
        }
    }

    #[test]
    fn a_large_last_frame_goes_out_before_the_last_chunk() {
        let large = Bytes::from(vec![b'L'; COPY_LIMIT + 1]);
        for each in [1, 5, 1 << 20] {
            let wire = written(upload(vec![Frame::data(large.clone())], None), each).unwrap();
            let mut tail = format!("{:x}\r\n", large.len()).into_bytes();
            tail.extend_from_slice(&large);
            tail.extend_from_slice(b"\r\n0\r\n\r\n");
            assert!(wire.ends_with(&tail), "writes of {each} bytes");
        }
    }

    #[test]
    fn a_length_upload_stops_at_its_length_and_refuses_to_pass_it() {
        for each in [1, 7, 100_000] {
            let wire = written(
                upload(vec![Frame::data(Bytes::from_static(b"abc"))], Some("3")),
                each,
            )
            .unwrap();
            assert!(wire.ends_with(b"content-length: 3\r\n\r\nabc"));
        }
        let over = upload(
            vec![
                Frame::data(Bytes::from_static(b"abc")),
                Frame::data(Bytes::from_static(b"d")),
            ],
            Some("2"),
        );
        assert!(matches!(written(over, 5), Err(WriteFailure::Length)));
    }
}
