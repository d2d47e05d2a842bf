//! The credential: `Authorization: Payment <base64url(JSON)>`, JSON
//! `{"challenge": {…echo…}, "source"?: "…", "payload": {…}}`.

use serde::{Deserialize, Serialize};

use crate::challenge::Challenge;

/// The largest encoded credential read (the draft asks servers to accept at least 4 KB).
pub const MAX_CREDENTIAL_LEN: usize = 64 * 1024;

/// A `Payment` credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The challenge answered, echoed unchanged.
    pub challenge: Challenge,
    /// Who pays (a DID, optional; never required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The method's proof, e.g. `{"preimage": "…"}`.
    pub payload: serde_json::Map<String, serde_json::Value>,
}

/// Why an `Authorization` value is not a `Payment` credential.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Another scheme (the caller may try it).
    #[error("not a Payment credential")]
    OtherScheme,
    /// Longer than [`MAX_CREDENTIAL_LEN`].
    #[error("credential longer than {MAX_CREDENTIAL_LEN} bytes")]
    TooLong,
    /// Not strict base64url.
    #[error("credential is not base64url")]
    Base64(#[source] crate::b64::B64Error),
    /// Not the credential's JSON object.
    #[error("credential is not the expected JSON object")]
    Json(#[source] serde_json::Error),
    /// Several `Payment` credentials in one request (the draft: answer 400 or refuse).
    #[error("several Payment credentials in one request")]
    Several,
    /// A required echoed parameter is empty.
    #[error("credential's challenge.{0} is empty")]
    Empty(&'static str),
}

impl Credential {
    /// Whether an `Authorization` value uses the `Payment` scheme (case-insensitive).
    pub fn is_payment(authorization: &str) -> bool {
        authorization
            .split_once(' ')
            .is_some_and(|(s, _)| s.eq_ignore_ascii_case(crate::SCHEME))
    }

    /// Reads an `Authorization` value.
    pub fn from_authorization(authorization: &str) -> Result<Self, CredentialError> {
        let (scheme, token) = authorization
            .split_once(' ')
            .ok_or(CredentialError::OtherScheme)?;
        if !scheme.eq_ignore_ascii_case(crate::SCHEME) {
            return Err(CredentialError::OtherScheme);
        }
        let token = token.trim_matches(' ');
        if token.len() > MAX_CREDENTIAL_LEN {
            return Err(CredentialError::TooLong);
        }
        let bytes = crate::b64::decode(token).map_err(CredentialError::Base64)?;
        let credential: Credential =
            serde_json::from_slice(&bytes).map_err(CredentialError::Json)?;
        let c = &credential.challenge;
        for (name, value) in [
            ("id", &c.id),
            ("realm", &c.realm),
            ("method", &c.method),
            ("intent", &c.intent),
            ("request", &c.request),
        ] {
            if value.is_empty() {
                return Err(CredentialError::Empty(name));
            }
        }
        Ok(credential)
    }

    /// The `Authorization` value: `Payment <base64url(JSON)>`.
    pub fn to_authorization(&self) -> String {
        let json = serde_json::to_vec(self).expect("a credential serialises");
        format!("{} {}", crate::SCHEME, crate::b64::encode(&json))
    }
}
