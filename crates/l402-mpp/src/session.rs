//! The Lightning `session` intent: a deposit invoice whose preimage becomes a bearer secret,
//! spent down per request, topped up with fresh deposits and refunded to the client on close.
//!
//! This module is the stateless half: the request object, binding a session challenge, and
//! reading and checking a session credential (`open`, `bearer`, `topUp`, `close`). Balances,
//! single crediting of each deposit and closing are the caller's store's (see
//! [`SessionAction`] for what each action asks of it).
//!
//! ```
//! use l402_core::Preimage;
//! use l402_mpp::ChargeVerifier;
//! use l402_mpp::session::{SessionAction, SessionExpectation, SessionOffer};
//!
//! let server = ChargeVerifier::new("api.example.com", b"32 bytes of server secret.......".to_vec());
//! let preimage = Preimage([7; 32]);
//! let challenge = server.session_challenge(&SessionOffer {
//!     deposit_invoice: Some("lnbcrt200n1pexample"),
//!     payment_hash: preimage.payment_hash(),
//!     unit_price_sat: 1,
//!     deposit_sat: Some(20),
//!     unit_type: Some("token"),
//!     idle_timeout_secs: Some(300),
//!     expires_unix: 2_000_000_000,
//!     scope: Some("llm"),
//!     description: None,
//! })?;
//! // The client pays the deposit invoice and opens the session.
//! let credential = l402_mpp::session::open_credential(&challenge, &preimage, "lnbcrt1preturn");
//! let expect = SessionExpectation { scope: Some("llm"), now_unix: 1_900_000_000 };
//! let verified = server.verify_session(&credential, &expect)?;
//! match verified.action {
//!     SessionAction::Open { deposit, return_invoice } => {
//!         assert_eq!(deposit.amount_sat, 20);
//!         assert_eq!(deposit.payment_hash, preimage.payment_hash());
//!         assert_eq!(return_invoice, "lnbcrt1preturn");
//!     }
//!     other => panic!("expected an open, got {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use l402_core::{PaymentHash, Preimage};
use serde::{Deserialize, Serialize};

use crate::challenge::{Challenge, RequestError};
use crate::charge::{ChargeError, ChargeVerifier, payload_preimage};
use crate::credential::Credential;
use crate::jcs::JcsError;
use crate::problem::{Problem, ProblemType};

/// The `request` object of a Lightning session challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    /// Price of one unit in sats (positive decimal integer).
    pub amount: String,
    /// Exactly `sat`.
    pub currency: String,
    /// What the service is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What a unit is: `token`, `request`, `chunk`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<String>,
    /// The BOLT11 invoice to pay for an open or a top-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit_invoice: Option<String>,
    /// Lowercase hex payment hash of the deposit invoice.
    pub payment_hash: String,
    /// The deposit in sats (equals the invoice's amount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit_amount: Option<String>,
    /// Seconds of inactivity after which the server may close the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
}

/// A positive decimal integer without leading zeros.
fn positive(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl SessionRequest {
    /// The unit price in sats, if valid and in `sat`.
    pub fn unit_price_sat(&self) -> Option<u64> {
        (self.currency == "sat").then(|| positive(&self.amount))?
    }

    /// The deposit in sats, if present and valid.
    pub fn deposit_sat(&self) -> Option<u64> {
        positive(self.deposit_amount.as_deref()?)
    }

    /// The deposit invoice's payment hash, if lowercase hex.
    pub fn payment_hash(&self) -> Option<PaymentHash> {
        lower_hex_hash(&self.payment_hash)
    }
}

/// 64 lowercase hex digits as a hash.
fn lower_hex_hash(s: &str) -> Option<PaymentHash> {
    if s.len() != 64 || s.bytes().any(|c| c.is_ascii_uppercase()) {
        return None;
    }
    PaymentHash::from_hex(s).ok()
}

/// What the server offers in one session challenge (to open a session, or to top one up).
#[derive(Debug, Clone)]
pub struct SessionOffer<'a> {
    /// The deposit invoice (absent for a challenge that only names the price).
    pub deposit_invoice: Option<&'a str>,
    /// The deposit invoice's payment hash.
    pub payment_hash: PaymentHash,
    /// Price of one unit in sats.
    pub unit_price_sat: u64,
    /// The deposit in sats.
    pub deposit_sat: Option<u64>,
    /// What a unit is.
    pub unit_type: Option<&'a str>,
    /// The idle timeout announced, in seconds.
    pub idle_timeout_secs: Option<u64>,
    /// Unix seconds at which the challenge expires (no later than the invoice).
    pub expires_unix: u64,
    /// The resource (service) the session is for.
    pub scope: Option<&'a str>,
    /// Display text (not covered by the id).
    pub description: Option<&'a str>,
}

/// What the request being served expects of a session credential.
#[derive(Debug, Clone, Copy)]
pub struct SessionExpectation<'a> {
    /// This request's resource (the session's service).
    pub scope: Option<&'a str>,
    /// Unix seconds now.
    pub now_unix: u64,
}

/// A paid deposit (an open or a top-up): credit it once, keyed by its payment hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    /// The deposit invoice's hash.
    pub payment_hash: PaymentHash,
    /// Its amount in sats.
    pub amount_sat: u64,
    /// When its challenge expires.
    pub expires_unix: u64,
}

/// What a verified session credential asks for, and what the store must then do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAction {
    /// Open a session: its id is the deposit's payment hash; store it with the deposit as its
    /// balance and the return invoice (idempotent: a repeated open credits nothing twice).
    Open {
        /// The paid deposit.
        deposit: Deposit,
        /// The client's invoice for the refund (amountless; the caller checks it parses, names
        /// no amount and is for its network).
        return_invoice: String,
    },
    /// Spend from an open session (the preimage proved the holder paid its deposit).
    Bearer {
        /// The session.
        session_id: PaymentHash,
    },
    /// Credit a fresh deposit to an open session, once.
    TopUp {
        /// The session.
        session_id: PaymentHash,
        /// The paid top-up.
        deposit: Deposit,
    },
    /// Close the session and refund what is left.
    Close {
        /// The session.
        session_id: PaymentHash,
    },
}

impl SessionAction {
    /// The session the action is about.
    pub fn session_id(&self) -> PaymentHash {
        match self {
            Self::Open { deposit, .. } => deposit.payment_hash,
            Self::Bearer { session_id }
            | Self::TopUp { session_id, .. }
            | Self::Close { session_id } => *session_id,
        }
    }

    /// The action's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open { .. } => "open",
            Self::Bearer { .. } => "bearer",
            Self::TopUp { .. } => "topUp",
            Self::Close { .. } => "close",
        }
    }
}

/// A session credential that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSession {
    /// What it asks for.
    pub action: SessionAction,
    /// The challenge echoed.
    pub challenge_id: String,
}

/// Why a session credential was refused, or a session request cannot be served. Each maps to a
/// problem type.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The echoed challenge fails a check every intent makes (realm, binding, scope, expiry).
    #[error(transparent)]
    Challenge(ChargeError),
    /// The echoed request cannot be read.
    #[error("challenge request is not a Lightning session request")]
    Request(#[source] RequestError),
    /// The echoed request lacks a valid amount, currency, payment hash or deposit.
    #[error("challenge request has no valid amount, payment hash or deposit")]
    BadRequest,
    /// `payload.action` is missing or unknown.
    #[error("payload.action must be open, bearer, topUp or close")]
    BadAction,
    /// `payload.sessionId` is missing or not 64 lowercase hex digits.
    #[error("payload.sessionId is not 64 lowercase hex digits")]
    BadSessionId,
    /// The preimage field is missing or not 64 lowercase hex digits.
    #[error("payload.{0} is not 64 lowercase hex digits")]
    BadPreimage(&'static str),
    /// The preimage does not hash to the payment hash it must pay.
    #[error("preimage does not match the payment hash")]
    WrongPreimage,
    /// The open or top-up challenge has expired.
    #[error("the deposit challenge expired: ask for a fresh one")]
    ChallengeExpired,
    /// The return invoice is missing or unusable.
    #[error("invalid returnInvoice: {0}")]
    ReturnInvoice(String),
    /// No session with this id (reported by the caller's store).
    #[error("no session with this id")]
    NotFound,
    /// The session was closed (reported by the caller's store).
    #[error("the session is closed")]
    Closed,
    /// The balance does not cover the request (reported by the caller's store).
    #[error("balance {balance_msat} msat does not cover this request's {needed_msat} msat: top up")]
    InsufficientBalance {
        /// What is left.
        balance_msat: u64,
        /// What the request reserves.
        needed_msat: u64,
    },
    /// The session belongs to another service (reported by the caller's store).
    #[error("the session was opened for another service")]
    WrongService,
}

impl SessionError {
    /// The problem type the draft gives this failure.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            Self::Challenge(e) => e.problem_type(),
            Self::Request(_) | Self::BadRequest | Self::BadAction => {
                ProblemType::MalformedCredential
            }
            Self::BadSessionId | Self::BadPreimage(_) => ProblemType::LightningMalformedCredential,
            Self::WrongPreimage => ProblemType::LightningInvalidPreimage,
            Self::ChallengeExpired => ProblemType::ChallengeExpired,
            Self::ReturnInvoice(_) => ProblemType::InvalidReturnInvoice,
            Self::NotFound | Self::WrongService => ProblemType::SessionNotFound,
            Self::Closed => ProblemType::SessionClosed,
            Self::InsufficientBalance { .. } => ProblemType::InsufficientBalance,
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

/// `payload[field]` as a session id.
fn payload_session_id(
    payload: &serde_json::Map<String, serde_json::Value>,
) -> Result<PaymentHash, SessionError> {
    payload
        .get("sessionId")
        .and_then(|v| v.as_str())
        .and_then(lower_hex_hash)
        .ok_or(SessionError::BadSessionId)
}

/// `payload[field]` as a preimage that must pay `hash`.
fn paying_preimage(
    payload: &serde_json::Map<String, serde_json::Value>,
    field: &'static str,
    hash: &PaymentHash,
) -> Result<(), SessionError> {
    let preimage = payload_preimage(payload, field).ok_or(SessionError::BadPreimage(field))?;
    if !preimage.pays(hash) {
        return Err(SessionError::WrongPreimage);
    }
    Ok(())
}

impl ChargeVerifier {
    /// A bound session challenge for `offer`.
    pub fn session_challenge(&self, offer: &SessionOffer<'_>) -> Result<Challenge, JcsError> {
        let request = SessionRequest {
            amount: offer.unit_price_sat.to_string(),
            currency: "sat".into(),
            description: None,
            unit_type: offer.unit_type.map(str::to_owned),
            deposit_invoice: offer.deposit_invoice.map(str::to_owned),
            payment_hash: offer.payment_hash.to_hex(),
            deposit_amount: offer.deposit_sat.map(|d| d.to_string()),
            idle_timeout: offer.idle_timeout_secs.map(|s| s.to_string()),
        };
        self.bind(
            crate::INTENT_SESSION,
            &request,
            offer.expires_unix,
            offer.scope,
            offer.description,
        )
    }

    /// Verifies a session credential statelessly: the echoed challenge is ours and for this
    /// resource; an `open` or `topUp` answers a live challenge and its preimage pays that
    /// challenge's deposit invoice; a `bearer` or `close` proves the session's deposit
    /// preimage (its challenge may have expired: the session outlives it).
    pub fn verify_session(
        &self,
        credential: &Credential,
        expect: &SessionExpectation<'_>,
    ) -> Result<VerifiedSession, SessionError> {
        let c = &credential.challenge;
        let expires = self
            .check_binding(c, crate::INTENT_SESSION, expect.scope)
            .map_err(SessionError::Challenge)?;
        let request: SessionRequest = c.decode_request().map_err(SessionError::Request)?;
        let payload = &credential.payload;
        let live_deposit = || -> Result<Deposit, SessionError> {
            let expires_unix = expires.ok_or(SessionError::Challenge(ChargeError::NoExpiry))?;
            if expect.now_unix >= expires_unix {
                return Err(SessionError::ChallengeExpired);
            }
            Ok(Deposit {
                payment_hash: request.payment_hash().ok_or(SessionError::BadRequest)?,
                amount_sat: request.deposit_sat().ok_or(SessionError::BadRequest)?,
                expires_unix,
            })
        };
        request.unit_price_sat().ok_or(SessionError::BadRequest)?;
        let action = match payload.get("action").and_then(|v| v.as_str()) {
            Some("open") => {
                let deposit = live_deposit()?;
                paying_preimage(payload, "preimage", &deposit.payment_hash)?;
                let return_invoice = payload
                    .get("returnInvoice")
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| SessionError::ReturnInvoice("missing".into()))?;
                SessionAction::Open {
                    deposit,
                    return_invoice: return_invoice.trim().to_owned(),
                }
            }
            Some("topUp") => {
                let session_id = payload_session_id(payload)?;
                let deposit = live_deposit()?;
                paying_preimage(payload, "topUpPreimage", &deposit.payment_hash)?;
                SessionAction::TopUp {
                    session_id,
                    deposit,
                }
            }
            Some(action @ ("bearer" | "close")) => {
                let session_id = payload_session_id(payload)?;
                paying_preimage(payload, "preimage", &session_id)?;
                match action {
                    "bearer" => SessionAction::Bearer { session_id },
                    _ => SessionAction::Close { session_id },
                }
            }
            _ => return Err(SessionError::BadAction),
        };
        Ok(VerifiedSession {
            action,
            challenge_id: c.id.clone(),
        })
    }
}

/// The credential opening a session: the deposit `preimage` (which pays `challenge`'s deposit
/// invoice) and the client's amountless `return_invoice`.
pub fn open_credential(
    challenge: &Challenge,
    preimage: &Preimage,
    return_invoice: &str,
) -> Credential {
    credential(
        challenge,
        [
            ("action", "open".to_owned()),
            ("preimage", preimage.to_hex()),
            ("returnInvoice", return_invoice.to_owned()),
        ],
    )
}

/// The credential spending from an open session (`deposit` is its opening preimage).
pub fn bearer_credential(
    challenge: &Challenge,
    session_id: &PaymentHash,
    deposit: &Preimage,
) -> Credential {
    credential(
        challenge,
        [
            ("action", "bearer".to_owned()),
            ("sessionId", session_id.to_hex()),
            ("preimage", deposit.to_hex()),
        ],
    )
}

/// The credential crediting a paid top-up (`top_up` pays `challenge`'s deposit invoice).
pub fn top_up_credential(
    challenge: &Challenge,
    session_id: &PaymentHash,
    top_up: &Preimage,
) -> Credential {
    credential(
        challenge,
        [
            ("action", "topUp".to_owned()),
            ("sessionId", session_id.to_hex()),
            ("topUpPreimage", top_up.to_hex()),
        ],
    )
}

/// The credential closing a session (`deposit` is its opening preimage).
pub fn close_credential(
    challenge: &Challenge,
    session_id: &PaymentHash,
    deposit: &Preimage,
) -> Credential {
    credential(
        challenge,
        [
            ("action", "close".to_owned()),
            ("sessionId", session_id.to_hex()),
            ("preimage", deposit.to_hex()),
        ],
    )
}

fn credential<const N: usize>(challenge: &Challenge, fields: [(&str, String); N]) -> Credential {
    Credential {
        challenge: challenge.clone(),
        source: None,
        payload: fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"mpp-test-vector-secret";

    fn server() -> ChargeVerifier {
        ChargeVerifier::new("localhost:8081", SECRET.to_vec())
    }

    fn offer(hash: PaymentHash, expires_unix: u64) -> SessionOffer<'static> {
        SessionOffer {
            deposit_invoice: Some("lnbcrt200n1pexample"),
            payment_hash: hash,
            unit_price_sat: 2,
            deposit_sat: Some(40),
            unit_type: Some("token"),
            idle_timeout_secs: Some(300),
            expires_unix,
            scope: Some("llm"),
            description: None,
        }
    }

    fn expect(now_unix: u64) -> SessionExpectation<'static> {
        SessionExpectation {
            scope: Some("llm"),
            now_unix,
        }
    }

    #[test]
    fn request_object_has_the_draft_fields_in_canonical_order() {
        let c = server()
            .session_challenge(&offer(Preimage([1; 32]).payment_hash(), 2_000))
            .unwrap();
        assert_eq!(c.intent, "session");
        let json = String::from_utf8(crate::b64::decode(&c.request).unwrap()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"amount":"2","currency":"sat","depositAmount":"40","depositInvoice":"lnbcrt200n1pexample","idleTimeout":"300","paymentHash":"{}","unitType":"token"}}"#,
                Preimage([1; 32]).payment_hash().to_hex()
            )
        );
        assert!(c.id_matches(SECRET));
    }

    #[test]
    fn every_action_verifies_with_the_right_preimage() {
        let s = server();
        let deposit = Preimage([1; 32]);
        let sid = deposit.payment_hash();
        let open_c = s.session_challenge(&offer(sid, 2_000)).unwrap();
        let top = Preimage([2; 32]);
        let top_c = s
            .session_challenge(&offer(top.payment_hash(), 2_000))
            .unwrap();

        let v = s
            .verify_session(
                &open_credential(&open_c, &deposit, "lnbcrt1r"),
                &expect(1_000),
            )
            .unwrap();
        assert_eq!(v.action.session_id(), sid);
        assert!(
            matches!(v.action, SessionAction::Open { ref deposit, .. } if deposit.amount_sat == 40)
        );

        let v = s
            .verify_session(&bearer_credential(&open_c, &sid, &deposit), &expect(9_000))
            .unwrap();
        assert_eq!(
            v.action,
            SessionAction::Bearer { session_id: sid },
            "bearer outlives the challenge"
        );

        let v = s
            .verify_session(&top_up_credential(&top_c, &sid, &top), &expect(1_000))
            .unwrap();
        assert!(
            matches!(v.action, SessionAction::TopUp { session_id, ref deposit } if session_id == sid && deposit.payment_hash == top.payment_hash())
        );

        let v = s
            .verify_session(&close_credential(&open_c, &sid, &deposit), &expect(9_000))
            .unwrap();
        assert_eq!(v.action, SessionAction::Close { session_id: sid });
    }

    #[test]
    fn wrong_or_late_proofs_are_refused_with_their_problem_types() {
        let s = server();
        let deposit = Preimage([1; 32]);
        let sid = deposit.payment_hash();
        let c = s.session_challenge(&offer(sid, 2_000)).unwrap();
        let other = Preimage([9; 32]);

        let e = s
            .verify_session(&open_credential(&c, &other, "lnbcrt1r"), &expect(1_000))
            .unwrap_err();
        assert!(matches!(e, SessionError::WrongPreimage));
        assert_eq!(e.problem_type(), ProblemType::LightningInvalidPreimage);

        let e = s
            .verify_session(&open_credential(&c, &deposit, "lnbcrt1r"), &expect(2_000))
            .unwrap_err();
        assert_eq!(e.problem_type(), ProblemType::ChallengeExpired);

        let e = s
            .verify_session(&bearer_credential(&c, &sid, &other), &expect(1_000))
            .unwrap_err();
        assert!(
            matches!(e, SessionError::WrongPreimage),
            "a bearer must hold the deposit preimage"
        );

        let e = s
            .verify_session(&open_credential(&c, &deposit, " "), &expect(1_000))
            .unwrap_err();
        assert_eq!(e.problem_type(), ProblemType::InvalidReturnInvoice);

        let mut forged = open_credential(&c, &deposit, "lnbcrt1r");
        forged.challenge.request = crate::jcs::encode_b64(&serde_json::json!({
            "amount": "2", "currency": "sat", "paymentHash": sid.to_hex(), "depositAmount": "4000"
        }))
        .unwrap();
        let e = s.verify_session(&forged, &expect(1_000)).unwrap_err();
        assert!(
            matches!(e, SessionError::Challenge(ChargeError::Forged)),
            "a raised deposit breaks the binding"
        );

        let mut other_scope = expect(1_000);
        other_scope.scope = Some("weather");
        let e = s
            .verify_session(&open_credential(&c, &deposit, "lnbcrt1r"), &other_scope)
            .unwrap_err();
        assert!(matches!(
            e,
            SessionError::Challenge(ChargeError::WrongScope)
        ));

        let mut no_action = open_credential(&c, &deposit, "lnbcrt1r");
        no_action.payload.remove("action");
        assert!(matches!(
            s.verify_session(&no_action, &expect(1_000)).unwrap_err(),
            SessionError::BadAction
        ));

        let charge_like = s
            .verify_session(
                &Credential {
                    challenge: Challenge {
                        intent: "charge".into(),
                        ..c.clone()
                    },
                    ..open_credential(&c, &deposit, "lnbcrt1r")
                },
                &expect(1_000),
            )
            .unwrap_err();
        assert_eq!(charge_like.problem_type(), ProblemType::MethodUnsupported);
    }
}
