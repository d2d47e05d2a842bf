//! The HTTP `Payment` authentication scheme (the Machine Payments Protocol, "MPP") with the
//! Lightning `charge` method, sans-IO.
//!
//! - [`challenge`] - the `WWW-Authenticate: Payment` parameters, their HMAC-bound `id`
//!   (stateless: verifying needs the server secret only) and the comma-folded list parser;
//! - [`credential`] - `Authorization: Payment <base64url JSON>`;
//! - [`receipt`] - `Payment-Receipt`;
//! - [`problem`] - RFC 9457 problem details with the draft's problem types;
//! - [`charge`] - the Lightning charge method (request object, minting, verification);
//! - [`session`] - the Lightning session intent (deposit, bearer, top-up, close);
//! - [`accept`] - the client's `Accept-Payment` preference;
//! - [`mcp`] - the scheme over JSON-RPC/MCP: error codes, `_meta` keys, the JSON form of
//!   challenges and credentials;
//! - [`jcs`] and [`b64`] - RFC 8785 canonical JSON and strict base64url.
//!
//! Replay protection (a charge credential is single-use) needs state; this crate tells the
//! caller which payment hash to consume, the caller's store does it.

pub mod accept;
pub mod b64;
pub mod challenge;
pub mod charge;
pub mod credential;
pub mod jcs;
pub mod mcp;
mod params;
pub mod problem;
pub mod receipt;
pub mod session;
pub mod time;

pub use challenge::Challenge;
pub use charge::{
    ChargeError, ChargeOffer, ChargeRequest, ChargeVerifier, Expectation, VerifiedCharge,
};
pub use credential::Credential;
pub use params::HeaderError;
pub use problem::{Problem, ProblemType};
pub use receipt::Receipt;

/// The authentication scheme's name, as sent (matched case-insensitively).
pub const SCHEME: &str = "Payment";
/// The response header carrying the receipt of a paid request.
pub const RECEIPT_HEADER: &str = "payment-receipt";
/// The request header carrying the client's method/intent preference.
pub const ACCEPT_PAYMENT_HEADER: &str = "accept-payment";
/// The method this crate implements.
pub const METHOD_LIGHTNING: &str = "lightning";
/// The one-payment-per-request intent.
pub const INTENT_CHARGE: &str = "charge";
/// The prepaid, metered intent.
pub const INTENT_SESSION: &str = "session";
