//! The receipt of a paid request: `Payment-Receipt: <base64url(JSON)>`, on 2xx answers only.

use serde::{Deserialize, Serialize};

/// A `Payment-Receipt`. Fields are written in the order Aperture writes them (readers parse,
/// they never compare bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// `"success"`.
    pub status: String,
    /// The method, e.g. `lightning`.
    pub method: String,
    /// RFC 3339 time of the acceptance.
    pub timestamp: String,
    /// For a Lightning charge, the payment hash (hex), never the preimage.
    pub reference: String,
    /// The challenge the credential answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_id: Option<String>,
    /// Session close: the refunded amount in sats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_sats: Option<u64>,
    /// Session close: `succeeded`, `failed` or `skipped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_status: Option<String>,
}

/// Why a `Payment-Receipt` value could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Not strict base64url.
    #[error("receipt is not base64url")]
    Base64(#[source] crate::b64::B64Error),
    /// Not the receipt's JSON object.
    #[error("receipt is not the expected JSON object")]
    Json(#[source] serde_json::Error),
}

impl Receipt {
    /// A successful Lightning charge receipt.
    pub fn lightning_charge(
        timestamp: String,
        payment_hash_hex: String,
        challenge_id: String,
    ) -> Self {
        Receipt {
            status: "success".into(),
            method: crate::METHOD_LIGHTNING.into(),
            timestamp,
            reference: payment_hash_hex,
            challenge_id: Some(challenge_id),
            refund_sats: None,
            refund_status: None,
        }
    }

    /// A successful Lightning session receipt: `reference` is the session id (the deposit's
    /// payment hash).
    pub fn lightning_session(
        timestamp: String,
        session_id_hex: String,
        challenge_id: Option<String>,
    ) -> Self {
        Receipt {
            status: "success".into(),
            method: crate::METHOD_LIGHTNING.into(),
            timestamp,
            reference: session_id_hex,
            challenge_id,
            refund_sats: None,
            refund_status: None,
        }
    }

    /// The header value.
    pub fn to_header(&self) -> String {
        crate::b64::encode(&serde_json::to_vec(self).expect("a receipt serialises"))
    }

    /// Reads a header value.
    pub fn from_header(value: &str) -> Result<Self, ReceiptError> {
        let bytes = crate::b64::decode(value.trim()).map_err(ReceiptError::Base64)?;
        serde_json::from_slice(&bytes).map_err(ReceiptError::Json)
    }
}
