//! Measures what a metered request used and settles its [`BalanceReservation`]: the [`MeterLayer`]
//! sits between the paywall and the upstream, tells the upstream the most units it may bill
//! (`X-L402-Max-Units`), asks for an uncompressed answer (so a stream's last event can be read),
//! and wraps the response body in [`Metered`], which reads the usage report as the body passes
//! and settles once: when the body ends, or when it is dropped unfinished.
//!
//! The usage report, in the order read (the last one wins):
//! 1. the response header `L402-Usage: <units>`;
//! 2. the trailer `L402-Usage: <units>`;
//! 3. for `text/event-stream`, the last event `event: l402-usage` with `data: {"units": N}`.
//!
//! A successful (2xx) answer with no report is billed its whole reservation; any other answer
//! with no report is billed nothing. Usage above the reservation is billed as the reservation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Buf;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};

use crate::session::{BalanceReservation, MAX_UNITS_HEADER, USAGE_EVENT, USAGE_HEADER};

/// The most of a stream's end kept to find its usage event.
const TAIL_BYTES: usize = 4096;

/// Settles metered requests. It tells the upstream the most units it may bill
/// (`X-L402-Max-Units`), asks for an uncompressed answer, and wraps the response body in
/// [`Metered`], which reads the usage report (the `L402-Usage` header, then trailer, then for
/// `text/event-stream` the last `event: l402-usage` with `data: {"units": N}`; the last one read
/// wins) and settles once, when the body ends or is dropped unfinished. A 2xx answer with no
/// report is billed its whole reservation, any other answer with no report nothing. Requests
/// without a [`BalanceReservation`] pass untouched.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeterLayer;

impl<S> Layer<S> for MeterLayer {
    type Service = MeterService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        MeterService(inner)
    }
}

/// The service [`MeterLayer`] makes.
#[derive(Debug, Clone)]
pub struct MeterService<S>(S);

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for MeterService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<Metered<ResBody>>;
    type Error = S::Error;
    type Future = MeterFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let reservation = request.extensions().get::<BalanceReservation>().cloned();
        if let Some(r) = &reservation {
            let headers = request.headers_mut();
            headers.remove(http::header::ACCEPT_ENCODING);
            headers.insert(
                MAX_UNITS_HEADER,
                HeaderValue::from(r.metering.reserve_units),
            );
        }
        MeterFuture {
            inner: self.0.call(request),
            reservation,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`MeterService`]: the inner service's, its response body wrapped in
    /// [`Metered`] (no allocation for requests that are not metered).
    pub struct MeterFuture<F> {
        #[pin]
        inner: F,
        reservation: Option<BalanceReservation>,
    }
}

impl<F: std::fmt::Debug> std::fmt::Debug for MeterFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeterFuture")
            .field("inner", &self.inner)
            .field("metered", &self.reservation.is_some())
            .finish()
    }
}

impl<F, B, E> Future for MeterFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<Metered<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let meter = this.reservation.take().map(|reservation| Meter {
            units: usage_of(response.headers()),
            success: response.status().is_success(),
            sse: is_event_stream(response.headers()),
            tail: Vec::new(),
            reservation: Some(reservation),
        });
        Poll::Ready(Ok(response.map(|inner| Metered { inner, meter })))
    }
}

/// `L402-Usage` as units, if present and a decimal integer.
fn usage_of(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(USAGE_HEADER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("text/event-stream"))
}

/// The units of the last `l402-usage` event in a stream's tail.
fn usage_event(tail: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(tail).replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|event| {
            let mut name = None;
            let mut data = String::new();
            for line in event.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = Some(v.trim());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            (name == Some(USAGE_EVENT)).then_some(data)
        })
        .filter_map(|data| {
            serde_json::from_str::<serde_json::Value>(&data)
                .ok()?
                .get("units")?
                .as_u64()
        })
        .last()
}

/// What a metered response has reported so far; settles its reservation once.
struct Meter {
    units: Option<u64>,
    success: bool,
    sse: bool,
    tail: Vec<u8>,
    /// Taken when settled.
    reservation: Option<BalanceReservation>,
}

impl Meter {
    fn observe<D: Buf>(&mut self, data: &D) {
        if !self.sse {
            return;
        }
        let chunk = data.chunk();
        // A frame's data may span several chunks; the first is enough for usage events,
        // which upstreams write in one piece at the end.
        self.tail.extend_from_slice(chunk);
        if self.tail.len() > TAIL_BYTES {
            let cut = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..cut);
        }
    }

    fn finish(&mut self, complete: bool) {
        let Some(reservation) = self.reservation.take() else {
            return;
        };
        let reported = if self.sse {
            usage_event(&self.tail).or(self.units)
        } else {
            self.units
        };
        let units = match reported {
            Some(units) => Some(units),
            None if self.success || !complete => None,
            None => Some(0),
        };
        reservation.settle(units);
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.finish(false);
    }
}

pin_project_lite::pin_project! {
    /// A response body that settles its request's reservation when it ends (see
    /// [`MeterLayer`]); a plain pass-through for requests that are not metered.
    pub struct Metered<B> {
        #[pin]
        inner: B,
        meter: Option<Meter>,
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for Metered<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metered")
            .field("inner", &self.inner)
            .field("metered", &self.meter.is_some())
            .finish()
    }
}

impl<B: Body> Body for Metered<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Some(meter) = this.meter.as_mut() {
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        meter.observe(data);
                    } else if let Some(units) = frame.trailers_ref().and_then(usage_of) {
                        meter.units = Some(units);
                    }
                }
                Poll::Ready(None) => meter.finish(true),
                _ => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_usage_event_is_read_across_line_endings() {
        let tail = b"data: {\"token\":\"a\"}\n\nevent: l402-usage\ndata: {\"units\": 3}\n\n\
                     event: l402-usage\r\ndata: {\"units\":7}\r\n\r\ndata: [DONE]\n\n";
        assert_eq!(usage_event(tail), Some(7));
        assert_eq!(usage_event(b"event: other\ndata: {\"units\":1}\n\n"), None);
        assert_eq!(usage_event(b"event: l402-usage\ndata: nope\n\n"), None);
    }

    #[test]
    fn usage_header_is_a_decimal_integer() {
        let mut h = HeaderMap::new();
        assert_eq!(usage_of(&h), None);
        h.insert(USAGE_HEADER, HeaderValue::from_static(" 12 "));
        assert_eq!(usage_of(&h), Some(12));
        h.insert(USAGE_HEADER, HeaderValue::from_static("-1"));
        assert_eq!(usage_of(&h), None);
    }
}
