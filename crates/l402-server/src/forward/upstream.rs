//! One service's upstream: where to send, with which client, and which headers to add.

use http::uri::PathAndQuery;
use http::{HeaderName, HeaderValue, Request, Response, Uri};

use super::client::{ClientFactory, HttpClient, TlsTrust};
use super::h1_pool::{H1Error, H1Pool, UpstreamBody};
use super::target::{UpstreamScheme, UpstreamTarget};
use crate::body::Body;
use crate::config::ServiceConfig;
use crate::error::ClientBuildError;
use crate::routing::pattern::PathMatcher;

/// A service's resolved upstream.
pub(crate) struct Upstream {
    pub(crate) target: UpstreamTarget,
    client: UpstreamClient,
    /// Resolved `upstream_headers` (secret values: never logged).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) strip_prefix: Option<String>,
    pub(crate) preserve_host: bool,
    /// The `Host` a plain `http://` upstream (always HTTP/1.1) gets unless `preserve_host`:
    /// its authority without port 80, as an HTTP client writes it; prepared once. `None` for
    /// `https://` and h2c, where the client adds it for HTTP/1.1 and HTTP/2 has `:authority`.
    pub(crate) host: Option<HeaderValue>,
}

/// How a service's requests reach its upstream.
enum UpstreamClient {
    /// A plain `http://` upstream: this crate's HTTP/1.1 pool, origin-form URIs.
    Pooled(H1Pool),
    /// `https://` (HTTP/2 or HTTP/1.1 by ALPN) and h2c: hyper-util's client, absolute URIs.
    General(Box<HttpClient>),
}

/// Why a request could not be sent to its upstream.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// From this crate's HTTP/1.1 pool.
    #[error(transparent)]
    Pooled(#[from] H1Error),
    /// From hyper-util's client.
    #[error(transparent)]
    General(#[from] hyper_util::client::legacy::Error),
}

impl SendError {
    /// True when no connection could be made (the upstream is unreachable).
    pub(crate) fn is_connect(&self) -> bool {
        match self {
            Self::Pooled(e) => e.is_connect(),
            Self::General(e) => e.is_connect(),
        }
    }

    /// True when connecting took longer than the connect timeout.
    pub(crate) fn is_connect_timeout(&self) -> bool {
        match self {
            Self::Pooled(e) => matches!(e, H1Error::ConnectTimeout),
            Self::General(e) => is_timed_out(e),
        }
    }
}

/// Is the error (or its cause) an IO timeout?
fn is_timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// The `Host` for a plain `http://` upstream: its authority, without the default port.
fn http_host(authority: &http::uri::Authority) -> &str {
    match authority.port_u16() {
        Some(80) => authority.host(),
        _ => authority.as_str(),
    }
}

impl Upstream {
    pub(crate) fn new(
        service: &ServiceConfig,
        clients: &mut ClientFactory,
    ) -> Result<Self, ClientBuildError> {
        let invalid = |message: String| ClientBuildError::Service {
            service: service.name.clone(),
            message,
        };
        let target = UpstreamTarget::parse(&service.upstream).map_err(|source| {
            ClientBuildError::Upstream {
                service: service.name.clone(),
                source,
            }
        })?;
        let trust = match (&service.upstream_ca_cert, service.insecure_skip_verify) {
            (_, true) => TlsTrust::Insecure,
            (Some(ca), false) => TlsTrust::CaFile(ca.clone()),
            (None, false) => TlsTrust::WebPki,
        };
        let client = match target.scheme {
            UpstreamScheme::Http => UpstreamClient::Pooled(clients.h1_pool(
                target.authority.host(),
                target.authority.port_u16().unwrap_or(80),
            )),
            UpstreamScheme::Https | UpstreamScheme::H2c => UpstreamClient::General(Box::new(
                clients.client(trust, target.scheme == UpstreamScheme::H2c)?,
            )),
        };
        let mut headers = Vec::with_capacity(service.upstream_headers.len());
        for (name, source) in &service.upstream_headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("`{name}` is not a valid header name")))?;
            let value = source
                .resolve()
                .map_err(|e| invalid(format!("upstream header `{name}`: {e}")))?;
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| invalid(format!("upstream header `{name}`: invalid value")))?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        let strip_prefix = if service.strip_path_prefix {
            let prefix = PathMatcher::parse(&service.path_prefix).map_err(|source| {
                ClientBuildError::PathPrefix {
                    service: service.name.clone(),
                    source,
                }
            })?;
            match prefix {
                PathMatcher::Prefix(p) => Some(p.trim_end_matches('/').to_owned()),
                PathMatcher::Pattern(_) => None,
            }
        } else {
            None
        };
        let host = match target.scheme {
            UpstreamScheme::Http => Some(
                HeaderValue::from_str(http_host(&target.authority)).map_err(|_| {
                    invalid("the upstream's host is not a valid header value".to_owned())
                })?,
            ),
            UpstreamScheme::Https | UpstreamScheme::H2c => None,
        };
        Ok(Self {
            host,
            target,
            client,
            headers,
            strip_prefix,
            preserve_host: service.preserve_host,
        })
    }

    /// Sends `req` (whose URI is [`Upstream::uri_for`]'s) to the upstream.
    pub(crate) async fn send(
        &self,
        req: Request<Body>,
    ) -> Result<Response<UpstreamBody>, SendError> {
        match &self.client {
            UpstreamClient::Pooled(pool) => Ok(pool.send(req).await?),
            UpstreamClient::General(client) => {
                Ok(client.request(req).await?.map(UpstreamBody::unpooled))
            }
        }
    }

    /// The URI to send upstream for a client request URI: origin form (`/path?query`) for the
    /// pooled HTTP/1.1 client, absolute for hyper-util's.
    pub(crate) fn uri_for(&self, uri: &Uri) -> Result<Uri, http::Error> {
        let mut path = uri.path();
        // Routing matched the prefix, ignoring case when `[paths] case_insensitive` is set.
        if let Some(prefix) = &self.strip_prefix
            && let Some((head, rest)) = path.split_at_checked(prefix.len())
            && head.eq_ignore_ascii_case(prefix)
        {
            path = rest;
        }
        let mut path_and_query = self.target.base_path.clone();
        if !path.starts_with('/') {
            path_and_query.push('/');
        }
        path_and_query.push_str(path);
        if let Some(query) = uri.query() {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        let path_and_query = PathAndQuery::try_from(path_and_query)?;
        match self.client {
            UpstreamClient::Pooled(_) => Ok(Uri::from(path_and_query)),
            UpstreamClient::General(_) => Uri::builder()
                .scheme(self.target.uri_scheme())
                .authority(self.target.authority.clone())
                .path_and_query(path_and_query)
                .build(),
        }
    }
}
