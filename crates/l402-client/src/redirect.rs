//! Redirects, followed by hand one hop at a time (the built-in HTTP client follows none), so
//! every hop is checked before anything is sent to it (the domain lists, the
//! [`DestinationGuard`]) and the credential held for one origin never travels to another.

use reqwest::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION,
    PROXY_AUTHORIZATION,
};
use reqwest::{Method, StatusCode, Url};

use crate::error::ClientError;
use crate::request::RequestSpec;

/// Redirect hops one request follows by default (reqwest's own default); more is an error.
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// Checked before the client sends anything to a URL: the first request and every redirect
/// hop. The MCP server uses one to keep an agent from reaching private networks.
pub trait DestinationGuard: Send + Sync {
    /// `Err(reason)` refuses `url`: nothing is sent there and the request fails with
    /// [`ClientError::DestinationRefused`] carrying `reason`.
    fn check(&self, url: &Url) -> Result<(), String>;
}

/// Whether `a` and `b` are one origin (scheme, host and port).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// The request a redirect `status` with `location` asks for after `spec`, or `None` when the
/// answer is not a redirect to follow (not 301/302/303/307/308, or no `Location`). A 303, and a
/// 301 or 302 answering a `POST`, become a `GET` without a body (what browsers and curl do).
/// On a hop to another origin, `Authorization`, `Proxy-Authorization` and `Cookie` are removed.
pub(crate) fn next_hop(
    spec: &RequestSpec,
    status: StatusCode,
    location: Option<&str>,
) -> Result<Option<RequestSpec>, ClientError> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = location else {
        return Ok(None);
    };
    let url = spec
        .url
        .join(location)
        .map_err(|e| ClientError::RedirectRefused {
            from: spec.url.to_string(),
            to: location.to_owned(),
            reason: format!("the Location is not a valid URL ({e})"),
        })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ClientError::RedirectRefused {
            from: spec.url.to_string(),
            to: url.to_string(),
            reason: "only http and https redirects are followed".into(),
        });
    }
    let mut next = spec.clone();
    let to_get = status == StatusCode::SEE_OTHER && spec.method != Method::HEAD
        || matches!(status.as_u16(), 301 | 302) && spec.method == Method::POST;
    if to_get {
        next.method = Method::GET;
        next.body = None;
        for name in [CONTENT_TYPE, CONTENT_LENGTH, CONTENT_ENCODING] {
            next.headers.remove(name);
        }
    }
    if !same_origin(&spec.url, &url) {
        for name in [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE] {
            next.headers.remove(name);
        }
    }
    next.url = url;
    Ok(Some(next))
}

/// The `Location` of `response`, if it is text.
pub(crate) fn location(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: Method, url: &str) -> RequestSpec {
        RequestSpec::new(method, url)
            .unwrap()
            .header("authorization", "Bearer user")
            .unwrap()
            .header("cookie", "a=b")
            .unwrap()
            .header("content-type", "text/plain")
            .unwrap()
            .body("x")
    }

    #[test]
    fn same_origin_keeps_credentials_and_method() {
        let s = spec(Method::POST, "http://h:1/a");
        let n = next_hop(&s, StatusCode::TEMPORARY_REDIRECT, Some("/b"))
            .unwrap()
            .unwrap();
        assert_eq!(n.url.as_str(), "http://h:1/b");
        assert_eq!(n.method, Method::POST);
        assert_eq!(n.headers["authorization"], "Bearer user");
        assert!(n.body.is_some());
    }

    #[test]
    fn other_origin_strips_credentials() {
        let s = spec(Method::GET, "http://h:1/a");
        for to in ["http://h:2/a", "https://h:1/a", "http://g:1/a"] {
            let n = next_hop(&s, StatusCode::FOUND, Some(to)).unwrap().unwrap();
            assert!(n.headers.get("authorization").is_none(), "{to}");
            assert!(n.headers.get("cookie").is_none(), "{to}");
        }
    }

    #[test]
    fn see_other_and_post_redirects_become_get() {
        let s = spec(Method::POST, "http://h/a");
        for status in [
            StatusCode::SEE_OTHER,
            StatusCode::FOUND,
            StatusCode::MOVED_PERMANENTLY,
        ] {
            let n = next_hop(&s, status, Some("/b")).unwrap().unwrap();
            assert_eq!(n.method, Method::GET);
            assert!(n.body.is_none());
            assert!(n.headers.get("content-type").is_none());
        }
        let n = next_hop(&s, StatusCode::PERMANENT_REDIRECT, Some("/b"))
            .unwrap()
            .unwrap();
        assert_eq!(n.method, Method::POST);
    }

    #[test]
    fn not_followed_or_refused() {
        let s = spec(Method::GET, "http://h/a");
        assert!(next_hop(&s, StatusCode::OK, Some("/b")).unwrap().is_none());
        assert!(next_hop(&s, StatusCode::FOUND, None).unwrap().is_none());
        assert!(matches!(
            next_hop(&s, StatusCode::FOUND, Some("file:///etc/passwd")),
            Err(ClientError::RedirectRefused { .. })
        ));
    }
}
