//! [`RequestSpec`]: a request whose body is kept as bytes, so it can be sent again after paying.

use std::fmt;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::error::ClientError;

/// A replayable request: method, URL, headers and an in-memory body.
#[derive(Clone)]
pub struct RequestSpec {
    /// The method.
    pub method: Method,
    /// The URL.
    pub url: Url,
    /// Headers sent on every attempt. An `Authorization` header here is replaced by the L402
    /// credential whenever the client holds a token for the URL's scope.
    pub headers: HeaderMap,
    /// The body, if any.
    pub body: Option<Bytes>,
}

impl fmt::Debug for RequestSpec {
    /// Shows header names only: their values may be credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSpec")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .finish()
    }
}

impl RequestSpec {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: &str) -> Result<Self, ClientError> {
        let url = Url::parse(url)
            .map_err(|e| ClientError::InvalidRequest(format!("bad URL {url:?}: {e}")))?;
        Ok(Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
        })
    }

    /// A `GET` request.
    pub fn get(url: &str) -> Result<Self, ClientError> {
        Self::new(Method::GET, url)
    }

    /// Adds a header (keeping earlier values of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ClientError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| ClientError::InvalidRequest(format!("bad header name {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value).map_err(|e| {
            ClientError::InvalidRequest(format!("bad value for header {name}: {e}"))
        })?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }
}

impl TryFrom<reqwest::Request> for RequestSpec {
    type Error = ClientError;

    /// Takes a built `reqwest::Request`. Its body must be in memory: a streaming body cannot be
    /// sent again after paying.
    fn try_from(req: reqwest::Request) -> Result<Self, ClientError> {
        let body = match req.body() {
            None => None,
            Some(b) => Some(Bytes::copy_from_slice(b.as_bytes().ok_or_else(|| {
                ClientError::InvalidRequest(
                    "a streaming request body cannot be replayed after payment; \
                     pass the body as bytes"
                        .into(),
                )
            })?)),
        };
        Ok(Self {
            method: req.method().clone(),
            url: req.url().clone(),
            headers: req.headers().clone(),
            body,
        })
    }
}

/// What [`L402Client::execute`](crate::L402Client::execute) accepts: a [`RequestSpec`] or a
/// built `reqwest::Request` (whose body must be in memory).
pub trait IntoRequestSpec {
    /// The replayable request.
    fn into_request_spec(self) -> Result<RequestSpec, ClientError>;
}

impl IntoRequestSpec for RequestSpec {
    fn into_request_spec(self) -> Result<RequestSpec, ClientError> {
        Ok(self)
    }
}

impl IntoRequestSpec for reqwest::Request {
    fn into_request_spec(self) -> Result<RequestSpec, ClientError> {
        RequestSpec::try_from(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_header_values() {
        let spec = RequestSpec::get("http://h/x")
            .unwrap()
            .header("authorization", "Bearer SECRET")
            .unwrap()
            .body("hello");
        let shown = format!("{spec:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("body_len: Some(5)"), "{shown}");
    }

    #[test]
    fn from_reqwest_request_keeps_the_body() {
        let client = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
            .unwrap()
            .build()
            .unwrap();
        let req = client
            .post("http://h/x")
            .header("x-a", "1")
            .body("payload")
            .build()
            .unwrap();
        let spec = RequestSpec::try_from(req).unwrap();
        assert_eq!(spec.method, Method::POST);
        assert_eq!(spec.body.as_deref(), Some(&b"payload"[..]));
        assert_eq!(spec.headers["x-a"], "1");
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            RequestSpec::get("not a url"),
            Err(ClientError::InvalidRequest(_))
        ));
    }
}
