//! Parsing of a service's `upstream` URL.

use http::Uri;
use http::uri::{Authority, InvalidUri, Scheme};

/// How to talk to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamScheme {
    /// HTTP/1.1 over TCP (`http://`).
    Http,
    /// TLS; HTTP/2 or HTTP/1.1 by ALPN (`https://`).
    Https,
    /// HTTP/2 with prior knowledge over TCP, for gRPC (`h2c://`).
    H2c,
}

/// An `upstream` value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The value is not a URL.
    #[error("`{text}` is not a valid URL: {source}")]
    InvalidUrl {
        /// The value as written.
        text: String,
        /// Why it cannot be parsed.
        #[source]
        source: InvalidUri,
    },
    /// The scheme is not `http`, `https` or `h2c`.
    #[error("unsupported upstream scheme `{scheme}`: use http://, https:// or h2c://")]
    UnsupportedScheme {
        /// The scheme as written.
        scheme: String,
    },
    /// The URL has no scheme.
    #[error("upstream `{text}` has no scheme: use http://, https:// or h2c://")]
    NoScheme {
        /// The value as written.
        text: String,
    },
    /// The URL has no host.
    #[error("upstream `{text}` has no host")]
    NoHost {
        /// The value as written.
        text: String,
    },
    /// The URL carries `user:password@`.
    #[error("upstream `{text}` contains credentials; use `upstream_headers` instead")]
    Credentials {
        /// The value as written.
        text: String,
    },
    /// The URL has a query string.
    #[error("upstream `{text}` must not have a query string")]
    Query {
        /// The value as written.
        text: String,
    },
    /// An `h2c://` URL has a path.
    #[error("h2c upstream `{text}` must not have a path (gRPC paths are fixed)")]
    H2cPath {
        /// The value as written.
        text: String,
    },
}

/// A parsed `upstream` value: scheme, `host:port` and an optional base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamTarget {
    /// The scheme.
    pub scheme: UpstreamScheme,
    /// `host[:port]`.
    pub authority: Authority,
    /// Path prepended to every forwarded path, without a trailing `/` (may be empty).
    pub base_path: String,
}

impl UpstreamTarget {
    /// Parses `http://host:port[/base]`, `https://…` or `h2c://host:port`.
    pub fn parse(text: &str) -> Result<Self, UpstreamError> {
        let owned = || text.to_owned();
        let uri: Uri = text.parse().map_err(|source| UpstreamError::InvalidUrl {
            text: owned(),
            source,
        })?;
        let scheme = match uri.scheme_str() {
            Some("http") => UpstreamScheme::Http,
            Some("https") => UpstreamScheme::Https,
            Some("h2c") => UpstreamScheme::H2c,
            Some(other) => {
                return Err(UpstreamError::UnsupportedScheme {
                    scheme: other.to_owned(),
                });
            }
            None => return Err(UpstreamError::NoScheme { text: owned() }),
        };
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or_else(|| UpstreamError::NoHost { text: owned() })?
            .clone();
        if authority.as_str().contains('@') {
            return Err(UpstreamError::Credentials { text: owned() });
        }
        if uri.query().is_some() {
            return Err(UpstreamError::Query { text: owned() });
        }
        let base_path = uri.path().trim_end_matches('/').to_owned();
        if scheme == UpstreamScheme::H2c && !base_path.is_empty() {
            return Err(UpstreamError::H2cPath { text: owned() });
        }
        Ok(Self {
            scheme,
            authority,
            base_path,
        })
    }

    /// The URI scheme used on the wire (`h2c` travels as `http`).
    pub fn uri_scheme(&self) -> Scheme {
        match self.scheme {
            UpstreamScheme::Https => Scheme::HTTPS,
            UpstreamScheme::Http | UpstreamScheme::H2c => Scheme::HTTP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let t = UpstreamTarget::parse("http://127.0.0.1:9000/base/").unwrap();
        assert_eq!(t.scheme, UpstreamScheme::Http);
        assert_eq!(t.authority.as_str(), "127.0.0.1:9000");
        assert_eq!(t.base_path, "/base");
        let t = UpstreamTarget::parse("h2c://localhost:50051").unwrap();
        assert_eq!(t.scheme, UpstreamScheme::H2c);
        assert_eq!(t.base_path, "");
        assert!(UpstreamTarget::parse("ftp://x").is_err());
        assert!(UpstreamTarget::parse("localhost:80").is_err());
        assert!(UpstreamTarget::parse("http://user:pw@x").is_err());
        assert!(UpstreamTarget::parse("http://x/?a=b").is_err());
        assert_eq!(
            UpstreamTarget::parse("localhost:80")
                .unwrap_err()
                .to_string(),
            "upstream `localhost:80` has no scheme: use http://, https:// or h2c://"
        );
    }
}
