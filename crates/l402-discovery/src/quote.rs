//! `POST /l402/quote`: what a request would cost, before paying.

use serde::{Deserialize, Serialize};

/// A request for a price. Fields the proposal defines and this seller does not use
/// (`constraints`, `optimize`, `token_id`) are accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    /// The service to buy (as in the manifest). Optional when `path` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The tier (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    /// The request path to price; absent: the service's base price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The request method (default `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Capabilities the token must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// The token lifetime wanted, in seconds (0: no expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime_secs: Option<u64>,
    /// The most the buyer pays, in millisatoshis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price_msat: Option<u64>,
    /// The payment method (`bolt11`, the only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
}

/// The price of a token for the request quoted. Price only: no invoice or macaroon is minted;
/// the request itself gets the 402 challenge to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The service the token is for.
    pub service: String,
    /// Its tier.
    pub tier: u8,
    /// The price, in millisatoshis (0: free, no token needed).
    pub price_msat: u64,
    /// The same, in satoshis rounded up.
    pub price_sat: u64,
    /// Until when (unix seconds) this price holds, unless the seller's configuration changes.
    pub quote_expiry: u64,
    /// The lifetime of the token sold, in seconds; absent: no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime_secs: Option<u64>,
    /// The capabilities the token sold carries.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The path quoted, if one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The method quoted, if a path was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The payment method: `bolt11`.
    pub payment_method: String,
    /// The service's other priced resources and their prices (a quote without a path lists
    /// them all).
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
}

/// Another resource of the service and its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    /// Its path pattern.
    pub path: String,
    /// Its method, or `*`.
    pub method: String,
    /// Its price in millisatoshis.
    pub price_msat: u64,
    /// Capabilities a token must carry for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities_required: Vec<String>,
}

/// Why a quote was refused, with the HTTP status it is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteErrorCode {
    /// The body is not a quote request (400).
    BadRequest,
    /// No such service (404).
    UnknownService,
    /// No such tier (404).
    UnknownTier,
    /// No service routes that path (404).
    UnknownResource,
    /// The service does not sell that capability (400).
    UnknownCapability,
    /// The price is above `max_price_msat` (409).
    UnsatisfiableBudget,
    /// The token lifetime asked for is longer than the one sold (409).
    UnsatisfiableLifetime,
    /// A payment method other than `bolt11` (400).
    UnsupportedPaymentMethod,
    /// Not `POST` (405).
    MethodNotAllowed,
}

impl QuoteErrorCode {
    /// The code as written in the error body.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::UnknownService => "unknown_service",
            Self::UnknownTier => "unknown_tier",
            Self::UnknownResource => "unknown_resource",
            Self::UnknownCapability => "unknown_capability",
            Self::UnsatisfiableBudget => "unsatisfiable_budget",
            Self::UnsatisfiableLifetime => "unsatisfiable_lifetime",
            Self::UnsupportedPaymentMethod => "unsupported_payment_method",
            Self::MethodNotAllowed => "method_not_allowed",
        }
    }

    /// The code written as `code`, if it is one of these.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::BadRequest,
            Self::UnknownService,
            Self::UnknownTier,
            Self::UnknownResource,
            Self::UnknownCapability,
            Self::UnsatisfiableBudget,
            Self::UnsatisfiableLifetime,
            Self::UnsupportedPaymentMethod,
            Self::MethodNotAllowed,
        ]
        .into_iter()
        .find(|c| c.as_str() == code)
    }

    /// The HTTP status answered.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest | Self::UnknownCapability | Self::UnsupportedPaymentMethod => 400,
            Self::UnknownService | Self::UnknownTier | Self::UnknownResource => 404,
            Self::UnsatisfiableBudget | Self::UnsatisfiableLifetime => 409,
            Self::MethodNotAllowed => 405,
        }
    }
}

/// The error body: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A [`QuoteErrorCode`] string.
    pub code: String,
    /// For a person.
    pub message: String,
    /// The request field at fault, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    /// An error with `code`, `message` and the `field` at fault.
    pub fn new(code: QuoteErrorCode, message: impl Into<String>, field: Option<&str>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.as_str().to_owned(),
                message: message.into(),
                field: field.map(str::to_owned),
            },
        }
    }
}
