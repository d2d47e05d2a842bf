//! HTTP plumbing shared by the backends that talk to a node over hyper (LND, CLN, the dev
//! wallet's client).

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use l402_backend::BackendError;

/// A pooled HTTP(S) client to one node: its base URL, the default per-call timeout, and
/// [`BackendError::Unreachable`] errors that name the backend and the address.
pub(crate) struct NodeClient {
    backend: &'static str,
    base: String,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    request_timeout: Duration,
    connect_hint: &'static str,
}

impl NodeClient {
    /// A client for `base` (no trailing slash) trusting as `tls` says. `backend` names the
    /// backend in errors; `connect_hint` is appended to the message when the connection fails.
    /// Does no IO.
    pub(crate) fn new(
        backend: &'static str,
        base: String,
        tls: rustls::ClientConfig,
        connect_timeout: Duration,
        request_timeout: Duration,
        connect_hint: &'static str,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(30)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            backend,
            base,
            http: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(https),
            request_timeout,
            connect_hint,
        }
    }

    /// The node's base URL (no trailing slash).
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The default per-call timeout.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// [`BackendError::Unreachable`] for this node.
    pub(crate) fn unreachable(&self, detail: impl Into<String>) -> BackendError {
        BackendError::Unreachable {
            backend: self.backend.into(),
            address: self.base.clone(),
            detail: detail.into(),
            source: None,
        }
    }

    /// Sends `req`. No answer is [`BackendError::Unreachable`] (the client's error kept as its
    /// source): with `explain_tls`'s hint when TLS failed, else the error chain (and the connect
    /// hint when the connection failed).
    pub(crate) async fn send(
        &self,
        req: Request<Full<Bytes>>,
        explain_tls: impl FnOnce(&hyper_util::client::legacy::Error) -> Option<String>,
    ) -> Result<Response<Incoming>, BackendError> {
        self.http.request(req).await.map_err(|e| {
            let detail = explain_tls(&e).unwrap_or_else(|| {
                let mut detail = error_chain(&e);
                if e.is_connect() {
                    detail.push_str(self.connect_hint);
                }
                detail
            });
            BackendError::unreachable(self.backend, self.base.clone(), detail, e)
        })
    }
}

/// Largest answer read from a node.
pub(crate) const MAX_BODY: usize = 16 << 20;

/// Reads a whole response body, refusing more than `limit` bytes.
pub(crate) async fn read_body(mut body: Incoming, limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| error_chain(&e))?;
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
            if out.len() > limit {
                return Err(format!("answer exceeds {limit} bytes"));
            }
        }
    }
    Ok(out)
}

/// `e: its source: its source…`, without repeats.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}
