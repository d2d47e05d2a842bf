//! The L402 protocol, sans-IO: identifiers, caveats and satisfiers, the `WWW-Authenticate` and
//! `Authorization` codecs (L402 and legacy LSAT), minting and verification with an injected clock,
//! RNG and key source, BOLT11 checks, and the client's decision logic. Does no IO.

pub mod base64_codec;
pub mod caveat;
pub mod challenge;
#[cfg(feature = "bolt11")]
pub mod client;
pub mod credential;
pub mod dirs;
pub mod env;
pub mod identifier;
#[cfg(feature = "bolt11")]
pub mod invoice;
pub mod keys;
pub mod limits;
pub mod mint;
pub mod network;
pub mod price_bound;
pub mod satisfier;
mod scan;
pub mod session;
pub mod time;
pub mod token_status;
pub mod types;
pub mod verify;

pub use l402_macaroon as macaroon;
pub use network::Network;
pub use types::{HexError, Msat, PaymentHash, Preimage, TokenId};
