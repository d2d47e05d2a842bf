//! Which requests share a token (pure).
//!
//! A token is cached under a *scope key*. By default ([`ScopeRule::FirstPathSegment`]) the key
//! is the origin plus the first path segment: `http://host:8080/weather/today` and
//! `http://host:8080/weather/tomorrow?x=1` share the key `http://host:8080/weather`, so one
//! payment serves every path of one service behind a proxy that routes services by path prefix
//! (Aperture's common setup). A request to the root path uses `http://host:8080/`. Query
//! strings and fragments never matter; the origin includes the scheme and any non-default port.

use std::fmt::Write as _;

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
        let mut scope = String::with_capacity(self.origin.len() + url.path().len());
        scope.push_str(&self.origin);
        scope.push_str(url.path());
        scope
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
        let origin = origin_of(url);
        let scope = match rule {
            ScopeRule::Origin => origin.clone(),
            ScopeRule::FullPath => origin.clone() + url.path(),
            ScopeRule::FirstPathSegment => {
                let first = url
                    .path()
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or_default();
                let mut scope = String::with_capacity(origin.len() + 1 + first.len());
                scope.push_str(&origin);
                scope.push('/');
                scope.push_str(first);
                scope
            }
        };
        Ok(Self {
            origin,
            scope,
            domain,
        })
    }
}

/// `scheme://host[:port]` of an `http`/`https` URL, as `url.origin().ascii_serialization()`
/// writes it (the host as the URL keeps it: lower-case, IDNA-encoded, IPv6 in brackets; the
/// port only when it is not the scheme's default), without building an `Origin` first.
fn origin_of(url: &Url) -> String {
    let (scheme, host) = (url.scheme(), url.host_str().unwrap_or_default());
    let mut origin = String::with_capacity(scheme.len() + host.len() + 9);
    origin.push_str(scheme);
    origin.push_str("://");
    origin.push_str(host);
    if let Some(port) = url.port() {
        let _ = write!(origin, ":{port}");
    }
    origin
}

/// A request's [`Target`] and its exact-path scope, worked out once per request: where its
/// session and its token are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The target, with the scope of `rule`.
    pub(crate) target: Target,
    /// The narrowest scope ([`Target::exact_path_scope`]).
    pub(crate) exact: String,
}

impl Place {
    /// The place of `url` under `rule`.
    pub(crate) fn of(url: &Url, rule: ScopeRule) -> Result<Self, TargetError> {
        let target = Target::of(url, rule)?;
        let exact = target.exact_path_scope(url);
        Ok(Self { target, exact })
    }

    /// The target a session of this place is kept under: its exact path.
    pub(crate) fn session_target(&self) -> Target {
        Target {
            scope: self.exact.clone(),
            ..self.target.clone()
        }
    }

    /// The scopes a token for this place is looked up under, in order: the exact path, then
    /// the broader scope when it differs.
    pub(crate) fn token_scopes(&self) -> Vec<String> {
        let mut scopes = vec![self.exact.clone()];
        if self.exact != self.target.scope {
            scopes.push(self.target.scope.clone());
        }
        scopes
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
    fn origins_read_as_the_url_crate_serializes_them() {
        for url in [
            "http://127.0.0.1:8080/a",
            "https://API.Example.com/",
            "https://api.example.com:443/w",
            "http://api.example.com:80/w",
            "http://api.example.com:443/w",
            "http://[::1]:9000/x?q#f",
            "https://[2001:DB8::1]/",
            "https://bücher.example/x",
            "http://user:pw@h:1/",
            "http://h:65535/",
            "http://h:0/",
            "https://h:10/",
        ] {
            let url = Url::parse(url).unwrap();
            assert_eq!(origin_of(&url), url.origin().ascii_serialization(), "{url}");
        }
    }

    #[test]
    fn a_place_keeps_sessions_at_the_exact_path_and_looks_tokens_up_there_first() {
        let url = Url::parse("http://h:1/weather/today?x=1").unwrap();
        let place = Place::of(&url, ScopeRule::default()).unwrap();
        assert_eq!(place.exact, "http://h:1/weather/today");
        assert_eq!(place.session_target().scope, "http://h:1/weather/today");
        assert_eq!(place.session_target().origin, "http://h:1");
        assert_eq!(
            place.token_scopes(),
            ["http://h:1/weather/today", "http://h:1/weather"]
        );
        let whole = Place::of(&url, ScopeRule::FullPath).unwrap();
        assert_eq!(whole.token_scopes(), ["http://h:1/weather/today"]);
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
