//! The admin listener (`[admin] listen`): the operator's endpoints, apart from the paywalled
//! proxy.
//!
//! - `/metrics`: Prometheus metrics (see [`crate::metrics`]), no macaroon (keep the listener
//!   on loopback or firewall it to your Prometheus);
//! - `/healthz`: liveness;
//! - `/dashboard`: the dashboard (embedded HTML, CSS and JavaScript, no build step), which
//!   asks for an admin macaroon and then reads the admin API like any client;
//! - `/api/v1/…`: the admin API, every route behind an admin macaroon (see [`auth`]) except
//!   its OpenAPI document, `/api/v1/openapi.json` ([`OPENAPI_JSON`]); `l402-admin-client` calls it.

pub(crate) mod api;
pub mod auth;
mod dashboard;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::metrics;
pub(crate) use api::AdminState;

/// The admin API's OpenAPI 3.1 document.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// A running admin listener.
#[derive(Debug)]
pub(crate) struct AdminServer {
    pub(crate) addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// The admin routes.
fn router(state: Arc<AdminState>) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/app.js", get(dashboard::script))
        .route("/dashboard/app.css", get(dashboard::style))
        .route(
            "/api/v1/openapi.json",
            get(|| async { ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON) }),
        )
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/services", get(api::services))
        .route(
            "/api/v1/services/{name}",
            put(api::put_service).delete(api::delete_service),
        )
        .route("/api/v1/stats", get(api::stats))
        .route("/api/v1/invoices", get(api::invoices))
        .route("/api/v1/revocations", get(api::revocations))
        .route("/api/v1/sessions", get(api::sessions))
        .route("/api/v1/sessions/{id}", get(api::session))
        .route(
            "/api/v1/tokens/{id}/revoke",
            post(api::revoke).delete(api::restore),
        )
        .route("/api/v1/keys", get(api::keys))
        .route("/api/v1/keys/rotate", post(api::rotate))
        .route("/api/v1/reload", post(api::reload))
        .with_state(state)
}

async fn render(State(state): State<Arc<AdminState>>) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, metrics::CONTENT_TYPE),
            (CACHE_CONTROL, "no-store"),
        ],
        state.metrics.render(),
    )
}

impl AdminServer {
    /// Binds `addr` and serves (over TLS when `tls` is given) until [`AdminServer::shutdown`].
    pub(crate) async fn start(
        addr: SocketAddr,
        state: AdminState,
        tls: Option<Arc<l402_tls::rustls::ServerConfig>>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, rx) = oneshot::channel::<()>();
        let app = router(Arc::new(state));
        let task = match tls {
            None => tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await
            }),
            Some(config) => tokio::spawn(tls::serve(listener, config, app, rx)),
        };
        Ok(Self {
            addr,
            shutdown,
            task,
        })
    }

    /// Stops accepting and waits (briefly) for open requests to finish.
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
