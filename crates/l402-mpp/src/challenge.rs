//! The `WWW-Authenticate: Payment` challenge: its parameters, the HMAC binding of its `id`,
//! writing it and reading a (possibly comma-folded) list of them.
//!
//! The `id` is `base64url(HMAC-SHA256(secret, realm|method|intent|request|expires|digest|opaque))`
//! with absent optional slots empty; `request` and `opaque` enter as their wire strings, and
//! `description` is not covered. Verifying it needs the secret only: no store read.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::params::{self, HeaderError};

/// One `Payment` challenge, as sent in `WWW-Authenticate` and echoed in a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    /// The challenge id, bound to the other parameters (see [`Challenge::bind`]).
    pub id: String,
    /// The protection space.
    pub realm: String,
    /// The payment method, e.g. `lightning`.
    pub method: String,
    /// The intent, e.g. `charge`.
    pub intent: String,
    /// base64url (no padding) of the JCS bytes of the method's request object; echoed
    /// byte-for-byte, never re-encoded.
    pub request: String,
    /// RFC 3339 expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// RFC 9530 digest of the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Display text; not covered by the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// base64url of JCS of a flat string-to-string object the server gets back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opaque: Option<String>,
}

fn slot(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

impl Challenge {
    /// The HMAC input: seven `|`-joined slots.
    pub fn hmac_input(&self) -> String {
        [
            self.realm.as_str(),
            &self.method,
            &self.intent,
            &self.request,
            slot(&self.expires),
            slot(&self.digest),
            slot(&self.opaque),
        ]
        .join("|")
    }

    /// The id the parameters bind to under `secret`.
    pub fn compute_id(&self, secret: &[u8]) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length");
        mac.update(self.hmac_input().as_bytes());
        crate::b64::encode(&mac.finalize().into_bytes())
    }

    /// Sets `id` to the binding under `secret`.
    pub fn bind(mut self, secret: &[u8]) -> Self {
        self.id = self.compute_id(secret);
        self
    }

    /// Whether `id` is the binding under `secret` (constant-time comparison).
    pub fn id_matches(&self, secret: &[u8]) -> bool {
        let expected = self.compute_id(secret);
        expected.as_bytes().ct_eq(self.id.as_bytes()).into()
    }

    /// The `WWW-Authenticate` value: `Payment id="…", realm="…", …` in the draft's order.
    pub fn to_header(&self) -> Result<String, HeaderError> {
        let mut out = String::from(crate::SCHEME);
        out.push(' ');
        let fields: [(&'static str, Option<&str>); 9] = [
            ("id", Some(&self.id)),
            ("realm", Some(&self.realm)),
            ("method", Some(&self.method)),
            ("intent", Some(&self.intent)),
            ("request", Some(&self.request)),
            ("expires", self.expires.as_deref()),
            ("digest", self.digest.as_deref()),
            ("description", self.description.as_deref()),
            ("opaque", self.opaque.as_deref()),
        ];
        let mut first = true;
        for (name, value) in fields {
            let Some(value) = value else { continue };
            if !first {
                out.push_str(", ");
            }
            first = false;
            params::push_quoted(&mut out, name, value)?;
        }
        Ok(out)
    }

    /// Reads every complete `Payment` challenge of a `WWW-Authenticate` value (several header
    /// lines may be joined with `, `). Other schemes' parameters are skipped, a repeated
    /// parameter keeps its first value, an incomplete offer is skipped; no complete offer at all
    /// is an error.
    pub fn parse_list(header: &str) -> Result<Vec<Challenge>, HeaderError> {
        let raw = params::parse_challenges(header)?;
        let list: Vec<Challenge> = raw
            .iter()
            .filter(|c| c.scheme.eq_ignore_ascii_case(crate::SCHEME))
            .filter_map(|c| {
                let required = |n: &str| c.get(n).filter(|v| !v.is_empty()).map(str::to_owned);
                let optional = |n: &str| c.get(n).map(str::to_owned);
                Some(Challenge {
                    id: required("id")?,
                    realm: required("realm")?,
                    method: required("method")?,
                    intent: required("intent")?,
                    request: required("request")?,
                    expires: optional("expires"),
                    digest: optional("digest"),
                    description: optional("description"),
                    opaque: optional("opaque"),
                })
            })
            .collect();
        if list.is_empty() {
            return Err(HeaderError::NoChallenge);
        }
        Ok(list)
    }

    /// Decodes `request` (strict base64url, then JSON) into the method's request type.
    pub fn decode_request<T: serde::de::DeserializeOwned>(&self) -> Result<T, RequestError> {
        let bytes = crate::b64::decode(&self.request).map_err(RequestError::Base64)?;
        serde_json::from_slice(&bytes).map_err(RequestError::Json)
    }
}

/// Why a challenge's `request` could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not strict base64url.
    #[error("request is not base64url")]
    Base64(#[source] crate::b64::B64Error),
    /// Not the method's JSON object.
    #[error("request is not the method's JSON object")]
    Json(#[source] serde_json::Error),
}
