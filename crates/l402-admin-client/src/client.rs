//! A client of the admin API, for `l402 admin` and scripts: sends the macaroon, returns the
//! JSON answer or a typed error carrying the API's code and message.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminClientError {
    /// The macaroon file could not be read.
    #[error(
        "reading the admin macaroon {path}: {source} (it is written to the seller's data \
         directory when `l402 serve` starts with an admin listener)"
    )]
    Macaroon {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No answer from the admin listener.
    #[error(
        "no answer from the admin API at {url}: is `l402 serve` running with `--admin-listen` \
         (or `[admin] listen`) on that address?"
    )]
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The API answered with an error.
    #[error("the admin API refused ({status} {code}): {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable error code (`unauthorized`, `read_only`, `bad_request`, …).
        code: String,
        /// The API's message.
        message: String,
    },
    /// No HTTP client could be built (the TLS trust settings).
    #[error("preparing TLS for the admin API")]
    Tls(#[source] l402_tls::TlsError),
    /// The answer was not the JSON expected.
    #[error("the admin API answered {status} with something that is not JSON")]
    NotJson {
        /// The HTTP status.
        status: u16,
    },
}

impl AdminClientError {
    /// True when the caller's input or credential is at fault (bad id, refused macaroon),
    /// rather than the server or the network.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Macaroon { .. } => true,
            Self::Api { status, .. } => (400..500).contains(status),
            _ => false,
        }
    }
}

/// The HTTP methods the admin API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Act.
    Post,
    /// Put in place (a service's settings).
    Put,
    /// Undo.
    Delete,
}

/// The hex of the admin macaroon in `file`, as the seller writes it (surrounding whitespace
/// dropped).
pub fn read_macaroon(file: &Path) -> Result<String, AdminClientError> {
    std::fs::read_to_string(file)
        .map(|text| text.trim().to_owned())
        .map_err(|source| AdminClientError::Macaroon {
            path: file.display().to_string(),
            source,
        })
}

/// A client of one admin listener.
#[derive(Clone)]
pub struct AdminClient {
    base: String,
    /// `None`: the client authenticates with its certificate only (mutual TLS).
    authorization: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl AdminClient {
    /// A client of the admin API at `base` (e.g. `http://127.0.0.1:9402`) presenting the
    /// macaroon in `macaroon_file` (hex, as the seller writes it).
    pub fn new(base: &str, macaroon_file: &Path) -> Result<Self, AdminClientError> {
        Self::with_macaroon(base, &read_macaroon(macaroon_file)?)
    }

    /// A client presenting `macaroon_hex`. An `https://` admin URL is checked with the trust
    /// the environment selects ([`l402_tls::Trust::from_env`]).
    pub fn with_macaroon(base: &str, macaroon_hex: &str) -> Result<Self, AdminClientError> {
        Self::connect(base, Some(macaroon_hex), &l402_tls::Trust::from_env(), None)
    }

    /// A client of `base` that checks an `https://` listener with `trust`, presents
    /// `identity` when the listener requires a client certificate (mutual TLS), and the
    /// macaroon `macaroon_hex` when given (with a client certificate, the listener may need
    /// none).
    pub fn connect(
        base: &str,
        macaroon_hex: Option<&str>,
        trust: &l402_tls::Trust,
        identity: Option<&l402_tls::ClientIdentity>,
    ) -> Result<Self, AdminClientError> {
        let builder = match identity {
            Some(identity) => l402_tls::reqwest_builder_with_identity(trust, identity),
            None => l402_tls::reqwest_builder(trust),
        }
        .map_err(AdminClientError::Tls)?;
        let http = builder
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|source| AdminClientError::Unreachable {
                url: base.to_owned(),
                source,
            })?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            authorization: macaroon_hex.map(|hex| format!("Bearer {hex}")),
            http,
        })
    }

    /// Calls `method path` (e.g. `/api/v1/status`) with an optional JSON body; returns the
    /// JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, AdminClientError> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            Method::Get => self.http.get(&url),
            Method::Post => self.http.post(&url),
            Method::Put => self.http.put(&url),
            Method::Delete => self.http.delete(&url),
        };
        let mut request = request;
        if let Some(authorization) = &self.authorization {
            request = request.header("authorization", authorization);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|source| AdminClientError::Unreachable {
                url: url.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| AdminClientError::Unreachable { url, source })?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|_| AdminClientError::NotJson { status })?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let error = &value["error"];
        Err(AdminClientError::Api {
            status,
            code: error["code"].as_str().unwrap_or("unknown").to_owned(),
            message: error["message"].as_str().unwrap_or("").to_owned(),
        })
    }
}
