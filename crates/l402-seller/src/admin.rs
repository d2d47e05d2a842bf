//! The admin listener (`[admin] listen`): the operator's endpoints, apart from the paywalled
//! proxy. Today it serves Prometheus metrics at `/metrics` (see [`crate::metrics`]) and a
//! liveness answer at `/healthz`; it has no authentication yet, so keep it on loopback (the
//! configuration check warns otherwise).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::metrics::{self, SellerMetrics};

/// A running admin listener.
#[derive(Debug)]
pub(crate) struct AdminServer {
    pub(crate) addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// The admin routes.
fn router(metrics: Arc<SellerMetrics>) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(metrics)
}

async fn render(State(metrics): State<Arc<SellerMetrics>>) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, metrics::CONTENT_TYPE),
            (CACHE_CONTROL, "no-store"),
        ],
        metrics.render(),
    )
}

impl AdminServer {
    /// Binds `addr` and serves until [`AdminServer::shutdown`].
    pub(crate) async fn start(
        addr: SocketAddr,
        metrics: Arc<SellerMetrics>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router(metrics))
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Self {
            addr,
            shutdown,
            task,
        })
    }

    /// Stops accepting and waits (briefly) for open scrapes to finish.
    pub(crate) async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        if tokio::time::timeout(std::time::Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}
