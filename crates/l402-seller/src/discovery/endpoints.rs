//! The HTTP face of discovery: `GET`/`HEAD` of the two documents (cacheable: `max-age=300`,
//! a strong `ETag`, `304` on `If-None-Match`) and `POST /l402/quote`.

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, CACHE_CONTROL, CONTENT_TYPE, ETAG, HOST, IF_NONE_MATCH,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use l402_discovery::{
    ErrorBody, MANIFEST_PATH, OPENAPI_PATH, QUOTE_PATH, QuoteErrorCode, QuoteRequest,
};
use l402_server::Body;
use l402_server::endpoints::LocalEndpoints;
use l402_server::health::BoxFuture;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::catalog::Catalog;
use crate::config::{ConfigError, SellerConfig};

/// The largest quote request body read, in bytes.
const MAX_QUOTE_BODY: usize = 16 * 1024;
/// How long clients and caches may keep a document, in seconds.
const MAX_AGE: &str = "public, max-age=300";

/// One serialised document and its entity tag.
#[derive(Debug)]
struct Published {
    body: Bytes,
    etag: HeaderValue,
}

impl Published {
    fn new(value: &impl serde::Serialize) -> Self {
        let body = serde_json::to_vec_pretty(value).unwrap_or_default();
        let digest = Sha256::digest(&body);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            etag: HeaderValue::from_str(&format!("\"{hex}\""))
                .unwrap_or(HeaderValue::from_static("\"0\"")),
            body: Bytes::from(body),
        }
    }
}

/// The seller's discovery endpoints, answered before routing (an
/// [`l402_server::LocalEndpoints`]).
#[derive(Debug)]
pub struct Discovery {
    manifest: Published,
    openapi: Published,
    catalog: Catalog,
}

impl Discovery {
    /// The endpoints of `config`: its manifest (with the node's public key), its OpenAPI
    /// document merged into the upstreams' own `upstream` (see
    /// [`upstream_documents`](super::upstream_documents)), and its quotes.
    pub fn new(
        config: &SellerConfig,
        node_pubkey: Option<String>,
        upstream: &[Option<Value>],
    ) -> Result<Self, ConfigError> {
        let catalog = Catalog::new(config)?;
        let openapi =
            super::openapi_doc::document(config, upstream, &catalog, &super::provider_name(config));
        Ok(Self {
            manifest: Published::new(&super::manifest(config, node_pubkey)),
            openapi: Published::new(&openapi),
            catalog,
        })
    }

    fn document(&self, doc: &Published, request: &Request<Body>) -> Response<Body> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                &ErrorBody::new(QuoteErrorCode::MethodNotAllowed, "use GET", None),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let not_modified = request
            .headers()
            .get_all(IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.trim_start_matches("W/").as_bytes() == doc.etag.as_bytes()
            });
        let mut response = if not_modified {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else if request.method() == Method::HEAD {
            Response::new(Body::empty())
        } else {
            Response::new(Body::full(doc.body.clone()))
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(MAX_AGE));
        headers.insert(ETAG, doc.etag.clone());
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        response
    }

    async fn quote(&self, request: Request<Body>) -> Response<Body> {
        if request.method() != Method::POST {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                &ErrorBody::new(
                    QuoteErrorCode::MethodNotAllowed,
                    "use POST with a JSON body",
                    None,
                ),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let host = request
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| request.uri().authority().map(|a| a.host().to_owned()));
        let body = http_body_util::Limited::new(request.into_body(), MAX_QUOTE_BODY);
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &ErrorBody::new(
                        QuoteErrorCode::BadRequest,
                        format!(
                            "the quote request is larger than {MAX_QUOTE_BODY} bytes or was cut short"
                        ),
                        None,
                    ),
                );
            }
        };
        let parsed: QuoteRequest = match serde_json::from_slice(&bytes) {
            Ok(q) => q,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &ErrorBody::new(
                        QuoteErrorCode::BadRequest,
                        format!("the body is not a quote request: {e}"),
                        None,
                    ),
                );
            }
        };
        match super::quote::quote(
            &self.catalog,
            &parsed,
            host.as_deref(),
            l402_core::env::now_unix(),
        ) {
            Ok(quote) => json(StatusCode::OK, &quote),
            Err(body) => {
                let status = QuoteErrorCode::from_code(&body.error.code)
                    .map_or(StatusCode::BAD_REQUEST, |c| {
                        StatusCode::from_u16(c.status()).unwrap_or(StatusCode::BAD_REQUEST)
                    });
                error(status, &body)
            }
        }
    }
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
    let mut response = Response::new(Body::full(serde_json::to_vec(value).unwrap_or_default()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

fn error(status: StatusCode, body: &ErrorBody) -> Response<Body> {
    json(status, body)
}

impl LocalEndpoints for Discovery {
    fn claims(&self, path: &str) -> bool {
        matches!(path, MANIFEST_PATH | OPENAPI_PATH | QUOTE_PATH)
    }

    fn serve(&self, request: Request<Body>) -> BoxFuture<'_, Response<Body>> {
        Box::pin(async move {
            match request.uri().path() {
                MANIFEST_PATH => self.document(&self.manifest, &request),
                OPENAPI_PATH => self.document(&self.openapi, &request),
                _ => self.quote(request).await,
            }
        })
    }
}
