//! The client's decision logic as a pure state machine, one per logical request: given a
//! response and what the client holds, decide to pay (which invoice, how much), retry with which
//! credential, or stop with which reason. The IO (HTTP, wallet) lives in `l402-client`.

use l402_macaroon::{DecodeError, Macaroon};

use crate::challenge::{Challenge, ChallengeError, parse_first_challenge};
use crate::credential::{authorization_header_values, macaroon_metadata_value};
use crate::identifier::{Identifier, IdentifierError};
use crate::invoice::{
    InvoiceCheck, InvoiceCheckError, InvoiceError, Network, ParsedInvoice, parse_bolt11,
};
use crate::mint::with_preimage_caveat;
use crate::types::{Msat, PaymentHash, Preimage};

/// A paid token: the macaroon and the preimage that proves its payment.
#[derive(Clone, PartialEq, Eq)]
pub struct PaidToken {
    /// The macaroon as the server minted it (V2 bytes).
    pub macaroon: Vec<u8>,
    /// The preimage.
    pub preimage: Preimage,
}

impl std::fmt::Debug for PaidToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaidToken")
            .field("macaroon_len", &self.macaroon.len())
            .finish_non_exhaustive()
    }
}

impl PaidToken {
    /// `Authorization` values: `LSAT <b64>:<hex>` then `L402 <b64>:<hex>`.
    pub fn authorization_values(&self) -> [String; 2] {
        authorization_header_values(&self.macaroon, &self.preimage)
    }
    /// The gRPC `macaroon` metadata value (hex, with a `preimage=` caveat), or `None` if the
    /// stored macaroon does not decode.
    pub fn grpc_metadata_value(&self) -> Option<String> {
        let mac = Macaroon::decode_v2(&self.macaroon).ok()?;
        Some(macaroon_metadata_value(
            &with_preimage_caveat(&mac, &self.preimage).encode_v2(),
        ))
    }
}

/// The parts of a response the decision needs.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    /// HTTP status code.
    pub status: u16,
    /// Every `WWW-Authenticate` value, from headers and (for gRPC) trailers.
    pub www_authenticate: &'a [&'a str],
    /// The `grpc-status`, if any.
    pub grpc_status: Option<u32>,
    /// The `grpc-message`, if any.
    pub grpc_message: Option<&'a str>,
}

impl ResponseView<'_> {
    /// True for HTTP 402, or a gRPC answer with code 13 (or 2, from older servers) whose
    /// message says "payment required".
    pub fn is_payment_required(&self) -> bool {
        if self.status == 402 {
            return true;
        }
        matches!(self.grpc_status, Some(13) | Some(2))
            && self
                .grpc_message
                .is_some_and(|m| m.to_ascii_lowercase().contains("payment required"))
    }
}

/// What the client will accept paying for this request.
#[derive(Debug, Clone, Copy)]
pub struct PayPolicy {
    /// The network the wallet is on.
    pub network: Network,
    /// Most this one request may cost.
    pub max_amount: Msat,
    /// The client's clock, Unix seconds.
    pub now_unix: u64,
}

/// Everything needed to pay a challenge.
#[derive(Debug, Clone)]
pub struct PaymentPlan {
    /// The challenge being answered.
    pub challenge: Challenge,
    /// The decoded invoice.
    pub invoice: ParsedInvoice,
    /// The amount to pay.
    pub amount: Msat,
    /// The payment hash, equal in the invoice and the macaroon.
    pub payment_hash: PaymentHash,
}

/// Why the client stops without the resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopReason {
    /// Payment required but no usable L402 challenge.
    #[error("server asked for payment without a usable L402 challenge: {0}")]
    NoChallenge(ChallengeError),
    /// The challenge's macaroon does not decode.
    #[error("challenge macaroon does not decode: {0}")]
    BadMacaroon(DecodeError),
    /// The challenge's macaroon identifier is not L402 version 0.
    #[error("challenge macaroon identifier is not L402: {0}")]
    BadIdentifier(IdentifierError),
    /// The invoice does not parse.
    #[error("challenge invoice does not parse: {0}")]
    BadInvoice(InvoiceError),
    /// The invoice fails a pre-payment check (hash, network, expiry, amount).
    #[error("refusing to pay: {0}")]
    InvoiceRefused(InvoiceCheckError),
    /// A payment was already made for this request and the server still wants payment;
    /// stopping instead of paying in a loop.
    #[error("the server still asks for payment after this request was paid; not paying again")]
    StillRequiredAfterPayment,
    /// The wallet returned a preimage that does not pay the invoice.
    #[error("the wallet returned a preimage that does not match the payment hash")]
    PreimageMismatch,
    /// `on_paid` or `on_response` called in the wrong state.
    #[error("client flow used out of order")]
    OutOfOrder,
}

/// What to do after a response.
#[derive(Debug, Clone)]
pub enum Decision {
    /// The response is final: hand it to the caller.
    Done,
    /// Pay this plan, then call [`RequestFlow::on_paid`].
    Pay {
        /// The plan.
        plan: Box<PaymentPlan>,
        /// True when the token the request carried was refused: drop it from the cache.
        drop_cached: bool,
    },
    /// Give up with a reason.
    Stop(StopReason),
}

#[derive(Debug, Clone)]
enum State {
    /// Request sent (with a cached token or without).
    Sent { with_token: bool },
    /// A payment plan was handed out and not yet paid.
    Paying {
        payment_hash: PaymentHash,
        macaroon: Vec<u8>,
    },
    /// Retried with a freshly paid token.
    RetriedAfterPayment,
}

/// The decision machine for one logical request.
#[derive(Debug, Clone)]
pub struct RequestFlow {
    policy: PayPolicy,
    state: State,
}

impl RequestFlow {
    /// A flow for a request sent with `cached` (a token held for this scope) or without.
    pub fn new(policy: PayPolicy, sent_with_cached_token: bool) -> Self {
        Self {
            policy,
            state: State::Sent {
                with_token: sent_with_cached_token,
            },
        }
    }

    /// Decides what a response means.
    pub fn on_response(&mut self, response: &ResponseView<'_>) -> Decision {
        if !response.is_payment_required() {
            return Decision::Done;
        }
        let drop_cached = match self.state {
            State::Sent { with_token } => with_token,
            State::RetriedAfterPayment => {
                return Decision::Stop(StopReason::StillRequiredAfterPayment);
            }
            State::Paying { .. } => return Decision::Stop(StopReason::OutOfOrder),
        };
        match plan_payment(response.www_authenticate, &self.policy) {
            Ok(plan) => {
                self.state = State::Paying {
                    payment_hash: plan.payment_hash,
                    macaroon: plan.challenge.macaroon.clone(),
                };
                Decision::Pay {
                    plan: Box::new(plan),
                    drop_cached,
                }
            }
            Err(reason) => Decision::Stop(reason),
        }
    }

    /// The wallet paid: check the preimage and return the token to retry with (and cache).
    pub fn on_paid(&mut self, preimage: Preimage) -> Result<PaidToken, StopReason> {
        let State::Paying {
            payment_hash,
            macaroon,
        } = &self.state
        else {
            return Err(StopReason::OutOfOrder);
        };
        if !preimage.pays(payment_hash) {
            return Err(StopReason::PreimageMismatch);
        }
        let token = PaidToken {
            macaroon: macaroon.clone(),
            preimage,
        };
        self.state = State::RetriedAfterPayment;
        Ok(token)
    }
}

/// Parses the challenge and checks its invoice against the policy: the payment hashes of the
/// invoice and the macaroon must agree, and network, expiry and amount must be acceptable.
pub fn plan_payment(
    www_authenticate: &[&str],
    policy: &PayPolicy,
) -> Result<PaymentPlan, StopReason> {
    let challenge =
        parse_first_challenge(www_authenticate.iter().copied()).map_err(StopReason::NoChallenge)?;
    let macaroon = Macaroon::decode_v2(&challenge.macaroon).map_err(StopReason::BadMacaroon)?;
    let identifier =
        Identifier::decode(macaroon.identifier()).map_err(StopReason::BadIdentifier)?;
    let invoice = parse_bolt11(&challenge.invoice).map_err(StopReason::BadInvoice)?;
    let amount = InvoiceCheck {
        expected_hash: identifier.payment_hash,
        network: policy.network,
        max_amount: policy.max_amount,
        now_unix: policy.now_unix,
    }
    .check(&invoice)
    .map_err(StopReason::InvoiceRefused)?;
    Ok(PaymentPlan {
        challenge,
        invoice,
        amount,
        payment_hash: identifier.payment_hash,
    })
}
