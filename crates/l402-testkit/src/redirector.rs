//! A loopback HTTP server that records the `Authorization` header of every request it gets
//! and either redirects it (`307` to the same path under another base URL) or answers
//! `200 ok`: the other origin of buyer-side redirect tests.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::paid_server::serve_on_loopback;

struct Shared {
    target: Option<String>,
    seen: Mutex<Vec<Option<String>>>,
}

/// A recording (and possibly redirecting) server on 127.0.0.1.
pub struct Redirector {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The port.
    pub port: u16,
    shared: Arc<Shared>,
    _task: tokio::task::JoinHandle<()>,
}

impl Redirector {
    /// Starts a server that answers every request with `307 Location: <target><path>`, or
    /// with `200 ok` when `target` is `None`.
    pub async fn start(target: Option<String>) -> Self {
        let shared = Arc::new(Shared {
            target: target.map(|t| t.trim_end_matches('/').to_owned()),
            seen: Mutex::new(Vec::new()),
        });
        let (port, task) =
            serve_on_loopback(Router::new().fallback(handle).with_state(shared.clone())).await;
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            shared,
            _task: task,
        }
    }

    /// `<base>/<path>`.
    pub fn at(&self, path: &str) -> String {
        format!("{}/{}", self.url, path.trim_start_matches('/'))
    }

    /// The `Authorization` header of each request received, in order (`None`: absent).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.shared.seen.lock().unwrap().clone()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    shared.seen.lock().unwrap().push(authorization);
    match &shared.target {
        Some(target) => {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, format!("{target}{path}"))],
            )
                .into_response()
        }
        None => (StatusCode::OK, "ok").into_response(),
    }
}
