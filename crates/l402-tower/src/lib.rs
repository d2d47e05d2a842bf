//! The L402 paywall as a [`tower::Layer`]: unpaid requests get a `402` challenge (an invoice from
//! the Lightning backend and a freshly minted macaroon), paid requests are verified in memory with
//! no database or Lightning call, and the verified token reaches the inner service as a request
//! extension and as documented headers. The same layer guards an axum router, a tonic server or
//! the `l402` reverse proxy.
//!
//! Does IO only through the injected [`l402_backend::LightningBackend`] when minting.
//!
//! A paywall in front of a tower service, with the embedded dev wallet (regtest) as the seller's
//! node; the same wallet then pays the challenge, as a buyer's would:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use l402_core::challenge::{Scheme, parse_first_challenge};
//! use l402_core::credential::single_authorization_value;
//! use l402_core::invoice::Network;
//! use l402_core::keys::{KeyRing, MasterKey};
//! use l402_core::Msat;
//! use l402_lightning::dev::DevWallet;
//! use l402_lightning::{LightningBackend, PayOptions};
//! use l402_tower::{FixedPrice, L402Layer, Offer, Paywall, RevocationSet};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let data_dir = tempfile::tempdir()?;
//! let wallet = Arc::new(DevWallet::open(data_dir.path(), Network::Regtest)?);
//! let keys = KeyRing::new(1, &MasterKey::from_bytes([7; 32])); // a real one is random and secret
//! let paywall = Arc::new(Paywall::new(keys, wallet.clone(), RevocationSet::default()));
//!
//! // 21 sat per call to any tower service: an axum router, a tonic server, or this function.
//! let weather = service_fn(|_: Request<Full<Bytes>>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("sunny"))))
//! });
//! let offer = Offer::new("weather", Msat::from_sat(21));
//! let api = L402Layer::new(paywall, FixedPrice(offer)).layer(weather);
//!
//! // Unpaid: `402 Payment Required` with an L402 challenge (a macaroon and an invoice).
//! let unpaid = api.clone().oneshot(Request::get("/today").body(Full::default())?).await?;
//! assert_eq!(unpaid.status(), StatusCode::PAYMENT_REQUIRED);
//! let values = unpaid.headers().get_all("www-authenticate");
//! let challenge = parse_first_challenge(values.iter().filter_map(|v| v.to_str().ok()))?;
//! assert_eq!(challenge.scheme, Scheme::L402);
//!
//! // Pay the invoice, then prove it: `Authorization: L402 <macaroon>:<preimage>`.
//! let options = PayOptions { max_fee: Msat(0), timeout: Duration::from_secs(5) };
//! let paid = wallet.pay_invoice(&challenge.invoice, options).await?;
//! let proof = single_authorization_value(Scheme::L402, &challenge.macaroon, &paid.preimage);
//! let request = Request::get("/today").header("authorization", proof).body(Full::default())?;
//! let answer = api.oneshot(request).await?;
//! assert_eq!(answer.status(), StatusCode::OK);
//! assert_eq!(answer.into_body().collect().await?.to_bytes(), "sunny");
//! # Ok(()) }
//! ```

mod bounded;
mod bucket;
mod challenge_limit;
mod client;
mod forwarded;
mod freebies;
mod layer;
mod lease;
mod meter;
mod mpp;
mod offer;
mod offer_check;
mod outcome;
mod paywall;
mod rate_limit;
mod response;
mod revocations;
mod session;
mod session_flow;
mod shared_keys;
mod system;
mod verified_cache;

pub use bucket::{Bucket, RateLimit};
pub use challenge_limit::{
    MAX_CLIENTS, OUTSTANDING_WINDOW_SECS, OutstandingChallenges, Reservation,
};
pub use client::{DEFAULT_IPV6_PREFIX_LEN, client_key};
pub use forwarded::{
    HEADER_CAVEAT, HEADER_PAYMENT_HASH, HEADER_SERVICE, HEADER_TOKEN_ID, strip_credential,
    strip_spoofed_headers,
};
pub use freebies::Freebies;
pub use layer::{L402Layer, L402Service, ResponseBody};
pub use lease::{DEFAULT_STREAM_GRACE, LeaseEnd, TokenLease};
pub use meter::{MeterFuture, MeterLayer, MeterService, Metered};
pub use mpp::{CallCharge, ChargeLedger, LedgerError, MppSettings, MppVerdict, Protocols};
pub use offer::{FixedPrice, Offer, Pricer};
pub use outcome::{Outcome, PaywallDecision, PaywallStats};
pub use paywall::{
    ChallengeObserver, Challenges, MintedChallenge, Paywall, PaywallSettings, Verdict,
};
pub use rate_limit::{MAX_BUCKETS, RateLimitRule, RateLimiter, Subject};
pub use response::{ChallengeError, is_grpc};
pub use revocations::RevocationSet;
pub use session::{
    BalanceReservation, Closed, MAX_UNITS_HEADER, Metering, OpenSession, SESSION_STATUS_HEADER,
    SessionLedger, USAGE_EVENT, USAGE_HEADER, close_session,
};
pub use shared_keys::SharedKeyRing;
pub use system::{OsRandom, SystemClock};
pub use verified_cache::Verified;
