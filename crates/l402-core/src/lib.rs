//! The L402 protocol, sans-IO: identifiers, caveats and satisfiers, the `WWW-Authenticate` and
//! `Authorization` codecs (L402 and legacy LSAT), minting and verification with an injected clock,
//! RNG and key source, BOLT11 checks, and the client's decision logic. Does no IO.

pub mod base64_codec;
pub mod challenge;
pub mod credential;
pub mod invoice;
pub mod types;

pub use types::{HexError, Msat, PaymentHash, Preimage, TokenId};
