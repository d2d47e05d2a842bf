//! The HTTP `Payment` scheme (MPP), Lightning charge, beside L402: which schemes a service
//! sells ([`Protocols`]), the paywall's MPP settings ([`MppSettings`]), and the one piece of
//! state a charge needs, the ledger of consumed charges ([`ChargeLedger`]), which the seller
//! implements over its store (the store stays out of this crate).
//!
//! Verification is in memory (the challenge id is an HMAC over its parameters); only the
//! single-use check writes, once per paid request.

use std::sync::Arc;

use l402_core::PaymentHash;
use l402_mpp::session::{SessionError, SessionExpectation, SessionOffer, VerifiedSession};
use l402_mpp::{ChargeError, ChargeOffer, ChargeVerifier, Credential, Expectation, VerifiedCharge};

use crate::offer::Offer;

/// Which payment schemes a service sells. Default: L402 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocols {
    /// L402 (`WWW-Authenticate: L402 …` and `LSAT …`).
    pub l402: bool,
    /// The `Payment` scheme, Lightning charge (`WWW-Authenticate: Payment …`).
    pub mpp: bool,
}

impl Default for Protocols {
    fn default() -> Self {
        Protocols {
            l402: true,
            mpp: false,
        }
    }
}

/// Why the ledger could not answer.
#[derive(Debug, thiserror::Error)]
#[error("charge ledger: {0}")]
pub struct LedgerError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Records each paid charge once. Blocking (the layer calls it on a blocking thread).
pub trait ChargeLedger: Send + Sync + 'static {
    /// Marks the charge paid by `payment_hash` as used; `Ok(false)` if it already was (a
    /// replay). Must be atomic: of two concurrent calls with one hash, one gets `true`.
    /// `keep_until_unix` is when the record may be forgotten (the challenge has expired by
    /// then, so the credential is refused anyway).
    fn consume(
        &self,
        charge: &VerifiedCharge,
        service: &str,
        keep_until_unix: u64,
    ) -> Result<bool, LedgerError>;
}

/// What the paywall needs to sell the `Payment` scheme.
#[derive(Clone)]
pub struct MppSettings {
    /// The realm challenges carry (and credentials must echo).
    pub realm: String,
    /// The HMAC secret binding challenge ids; 32 random bytes, kept secret.
    pub secret: Vec<u8>,
    /// Secrets of earlier runs still accepted (rotation).
    pub previous_secrets: Vec<Vec<u8>>,
    /// `methodDetails.network`: `mainnet`, `regtest`, `signet`, `testnet`.
    pub network: String,
    /// The single-use ledger.
    pub ledger: Arc<dyn ChargeLedger>,
}

impl std::fmt::Debug for MppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MppSettings")
            .field("realm", &self.realm)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

/// The paywall's MPP state.
pub(crate) struct Mpp {
    pub verifier: ChargeVerifier,
    pub network: String,
    pub ledger: Arc<dyn ChargeLedger>,
}

impl Mpp {
    pub fn new(settings: MppSettings) -> Self {
        let mut verifier = ChargeVerifier::new(settings.realm, settings.secret);
        for old in settings.previous_secrets {
            verifier = verifier.accepting(old);
        }
        Mpp {
            verifier,
            network: settings.network,
            ledger: settings.ledger,
        }
    }

    /// Verifies a `Payment` credential for `offer` (everything but single use).
    pub fn verify(
        &self,
        credential: &Credential,
        offer: &Offer,
        now_unix: u64,
    ) -> Result<VerifiedCharge, ChargeError> {
        self.verify_scoped(credential, offer, &offer.service, now_unix)
    }

    /// Verifies a session credential for a metered `offer` (everything but the balance).
    pub fn verify_session(
        &self,
        credential: &Credential,
        offer: &Offer,
        now_unix: u64,
    ) -> Result<VerifiedSession, SessionError> {
        self.verifier.verify_session(
            credential,
            &SessionExpectation {
                scope: Some(&offer.service),
                now_unix,
            },
        )
    }

    /// The `WWW-Authenticate` value of a session challenge (open or top-up) for a fresh
    /// deposit invoice.
    pub fn session_header(
        &self,
        offer: &Offer,
        metering: &crate::Metering,
        bolt11: &str,
        payment_hash: PaymentHash,
        expires_unix: u64,
    ) -> Option<String> {
        let challenge = self
            .verifier
            .session_challenge(&SessionOffer {
                deposit_invoice: Some(bolt11),
                payment_hash,
                unit_price_sat: metering.unit_price.to_sat_ceil(),
                deposit_sat: Some(offer.price.to_sat_ceil()),
                unit_type: Some(&metering.unit),
                idle_timeout_secs: Some(metering.idle_timeout_secs),
                expires_unix,
                scope: Some(&offer.service),
                description: None,
            })
            .ok()?;
        challenge.to_header().ok()
    }

    /// The `WWW-Authenticate` value for a fresh invoice.
    pub fn challenge_header(
        &self,
        offer: &Offer,
        bolt11: &str,
        payment_hash: PaymentHash,
        expires_unix: u64,
    ) -> Option<String> {
        let call = CallCharge {
            scope: &offer.service,
            description: None,
        };
        self.charge_challenge(offer, &call, bolt11, payment_hash, expires_unix)?
            .to_header()
            .ok()
    }

    /// A charge challenge for `offer`'s price on a fresh invoice, bound to `call`'s scope.
    pub fn charge_challenge(
        &self,
        offer: &Offer,
        call: &CallCharge<'_>,
        bolt11: &str,
        payment_hash: PaymentHash,
        expires_unix: u64,
    ) -> Option<l402_mpp::Challenge> {
        self.verifier
            .challenge(&ChargeOffer {
                invoice: bolt11,
                payment_hash,
                amount_sat: offer.price.to_sat_ceil(),
                network: &self.network,
                expires_unix,
                scope: Some(call.scope),
                description: call.description,
            })
            .ok()
    }

    /// Verifies a charge credential for `offer`'s price and `scope` (everything but single
    /// use).
    pub fn verify_scoped(
        &self,
        credential: &Credential,
        offer: &Offer,
        scope: &str,
        now_unix: u64,
    ) -> Result<VerifiedCharge, ChargeError> {
        let expect = Expectation {
            price_sat: offer.price.to_sat_ceil(),
            scope: Some(scope),
            now_unix,
        };
        self.verifier.verify(credential, &expect)
    }
}

/// One call inside a request, sold on its own with the `Payment` charge (e.g. an MCP
/// `tools/call`): the resource its challenges are bound to, so a credential bought for one call
/// opens no other, and what the buyer is shown.
#[derive(Debug, Clone, Copy)]
pub struct CallCharge<'a> {
    /// The resource (e.g. `<service>/tools/<name>`), carried in the challenge's `opaque` and
    /// covered by its id.
    pub scope: &'a str,
    /// The challenge's `description`, if any.
    pub description: Option<&'a str>,
}

/// What the paywall decided about a request carrying a `Payment` credential.
#[derive(Debug)]
pub enum MppVerdict {
    /// A charge credential verified; consume it once, then serve.
    Verified(VerifiedCharge),
    /// A session credential verified (a metered service); its action is the next step.
    Session(l402_mpp::session::VerifiedSession),
    /// Refused: answer with the problem and fresh challenges.
    Refused {
        /// Why (a charge's reasons are wrapped in [`SessionError::Challenge`]).
        error: SessionError,
        /// The challenge the credential answered, if it could be read.
        challenge_id: Option<String>,
    },
}
