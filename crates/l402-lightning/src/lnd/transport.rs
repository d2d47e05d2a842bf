//! HTTPS to LND's REST gateway: the macaroon header, JSON bodies, error statuses, and the
//! newline-delimited JSON of server-streaming calls.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::api::{Failure, RpcStatus};
use super::credentials::{Macaroon, PinnedCert};
use super::{BACKEND_NAME, LndSetupError, tls};
use crate::error::BackendError;
use crate::node_http::{NodeClient, error_chain, read_body};

/// The header LND's REST gateway reads the macaroon from.
const MACAROON_HEADER: &str = "grpc-metadata-macaroon";
/// The longest line accepted in a streamed response (an invoice or payment is a few KiB).
const MAX_LINE: usize = 4 << 20;
/// The longest unary response body accepted.
use crate::node_http::MAX_BODY;

/// One line of a streamed response: `{"result": …}` or `{"error": …}`.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct StreamLine<T> {
    result: Option<T>,
    error: Option<RpcStatus>,
}

/// The HTTPS client for one LND node.
pub(crate) struct Transport {
    node: NodeClient,
    macaroon: HeaderValue,
}

impl Transport {
    /// A client for `base` (`https://host:port`, no trailing slash). Does no IO.
    pub(crate) fn new(
        base: String,
        pinned: Option<&PinnedCert>,
        macaroon: &Macaroon,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self, LndSetupError> {
        let node = NodeClient::new(
            BACKEND_NAME,
            base,
            tls::client_config(pinned)?,
            connect_timeout,
            request_timeout,
            " (is lnd running, with --restlisten on this address?)",
        );
        let mut macaroon = HeaderValue::from_str(macaroon.header_value())
            .map_err(|_| LndSetupError::Tls("macaroon is not header-safe".into()))?;
        macaroon.set_sensitive(true);
        Ok(Self { node, macaroon })
    }

    /// The node's base URL.
    pub(crate) fn base(&self) -> &str {
        self.node.base()
    }

    /// The per-call timeout of unary calls.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.node.request_timeout()
    }

    fn request(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Request<Full<Bytes>> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.node.base()))
            .header(MACAROON_HEADER, self.macaroon.clone())
            .header(http::header::ACCEPT, "application/json");
        if body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .expect("a request built from a valid base URL and path")
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<hyper::Response<Incoming>, Failure> {
        let req = self.request(method, path, body);
        self.node
            .send(req, |e| tls::explain(e))
            .await
            .map_err(Failure::Backend)
    }

    /// A unary call: sends, reads the whole answer within the request timeout, and decodes it.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, Failure> {
        let work = async {
            let resp = self.send(method, path, body).await?;
            let status = resp.status();
            let bytes = read_body(resp.into_body(), MAX_BODY)
                .await
                .map_err(|e| self.node.unreachable(format!("reading the answer: {e}")))?;
            if status.is_success() {
                serde_json::from_slice(&bytes).map_err(|e| {
                    Failure::Backend(BackendError::Other(format!(
                        "unexpected answer from lnd to {path}: {e}"
                    )))
                })
            } else {
                Err(Failure::Rpc(rpc_status(status, &bytes)))
            }
        };
        tokio::time::timeout(self.node.request_timeout(), work)
            .await
            .map_err(|_| Failure::Backend(BackendError::Timeout))?
    }

    /// Starts a server-streaming call. LND's gateway sends its headers with the first message,
    /// so this returns once the first message (or an error) is there; callers bound the wait.
    pub(crate) async fn stream(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Lines, Failure> {
        let resp = self.send(method, path, body).await?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = read_body(resp.into_body(), MAX_LINE)
                .await
                .map_err(|e| self.node.unreachable(format!("reading the answer: {e}")))?;
            // A stream that fails before its first message answers with the error's status
            // and `{"error": {...}}`; a plain gateway error is the status itself.
            let status_body = serde_json::from_slice::<StreamLine<serde_json::Value>>(&bytes)
                .ok()
                .and_then(|l| l.error)
                .map(|mut s| {
                    s.http = status.as_u16();
                    s
                });
            return Err(Failure::Rpc(
                status_body.unwrap_or_else(|| rpc_status(status, &bytes)),
            ));
        }
        Ok(Lines {
            body: resp.into_body(),
            buf: Vec::new(),
        })
    }
}

/// The lines of a streamed answer.
pub(crate) struct Lines {
    body: Incoming,
    buf: Vec<u8>,
}

impl Lines {
    /// The next message: `Ok(Some(Ok(msg)))`, an error status inside the stream
    /// (`Ok(Some(Err(status)))`), or the end of the stream (`Ok(None)`).
    pub(crate) async fn next<T: DeserializeOwned>(
        &mut self,
        transport: &Transport,
    ) -> Result<Option<Result<T, RpcStatus>>, BackendError> {
        loop {
            let Some(line) = self.next_line().await.map_err(|e| {
                transport
                    .node
                    .unreachable(format!("stream interrupted: {e}"))
            })?
            else {
                return Ok(None);
            };
            let parsed: StreamLine<T> = serde_json::from_slice(&line).map_err(|e| {
                BackendError::Other(format!("unexpected streamed message from lnd: {e}"))
            })?;
            match (parsed.result, parsed.error) {
                (_, Some(status)) => return Ok(Some(Err(status))),
                (Some(msg), None) => return Ok(Some(Ok(msg))),
                (None, None) => continue,
            }
        }
    }

    async fn next_line(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            if self.buf.len() > MAX_LINE {
                return Err(format!("a streamed message exceeds {MAX_LINE} bytes"));
            }
            match self.body.frame().await {
                None => {
                    let rest = std::mem::take(&mut self.buf);
                    return Ok((!rest.iter().all(u8::is_ascii_whitespace)).then_some(rest));
                }
                Some(Err(e)) => return Err(error_chain(&e)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

fn rpc_status(status: StatusCode, body: &[u8]) -> RpcStatus {
    let mut s = serde_json::from_slice::<RpcStatus>(body).unwrap_or_else(|_| RpcStatus {
        code: 0,
        message: String::from_utf8_lossy(&body[..body.len().min(300)])
            .trim()
            .to_owned(),
        http: 0,
    });
    if s.message.is_empty() {
        s.message = status.canonical_reason().unwrap_or("error").to_owned();
    }
    s.http = status.as_u16();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_from_gateway_bodies() {
        let s = rpc_status(
            StatusCode::NOT_FOUND,
            br#"{"code":5,"message":"unable to locate invoice","details":[]}"#,
        );
        assert_eq!(
            (s.code, s.message.as_str(), s.http),
            (5, "unable to locate invoice", 404)
        );
        let s = rpc_status(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!((s.code, s.http), (0, 502));
        assert!(s.message.contains("bad gateway"));
        let s = rpc_status(StatusCode::SERVICE_UNAVAILABLE, b"");
        assert_eq!(s.message, "Service Unavailable");
    }
}
