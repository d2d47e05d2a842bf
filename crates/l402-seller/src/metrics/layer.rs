//! The request-side metrics: a layer outside the paywall that counts each routed request by
//! service, route, the paywall's outcome and status class, and times it to its response
//! headers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{Request, Response};
use l402_server::RouteDecision;
use l402_tower::{Outcome, PaywallDecision};
use tower::{Layer, Service};

use super::{SellerMetrics, SlotTable};

/// Counts requests into [`SellerMetrics`], in the slots of the configuration in force when
/// the layer was made (build a new layer after [`SellerMetrics::reconfigure`]).
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: Arc<SellerMetrics>,
    table: Arc<SlotTable>,
}

impl MetricsLayer {
    /// A layer counting into `metrics`.
    pub fn new(metrics: Arc<SellerMetrics>) -> Self {
        let table = metrics.table();
        Self { metrics, table }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
            table: self.table.clone(),
        }
    }
}

/// The service [`MetricsLayer`] makes.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<SellerMetrics>,
    table: Arc<SlotTable>,
}

impl<S, B, RB> Service<Request<B>> for MetricsService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = Counted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let slot = request
            .extensions()
            .get::<RouteDecision>()
            .map(|d| (d.service_index, d.route));
        Counted {
            inner: self.inner.call(request),
            count: slot.map(|(service, route)| Count {
                metrics: self.metrics.clone(),
                table: self.table.clone(),
                service,
                route,
                started: Instant::now(),
            }),
        }
    }
}

/// What to count once the response is there.
#[derive(Debug)]
struct Count {
    metrics: Arc<SellerMetrics>,
    table: Arc<SlotTable>,
    service: usize,
    route: Option<usize>,
    started: Instant,
}

pin_project_lite::pin_project! {
    /// The inner service's future, counted when it completes.
    #[derive(Debug)]
    pub struct Counted<F> {
        #[pin]
        inner: F,
        count: Option<Count>,
    }
}

impl<F, RB, E> Future for Counted<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some(count) = this.count.take() {
            let took = count.started.elapsed();
            let (status, decision) = match &result {
                Ok(response) => (
                    response.status().as_u16(),
                    response.extensions().get::<PaywallDecision>().copied(),
                ),
                Err(_) => (500, None),
            };
            // No decision: the pricer made no offer (a free path or free route).
            let outcome = decision.map_or(Outcome::Free, |d| d.outcome);
            if let Some(d) = decision {
                count.metrics.decision(d.took);
            }
            count
                .table
                .request(count.service, count.route, outcome, status, took);
        }
        Poll::Ready(result)
    }
}
