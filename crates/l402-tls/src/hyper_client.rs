//! A hyper-rustls connector with this crate's TLS configuration.

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{TlsError, Trust};

/// An HTTPS-or-HTTP connector over `http` that verifies servers as `trust` says and offers
/// HTTP/1.1 and HTTP/2 (for hyper-util clients and tonic channels).
pub fn https_connector(
    trust: &Trust,
    mut http: HttpConnector,
) -> Result<HttpsConnector<HttpConnector>, TlsError> {
    http.enforce_http(false);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(trust.client_config()?)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http))
}
