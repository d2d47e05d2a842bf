//! Channels to paid gRPC services, over TLS from the workspace's TLS home or as h2c.

use std::time::Duration;

use l402_tls::Trust;
use tonic::transport::{Channel, Endpoint};

use crate::ClientError;

/// How long connecting may take before a call fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A lazily connecting channel to `origin`: `https://host:port` is HTTP/2 over TLS verified as
/// `trust` says; `http://host:port` is HTTP/2 without TLS (h2c). Wrap it in
/// [`L402GrpcLayer`](super::L402GrpcLayer) with the same origin. Does no IO.
///
/// ```
/// use l402_client::grpc::channel;
/// use l402_tls::Trust;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let tls = channel("https://api.example.com:443", &Trust::WebPki).unwrap();
/// let plain = channel("http://127.0.0.1:8080", &Trust::WebPki).unwrap();
/// assert!(channel("ftp://example.com", &Trust::WebPki).is_err());
/// # let _ = (tls, plain); }
/// ```
pub fn channel(origin: &str, trust: &Trust) -> Result<Channel, ClientError> {
    let bad =
        |detail: &str| ClientError::InvalidRequest(format!("gRPC origin {origin:?}: {detail}"));
    let (tls, authority) = if let Some(rest) = origin.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = origin.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad("expected https://host:port or http://host:port"));
    };
    let authority = authority.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err(bad("expected an origin without a path"));
    }
    // tonic gets an http:// URI; for TLS the connector does the handshake.
    let endpoint = Endpoint::from_shared(format!("http://{authority}"))
        .map_err(|e| bad(&e.to_string()))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true);
    if !tls {
        return Ok(endpoint.connect_lazy());
    }
    let connector = l402_tls::grpc_tls_connector(trust, Some(CONNECT_TIMEOUT))
        .map_err(|e| ClientError::Build(format!("TLS configuration: {e}")))?;
    Ok(endpoint.connect_with_connector_lazy(connector))
}
