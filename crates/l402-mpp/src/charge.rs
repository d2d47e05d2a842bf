//! The Lightning `charge` method: the request object (a BOLT11 invoice and its payment hash),
//! minting a bound challenge, and verifying a credential (`payload.preimage`) statelessly.
//!
//! Verification binds the credential to this server (realm and HMAC id), to the resource
//! (`opaque` scope), to time (`expires`), to the price (the echoed amount must cover the request)
//! and to the payment (`sha256(preimage) == paymentHash`). Single use needs state: the caller
//! consumes [`VerifiedCharge::payment_hash`] once and answers [`ChargeError::Replayed`] after.

use std::collections::BTreeMap;

use l402_core::{PaymentHash, Preimage};
use serde::{Deserialize, Serialize};

use crate::challenge::{Challenge, RequestError};
use crate::credential::Credential;
use crate::jcs::{self, JcsError};
use crate::problem::{Problem, ProblemType};

/// The `request` object of a Lightning charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeRequest {
    /// Positive integer, decimal, in satoshis.
    pub amount: String,
    /// Exactly `sat`.
    pub currency: String,
    /// The invoice memo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Unused by Lightning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// A merchant reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The invoice and its convenience fields.
    pub method_details: ChargeDetails,
}

/// `methodDetails` of a Lightning charge request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeDetails {
    /// The BOLT11 invoice to pay; authoritative.
    pub invoice: String,
    /// Lowercase hex payment hash; equals the invoice's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_hash: Option<String>,
    /// `mainnet`, `regtest`, `signet` (default `mainnet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

impl ChargeRequest {
    /// The amount in sats, if it is a positive decimal integer without leading zeros and the
    /// currency is `sat`.
    pub fn amount_sat(&self) -> Option<u64> {
        let a = &self.amount;
        if self.currency != "sat"
            || a.is_empty()
            || a.starts_with('0')
            || !a.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        a.parse().ok()
    }

    /// The payment hash of `methodDetails`, if present and lowercase hex.
    pub fn payment_hash(&self) -> Option<PaymentHash> {
        let h = self.method_details.payment_hash.as_deref()?;
        if h.bytes().any(|c| c.is_ascii_uppercase()) {
            return None;
        }
        PaymentHash::from_hex(h).ok()
    }
}

/// What the server offers in one charge challenge.
#[derive(Debug, Clone)]
pub struct ChargeOffer<'a> {
    /// The BOLT11 invoice just minted.
    pub invoice: &'a str,
    /// Its payment hash.
    pub payment_hash: PaymentHash,
    /// Its amount in sats.
    pub amount_sat: u64,
    /// `methodDetails.network` (`mainnet`, `regtest`, `signet`, …).
    pub network: &'a str,
    /// Unix seconds at which the challenge expires (no later than the invoice).
    pub expires_unix: u64,
    /// The resource the challenge is for (covered by the id through `opaque`).
    pub scope: Option<&'a str>,
    /// Display text (the header's `description`, not covered by the id).
    pub description: Option<&'a str>,
}

/// What the request being served expects of a credential.
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    /// This request's price in sats: the echoed amount must be at least this.
    pub price_sat: u64,
    /// This request's resource (see [`ChargeOffer::scope`]).
    pub scope: Option<&'a str>,
    /// Unix seconds now.
    pub now_unix: u64,
}

/// A credential that verified; the caller still has to consume [`Self::payment_hash`] once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCharge {
    /// The paid invoice's hash: the single-use key and the receipt's `reference`.
    pub payment_hash: PaymentHash,
    /// The challenge answered.
    pub challenge_id: String,
    /// The amount paid, in sats.
    pub amount_sat: u64,
    /// When the challenge expires: the consumed record may be forgotten after this.
    pub expires_unix: u64,
}

/// Why a charge credential was refused. Each maps to a problem type.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    /// The credential cannot be read.
    #[error("malformed credential")]
    Malformed(#[source] crate::credential::CredentialError),
    /// Not `lightning`/`charge`.
    #[error("method {method}/{intent} is not supported here")]
    Unsupported {
        /// The echoed method.
        method: String,
        /// The echoed intent.
        intent: String,
    },
    /// The challenge names another realm.
    #[error("challenge was issued for realm {0:?}")]
    WrongRealm(String),
    /// The id is not the binding of the echoed parameters under any of our secrets.
    #[error("challenge id does not match its parameters: not issued by this server")]
    Forged,
    /// The challenge was issued for another resource.
    #[error("challenge was issued for another resource")]
    WrongScope,
    /// The challenge carries no readable `expires`.
    #[error("challenge has no valid expiry")]
    NoExpiry,
    /// The challenge has expired.
    #[error("challenge expired")]
    Expired,
    /// The echoed request cannot be read.
    #[error("challenge request is not a Lightning charge request")]
    Request(#[source] RequestError),
    /// The echoed request has no valid amount, currency or payment hash.
    #[error("challenge request has no valid amount, currency or payment hash")]
    BadRequest,
    /// The echoed amount is below this request's price.
    #[error("paid {paid} sat, this request costs {price} sat")]
    Insufficient {
        /// Sats paid.
        paid: u64,
        /// Sats this request costs.
        price: u64,
    },
    /// `payload.preimage` is missing or not 64 lowercase hex digits.
    #[error("payload.preimage is not 64 lowercase hex digits")]
    BadPreimage,
    /// The preimage does not hash to the payment hash.
    #[error("preimage does not match the payment hash")]
    WrongPreimage,
    /// The credential was already used (reported by the caller's store).
    #[error("this credential was already used")]
    Replayed,
}

impl ChargeError {
    /// The problem type the draft gives this failure.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            Self::Malformed(_) | Self::Request(_) | Self::BadRequest => {
                ProblemType::MalformedCredential
            }
            Self::Unsupported { .. } => ProblemType::MethodUnsupported,
            Self::WrongRealm(_) | Self::Forged | Self::WrongScope | Self::Replayed => {
                ProblemType::InvalidChallenge
            }
            Self::NoExpiry | Self::Expired => ProblemType::PaymentExpired,
            Self::Insufficient { .. } => ProblemType::PaymentInsufficient,
            Self::BadPreimage => ProblemType::LightningMalformedCredential,
            Self::WrongPreimage => ProblemType::LightningInvalidPreimage,
        }
    }

    /// The problem details body.
    pub fn to_problem(&self, challenge_id: Option<&str>) -> Problem {
        let p = Problem::new(self.problem_type(), self.to_string());
        match challenge_id {
            Some(id) => p.with_challenge_id(id),
            None => p,
        }
    }
}

/// The server side of the Lightning charge: mints bound challenges and verifies credentials.
/// Holds the HMAC secret (and older secrets still accepted while their challenges live).
pub struct ChargeVerifier {
    realm: String,
    secret: Vec<u8>,
    previous: Vec<Vec<u8>>,
}

impl std::fmt::Debug for ChargeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChargeVerifier")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// `payload[field]` as a preimage, if it is 64 lowercase hex digits.
pub(crate) fn payload_preimage(
    payload: &serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Option<Preimage> {
    payload
        .get(field)
        .and_then(|v| v.as_str())
        .filter(|p| p.len() == 64 && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|p| Preimage::from_hex(p).ok())
}

/// The `opaque` object binding a challenge to a resource.
fn scope_opaque(scope: &str) -> Result<String, JcsError> {
    jcs::encode_b64(&BTreeMap::from([("scope", scope)]))
}

impl ChargeVerifier {
    /// A verifier for `realm` signing with `secret`.
    pub fn new(realm: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        ChargeVerifier {
            realm: realm.into(),
            secret: secret.into(),
            previous: Vec::new(),
        }
    }

    /// Also accepts challenges bound under an older secret (rotation).
    pub fn accepting(mut self, old_secret: impl Into<Vec<u8>>) -> Self {
        self.previous.push(old_secret.into());
        self
    }

    /// The realm challenges carry.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// A bound challenge for `offer`.
    pub fn challenge(&self, offer: &ChargeOffer<'_>) -> Result<Challenge, JcsError> {
        let request = ChargeRequest {
            amount: offer.amount_sat.to_string(),
            currency: "sat".into(),
            description: None,
            recipient: None,
            external_id: None,
            method_details: ChargeDetails {
                invoice: offer.invoice.to_owned(),
                payment_hash: Some(offer.payment_hash.to_hex()),
                network: Some(offer.network.to_owned()),
            },
        };
        self.bind(
            crate::INTENT_CHARGE,
            &request,
            offer.expires_unix,
            offer.scope,
            offer.description,
        )
    }

    /// Checks what a challenge of every intent must satisfy: method `lightning` and `intent`,
    /// this realm, an id bound under one of the secrets, and the resource `scope`. Returns its
    /// expiry (`None` when it has none or it does not parse); enforcing it is the caller's.
    pub(crate) fn check_binding(
        &self,
        c: &Challenge,
        intent: &str,
        scope: Option<&str>,
    ) -> Result<Option<u64>, ChargeError> {
        if c.method != crate::METHOD_LIGHTNING || c.intent != intent {
            return Err(ChargeError::Unsupported {
                method: c.method.clone(),
                intent: c.intent.clone(),
            });
        }
        if c.realm != self.realm {
            return Err(ChargeError::WrongRealm(c.realm.clone()));
        }
        let bound = std::iter::once(&self.secret)
            .chain(&self.previous)
            .fold(false, |ok, s| ok | c.id_matches(s));
        if !bound {
            return Err(ChargeError::Forged);
        }
        let wanted = scope
            .map(scope_opaque)
            .transpose()
            .map_err(|_| ChargeError::WrongScope)?;
        if c.opaque != wanted {
            return Err(ChargeError::WrongScope);
        }
        Ok(c.expires.as_deref().and_then(crate::time::parse))
    }

    /// Binds a challenge of `intent` whose request object is `request` (see [`Challenge::bind`]).
    pub(crate) fn bind<T: Serialize>(
        &self,
        intent: &str,
        request: &T,
        expires_unix: u64,
        scope: Option<&str>,
        description: Option<&str>,
    ) -> Result<Challenge, JcsError> {
        let challenge = Challenge {
            id: String::new(),
            realm: self.realm.clone(),
            method: crate::METHOD_LIGHTNING.into(),
            intent: intent.into(),
            request: jcs::encode_b64(request)?,
            expires: Some(crate::time::format(expires_unix)),
            digest: None,
            description: description.map(str::to_owned),
            opaque: scope.map(scope_opaque).transpose()?,
        };
        Ok(challenge.bind(&self.secret))
    }

    /// Verifies an `Authorization: Payment …` value for the request `expect` describes.
    pub fn verify_header(
        &self,
        authorization: &str,
        expect: &Expectation<'_>,
    ) -> Result<VerifiedCharge, ChargeError> {
        let credential =
            Credential::from_authorization(authorization).map_err(ChargeError::Malformed)?;
        self.verify(&credential, expect)
    }

    /// Verifies a credential for the request `expect` describes (everything but single use).
    pub fn verify(
        &self,
        credential: &Credential,
        expect: &Expectation<'_>,
    ) -> Result<VerifiedCharge, ChargeError> {
        let c = &credential.challenge;
        let expires_unix = self
            .check_binding(c, crate::INTENT_CHARGE, expect.scope)?
            .ok_or(ChargeError::NoExpiry)?;
        if expect.now_unix >= expires_unix {
            return Err(ChargeError::Expired);
        }
        let request: ChargeRequest = c.decode_request().map_err(ChargeError::Request)?;
        let paid = request.amount_sat().ok_or(ChargeError::BadRequest)?;
        let payment_hash = request.payment_hash().ok_or(ChargeError::BadRequest)?;
        if paid < expect.price_sat {
            return Err(ChargeError::Insufficient {
                paid,
                price: expect.price_sat,
            });
        }
        let preimage =
            payload_preimage(&credential.payload, "preimage").ok_or(ChargeError::BadPreimage)?;
        if !preimage.pays(&payment_hash) {
            return Err(ChargeError::WrongPreimage);
        }
        Ok(VerifiedCharge {
            payment_hash,
            challenge_id: c.id.clone(),
            amount_sat: paid,
            expires_unix,
        })
    }
}
