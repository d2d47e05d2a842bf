//! hyper-rustls connectors with this crate's TLS configuration.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{TlsError, Trust};

fn tcp(connect_timeout: Option<Duration>) -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(connect_timeout);
    http
}

/// An HTTPS-or-HTTP connector that verifies servers as `trust` says and offers HTTP/1.1 and
/// HTTP/2 (for hyper-util clients).
pub fn https_connector(
    trust: &Trust,
    connect_timeout: Option<Duration>,
) -> Result<HttpsConnector<HttpConnector>, TlsError> {
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(trust.client_config()?)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(tcp(connect_timeout)))
}

/// A TLS-only, HTTP/2-only connector for gRPC channels: give tonic an `http://` URI for the
/// server (tonic's own TLS, if any crate turns it on, would refuse an `https://` URI it has no
/// configuration for) and this connector dials it with TLS all the same.
pub fn grpc_tls_connector(
    trust: &Trust,
    connect_timeout: Option<Duration>,
) -> Result<GrpcTlsConnector, TlsError> {
    Ok(GrpcTlsConnector(
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(trust.client_config()?)
            .https_only()
            .enable_http2()
            .wrap_connector(tcp(connect_timeout)),
    ))
}

/// The connector [`grpc_tls_connector`] returns: dials every URI as `https`.
#[derive(Clone, Debug)]
pub struct GrpcTlsConnector(HttpsConnector<HttpConnector>);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for GrpcTlsConnector {
    type Response = <HttpsConnector<HttpConnector> as tower_service::Service<Uri>>::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let mut parts = uri.into_parts();
        parts.scheme = Some(http::uri::Scheme::HTTPS);
        if parts.path_and_query.is_none() {
            parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        }
        match Uri::from_parts(parts) {
            Ok(uri) => Box::pin(self.0.call(uri)),
            Err(e) => Box::pin(async move { Err(e.into()) }),
        }
    }
}
