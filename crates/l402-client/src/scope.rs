//! Which requests share a token (pure).
//!
//! A token is cached under a *scope key*. By default ([`ScopeRule::FirstPathSegment`]) the key
//! is the origin plus the first path segment: `http://host:8080/weather/today` and
//! `http://host:8080/weather/tomorrow?x=1` share the key `http://host:8080/weather`, so one
//! payment serves every path of one service behind a proxy that routes services by path prefix
//! (Aperture's common setup). A request to the root path uses `http://host:8080/`. Query
//! strings and fragments never matter; the origin includes the scheme and any non-default port.

use reqwest::Url;

/// How a URL maps to the scope key its token is cached under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeRule {
    /// Origin plus the first path segment (the default).
    #[default]
    FirstPathSegment,
    /// The origin alone: one token per origin (as lnget caches per domain).
    Origin,
    /// Origin plus the whole path: one token per path.
    FullPath,
}

/// Where a request goes, as budgets and the token cache see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `scheme://host[:port]`.
    pub origin: String,
    /// The scope key (see the module docs).
    pub scope: String,
    /// The host, lower-case (what allow/deny lists and per-domain budgets match).
    pub domain: String,
}

/// Why a URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Only `http` and `https` URLs are supported.
    #[error("unsupported URL scheme {0:?}: use http or https")]
    Scheme(String),
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
}

impl Target {
    /// The narrowest scope for `url`: its origin and full path (no query).
    pub fn exact_path_scope(&self, url: &Url) -> String {
        format!("{}{}", self.origin, url.path())
    }

    /// The target of `url` under `rule`.
    pub fn of(url: &Url, rule: ScopeRule) -> Result<Self, TargetError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TargetError::Scheme(url.scheme().to_owned()));
        }
        let domain = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(TargetError::NoHost)?
            .to_ascii_lowercase();
        let origin = url.origin().ascii_serialization();
        let scope = match rule {
            ScopeRule::Origin => origin.clone(),
            ScopeRule::FullPath => format!("{origin}{}", url.path()),
            ScopeRule::FirstPathSegment => {
                let first = url
                    .path()
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or_default();
                format!("{origin}/{first}")
            }
        };
        Ok(Self {
            origin,
            scope,
            domain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str, rule: ScopeRule) -> Target {
        Target::of(&Url::parse(url).unwrap(), rule).unwrap()
    }

    #[test]
    fn first_segment_is_the_default_scope() {
        let a = target(
            "http://127.0.0.1:8080/weather/today?x=1",
            ScopeRule::default(),
        );
        let b = target(
            "http://127.0.0.1:8080/weather/tomorrow#f",
            ScopeRule::default(),
        );
        assert_eq!(a.scope, "http://127.0.0.1:8080/weather");
        assert_eq!(a, b);
        assert_eq!(a.origin, "http://127.0.0.1:8080");
        assert_eq!(a.domain, "127.0.0.1");
        assert_eq!(
            target("https://API.example.com/", ScopeRule::default()).scope,
            "https://api.example.com/"
        );
        assert_eq!(
            target("https://api.example.com", ScopeRule::default()).scope,
            "https://api.example.com/"
        );
        assert_eq!(
            target("https://api.example.com:443/w", ScopeRule::default()).scope,
            "https://api.example.com/w"
        );
        assert_ne!(
            target("http://h/weather", ScopeRule::default()).scope,
            target("http://h/weather2", ScopeRule::default()).scope
        );
    }

    #[test]
    fn other_rules() {
        assert_eq!(
            target("http://h:1/a/b?q", ScopeRule::Origin).scope,
            "http://h:1"
        );
        assert_eq!(
            target("http://h:1/a/b?q", ScopeRule::FullPath).scope,
            "http://h:1/a/b"
        );
    }

    #[test]
    fn refuses_other_schemes() {
        let url = Url::parse("ftp://h/x").unwrap();
        assert_eq!(
            Target::of(&url, ScopeRule::default()),
            Err(TargetError::Scheme("ftp".into()))
        );
    }
}
