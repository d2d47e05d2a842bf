//! Plain-TCP client connections read and answered by our own HTTP/1.1 code
//! ([`l402_h1::server`]), one request after another, in the connection's task.
//!
//! Only plain requests are read here: HTTP/1.1 with a body of known length or none. The first
//! one that is not (HTTP/1.0, a protocol upgrade, `Expect: 100-continue`, a chunked upload,
//! HTTP/2's connection preface, a malformed or oversized head) hands the connection, from that
//! request on, to hyper's server ([`super::conn::serve_io`]), which reads it again from its
//! first byte. TLS connections go to hyper from the start.
//!
//! The timeouts are the listener's: the first request's head must be whole within
//! `header_read_timeout` of the accept, a later one within `header_read_timeout` of its first
//! byte, and a connection waiting for a request closes after `idle_timeout`. One timer per
//! connection, moved only when it fires early.

mod body;
mod date;
mod rewind;
mod spare;

use std::future::poll_fn;
use std::sync::Arc;

use bytes::BytesMut;
use http::header::CONNECTION;
use http::{Request, Response, StatusCode};
use http_body::Body as _;
use l402_h1::Framing;
use l402_h1::server::{self, RequestHead};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::ProxyService;
use super::conn::Accepted;
use crate::body::Body;
use crate::h1_io::{MessageWriter, OnBodyFailure, READ_CAPACITY, Trailers, poll_fill};
use crate::shutdown::PhaseWatch;
use body::ClientBody;
use rewind::Rewind;

/// How a connection served here ended.
enum Ended {
    /// Closed (or to be closed): the client left, a timeout, the shutdown, an error.
    Closed,
    /// A request this code does not read: hyper serves the connection from these bytes on.
    Handoff(BytesMut),
}

/// The start of HTTP/2's connection preface, which [`server::parse_request`] declines as not
/// HTTP/1.1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// Serves one accepted plain-TCP connection until it closes, the server stops, or it is
/// handed to hyper.
pub(super) async fn serve<S>(tcp: TcpStream, mut accepted: Accepted<S>)
where
    S: ProxyService,
{
    let io = Arc::new(tcp);
    let phases = accepted.draining.watch();
    let ended = run(&io, &accepted, &phases).await;
    drop(phases);
    match ended {
        Ended::Closed => {
            // The end of the stream after the last answer, even if a request body still
            // holds the socket.
            let _ = rewind::half_close(&io);
        }
        Ended::Handoff(buf) => {
            accepted.first_request = Instant::now() + accepted.params.header_read_timeout;
            let io = Rewind::new(buf.freeze(), io);
            // Boxed: hyper's connection is several times the size of this loop, and would
            // otherwise size every plain connection's task.
            Box::pin(super::conn::serve_io(io, accepted)).await;
        }
    }
}

/// The connection's request loop.
async fn run<S>(io: &Arc<TcpStream>, accepted: &Accepted<S>, phases: &PhaseWatch) -> Ended
where
    S: ProxyService,
{
    let Accepted {
        info,
        first_request,
        params,
        current,
        ..
    } = accepted;
    let (info, first_request) = (*info, *first_request);
    let mut buf = BytesMut::new();
    let mut read_size = READ_CAPACITY;
    let mut closing = false;
    let timer = tokio::time::sleep_until(first_request);
    tokio::pin!(timer);
    // When the last answer was written (`None` before the first request).
    let mut idle_since: Option<Instant> = None;
    // When the bytes of an unfinished head were first waited on.
    let mut partial_since: Option<Instant> = None;
    loop {
        // Read a head.
        let head = loop {
            if !buf.is_empty() {
                match server::parse_request(&mut buf, params.max_head_bytes) {
                    Ok(Some(head)) => break head,
                    Ok(None) => {}
                    Err(_) if closing => return Ended::Closed,
                    // HTTP/2 begins a connection or not at all: once a request was answered
                    // in HTTP/1.1, the preface is an error, and the connection closes (as
                    // hyper's HTTP/1 server closes it).
                    Err(_) if idle_since.is_some() && buf.starts_with(H2_PREFACE) => {
                        tracing::debug!(client = %info.remote, "HTTP/2 preface on an HTTP/1.1 connection; closing");
                        return Ended::Closed;
                    }
                    Err(declined) => {
                        tracing::debug!(client = %info.remote, reason = %declined, "handing the connection to hyper");
                        return Ended::Handoff(buf);
                    }
                }
            } else if closing {
                return Ended::Closed;
            }
            // What the wait may last: the first request's deadline, the header read timeout
            // once a head has begun, or the idle timeout.
            let due = match idle_since {
                None => Some(first_request),
                Some(_) if !buf.is_empty() => {
                    let since = *partial_since.get_or_insert_with(Instant::now);
                    Some(since + params.header_read_timeout)
                }
                Some(since) => params.idle_timeout.map(|idle| since + idle),
            };
            if let Some(due) = due
                && timer.deadline() > due
            {
                timer.as_mut().reset(due);
            }
            tokio::select! {
                biased;
                read = poll_fn(|cx| wait_and_fill(io, &mut buf, &mut read_size, cx)) => match read {
                    Ok(0) | Err(_) => return Ended::Closed,
                    Ok(_) => {}
                },
                () = timer.as_mut(), if due.is_some() => {
                    let due = due.unwrap_or_else(Instant::now);
                    if Instant::now() >= due {
                        if idle_since.is_none() || !buf.is_empty() {
                            tracing::debug!(client = %info.remote, "no complete request within header_read_timeout; closing");
                        } else {
                            tracing::debug!(client = %info.remote, "idle timeout; closing");
                        }
                        return Ended::Closed;
                    }
                    timer.as_mut().reset(due);
                }
                () = poll_fn(|cx| phases.poll_draining(cx)), if !closing => closing = true,
                () = poll_fn(|cx| phases.poll_stopped(cx)) => return Ended::Closed,
            }
        };
        partial_since = None;

        // Answer it.
        let RequestHead {
            method,
            uri,
            headers,
            body_len,
            keep_alive,
            // As hyper: trailers only to a client that said it takes them.
            takes_trailers,
        } = head;
        let body = ClientBody::new(body_len, &mut buf, read_size, io);
        let streaming = match &body {
            ClientBody::Streaming(streaming) => Some(Arc::clone(streaming)),
            _ => None,
        };
        let mut req = Request::new(body);
        *req.method_mut() = method.clone();
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        // While the request runs and its answer is written, the socket is watched ([`Beside`]).
        let watching = streaming.is_none();
        let read_ahead = params.max_head_bytes;
        let stack = current.load().stack.clone();
        let mut beside = Beside {
            io,
            buf: &mut buf,
            read_size: &mut read_size,
            read_ahead,
            watching,
            closing: &mut closing,
        };
        // Boxed, so that a connection waiting for its next request does not hold room for
        // one being handled (an allocation per request against kilobytes per idle connection).
        let handling = Box::pin(stack.handle(req, info));
        let response = match beside.run(handling, phases).await {
            Ok(response) => response,
            Err(cut) => {
                tracing::debug!(client = %info.remote, "{cut}; the request is dropped");
                return Ended::Closed;
            }
        };
        let response = no_interim(response);
        let close = *beside.closing
            || !keep_alive
            || l402_h1::lists_token(response.headers(), &CONNECTION, "close");
        let (parts, body) = response.into_parts();
        let framing = server::response_framing(
            &method,
            parts.status,
            &parts.headers,
            body.size_hint().exact(),
        );
        let mut head = Vec::new();
        date::with_date(|date| {
            server::encode_response_head(
                &method,
                parts.status,
                &parts.headers,
                framing,
                close,
                date,
                &mut head,
            );
        });
        let (body, trailers) = match framing {
            Framing::None | Framing::Length(0) => (None, Trailers::All),
            Framing::Length(_) => (Some(body), Trailers::All),
            Framing::Chunked if takes_trailers => (
                Some(body),
                Trailers::Declared(server::declared_trailers(&parts.headers)),
            ),
            Framing::Chunked => (Some(body), Trailers::Declared(Vec::new())),
        };
        drop(parts);
        let mut writer =
            MessageWriter::new(head, body, framing, trailers, OnBodyFailure::WriteStaged);
        let sending = poll_fn(|cx| writer.poll_send(cx, &**io));
        let sent = match beside.run(sending, phases).await {
            Ok(sent) => sent,
            Err(cut) => {
                tracing::debug!(client = %info.remote, "{cut} during the answer");
                return Ended::Closed;
            }
        };
        drop(writer);
        if let Err(e) = sent {
            tracing::debug!(client = %info.remote, error = ?e, "the answer could not be sent whole; closing");
            return Ended::Closed;
        }
        if let Some(streaming) = streaming {
            match streaming.reclaim() {
                Some(rest) => buf = rest,
                None => return Ended::Closed,
            }
        }
        if close {
            return Ended::Closed;
        }
        read_size = READ_CAPACITY;
        idle_since = Some(Instant::now());
    }
}

/// Reads into `buf` ([`poll_fill`]). A connection waiting for its next request gives its
/// empty buffer back to the thread's [`spare`] buffers, and takes one once there is something
/// to read: an idle connection holds no read buffer.
fn wait_and_fill(
    io: &TcpStream,
    buf: &mut BytesMut,
    read_size: &mut usize,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<std::io::Result<usize>> {
    if buf.capacity() == 0 {
        std::task::ready!(io.poll_read_ready(cx))?;
        *buf = spare::take();
    }
    let filled = poll_fill(io, buf, read_size, cx);
    if filled.is_pending() && buf.is_empty() {
        spare::give_back(std::mem::take(buf));
    }
    filled
}

/// Why a request's work stopped before its end.
#[derive(Debug)]
enum Cut {
    ClientGone,
    Stopped,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ClientGone => "the client closed the connection",
            Self::Stopped => "the server stopped",
        })
    }
}

/// What goes on beside a request's work (running it, writing its answer): the watch on the
/// client's socket (unless the body reads it: a client that leaves drops its request, as with
/// hyper; what it pipelines meanwhile waits in `buf`, up to `read_ahead` bytes), the drain
/// (which marks the connection `closing`) and the stop.
struct Beside<'a> {
    io: &'a TcpStream,
    buf: &'a mut BytesMut,
    read_size: &'a mut usize,
    read_ahead: usize,
    watching: bool,
    closing: &'a mut bool,
}

impl Beside<'_> {
    /// Runs `work` to its end, unless the client leaves or the server stops.
    async fn run<F>(&mut self, work: F, phases: &PhaseWatch) -> Result<F::Output, Cut>
    where
        F: std::future::Future,
    {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                done = work.as_mut() => return Ok(done),
                () = poll_fn(|cx| poll_gone(self.io, self.buf, self.read_size, self.read_ahead, cx)), if self.watching => {
                    return Err(Cut::ClientGone);
                }
                () = poll_fn(|cx| phases.poll_draining(cx)), if !*self.closing => *self.closing = true,
                () = poll_fn(|cx| phases.poll_stopped(cx)) => return Err(Cut::Stopped),
            }
        }
    }
}

/// Ready when the client has closed the connection (or it failed); what it sends meanwhile is
/// read into `buf`, until `buf` holds `limit` bytes (then the socket is left alone).
fn poll_gone(
    io: &TcpStream,
    buf: &mut BytesMut,
    read_size: &mut usize,
    limit: usize,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<()> {
    while buf.len() < limit {
        match std::task::ready!(poll_fill(io, buf, read_size, cx)) {
            Ok(0) | Err(_) => return std::task::Poll::Ready(()),
            Ok(_) => {}
        }
    }
    std::task::Poll::Pending
}

/// An interim (1xx) status cannot be the answer to a request: hyper answers 500 instead, and
/// so does this.
fn no_interim(response: Response<Body>) -> Response<Body> {
    if !response.status().is_informational() {
        return response;
    }
    tracing::warn!(
        status = response.status().as_u16(),
        "an interim status is not an answer; sending 500"
    );
    crate::response::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the request could not be processed",
        None,
        false,
    )
}
