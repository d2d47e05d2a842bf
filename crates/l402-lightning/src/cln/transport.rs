//! HTTP(S) to CLNRest: `POST /v1/<method>` with a JSON object of parameters and the `Rune`
//! header; the answer is the method's JSON result or a JSON-RPC error object.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::Full;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{BACKEND_NAME, ClnConfig, ClnSetupError, tls};
use crate::error::BackendError;
use crate::node_http::{NodeClient, read_body};

/// The header CLNRest reads the rune from.
const RUNE_HEADER: &str = "rune";
/// The longest response body accepted.
use crate::node_http::MAX_BODY;

/// A JSON-RPC error as CLNRest relays it, with the HTTP status it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RpcError {
    /// The HTTP status (401/403: rune refused, 404: unknown method, 500: the method failed).
    pub http: u16,
    /// The JSON-RPC error code (`None` when CLNRest itself failed, e.g. cannot reach lightningd).
    pub code: Option<i64>,
    /// The error message.
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

/// Why a call failed: the node answered with an error, or we could not get an answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An error object from CLN (or CLNRest).
    Rpc(RpcError),
    /// No usable answer (unreachable, timeout, undecodable).
    Backend(BackendError),
}

/// The HTTP client for one CLNRest server.
pub(crate) struct Transport {
    node: NodeClient,
    rune: HeaderValue,
    pinned: bool,
}

impl Transport {
    /// A client for the configured server. Does no IO.
    pub(crate) fn new(config: &ClnConfig) -> Result<Self, ClnSetupError> {
        let node = NodeClient::new(
            BACKEND_NAME,
            normalize_url(&config.url)?,
            tls::client_config(config.ca.as_ref())?,
            config.connect_timeout,
            config.request_timeout,
            " (is lightningd running with the clnrest plugin enabled — `clnrest-port` set — and \
             listening on this address? `clnrest-host` defaults to 127.0.0.1)",
        );
        let mut rune = HeaderValue::from_str(config.rune.expose())
            .map_err(|_| ClnSetupError::Rune("not usable as an HTTP header value".into()))?;
        rune.set_sensitive(true);
        Ok(Self {
            node,
            rune,
            pinned: config.ca.is_some(),
        })
    }

    /// The server's base URL (no trailing slash).
    pub(crate) fn base(&self) -> &str {
        self.node.base()
    }

    /// The default per-call timeout.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.node.request_timeout()
    }

    /// Calls `method` with `params` (a JSON object), waiting at most `timeout` for the answer.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &serde_json::Value,
        timeout: Duration,
    ) -> Result<T, Failure> {
        let body = serde_json::to_vec(params).map_err(|e| {
            Failure::Backend(BackendError::Other(format!("encoding {method}: {e}")))
        })?;
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/v1/{method}", self.node.base()))
            .header(RUNE_HEADER, self.rune.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| {
                Failure::Backend(BackendError::Other(format!("building {method}: {e}")))
            })?;
        let work = async {
            let resp = self
                .node
                .send(req, |e| tls::explain(e, self.pinned))
                .await
                .map_err(Failure::Backend)?;
            let status = resp.status();
            let bytes = read_body(resp.into_body(), MAX_BODY).await.map_err(|e| {
                Failure::Backend(self.node.unreachable(format!("reading the answer: {e}")))
            })?;
            if status.is_success() {
                serde_json::from_slice(&bytes).map_err(|e| {
                    Failure::Backend(BackendError::Other(format!(
                        "unexpected answer from CLN to {method}: {e}"
                    )))
                })
            } else {
                Err(self.error_answer(status, &bytes))
            }
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| Failure::Backend(BackendError::Timeout))?
    }

    fn error_answer(&self, status: StatusCode, body: &[u8]) -> Failure {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(e) => Failure::Rpc(RpcError {
                http: status.as_u16(),
                code: e.code,
                message: e.message.unwrap_or_default(),
            }),
            // Not CLNRest's JSON: a reverse proxy's page, or another server on this port.
            Err(_) => {
                let text = String::from_utf8_lossy(&body[..body.len().min(200)])
                    .trim()
                    .to_owned();
                let detail = format!(
                    "HTTP {status} without a JSON-RPC error body{} (is this URL CLNRest?)",
                    if text.is_empty() {
                        String::new()
                    } else {
                        format!(": {text:?}")
                    }
                );
                match status.as_u16() {
                    401 | 403 => Failure::Backend(BackendError::Unauthorized),
                    502..=504 => Failure::Backend(self.node.unreachable(detail)),
                    _ => Failure::Backend(BackendError::Other(detail)),
                }
            }
        }
    }
}

/// `https://host:port` without a trailing slash; a bare `host:port` gets `https://`.
fn normalize_url(url: &str) -> Result<String, ClnSetupError> {
    let bad = |detail: &str| ClnSetupError::Url {
        url: url.to_owned(),
        detail: detail.to_owned(),
    };
    let trimmed = url.trim().trim_end_matches('/');
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let uri: http::Uri = with_scheme
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        _ => return Err(bad("expected an https:// (or http://) URL")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(bad(
            "expected only scheme, host and port (the client adds /v1/<method>)",
        ));
    }
    Ok(with_scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        assert_eq!(
            normalize_url("127.0.0.1:3010").unwrap(),
            "https://127.0.0.1:3010"
        );
        assert_eq!(
            normalize_url("https://node.example:3010/").unwrap(),
            "https://node.example:3010"
        );
        assert_eq!(
            normalize_url("http://127.0.0.1:3010").unwrap(),
            "http://127.0.0.1:3010"
        );
        assert!(normalize_url("ftp://x:1").is_err());
        assert!(normalize_url("https://x:1/v1/getinfo").is_err());
        assert!(normalize_url("").is_err());
    }
}
