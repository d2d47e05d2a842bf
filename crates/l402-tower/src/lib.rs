//! The L402 paywall as a [`tower::Layer`]: unpaid requests get a `402` challenge (an invoice from
//! the Lightning backend and a freshly minted macaroon), paid requests are verified in memory with
//! no database or Lightning call, and the verified token reaches the inner service as a request
//! extension and as documented headers. The same layer guards an axum router, a tonic server or
//! the `l402` reverse proxy.
//!
//! Does IO only through the injected [`l402_backend::LightningBackend`] when minting.

mod forwarded;
mod freebies;
mod layer;
mod offer;
mod paywall;
mod response;
mod revocations;
mod system;
mod verified_cache;

pub use forwarded::{
    HEADER_CAVEAT, HEADER_PAYMENT_HASH, HEADER_SERVICE, HEADER_TOKEN_ID, strip_spoofed_headers,
};
pub use freebies::Freebies;
pub use layer::{L402Layer, L402Service, ResponseBody};
pub use offer::{FixedPrice, Offer, Pricer};
pub use paywall::{ChallengeObserver, MintedChallenge, Paywall, PaywallSettings, Verdict};
pub use response::{ChallengeError, is_grpc};
pub use revocations::RevocationSet;
pub use system::{OsRandom, SystemClock};
pub use verified_cache::Verified;
