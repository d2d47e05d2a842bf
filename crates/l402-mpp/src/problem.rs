//! RFC 9457 problem details with the draft's problem types (core and Lightning).

use serde::Serialize;

/// The media type of a problem body.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// The problem types a server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    /// No credential: pay one of the challenges.
    PaymentRequired,
    /// The credential pays less than this request costs.
    PaymentInsufficient,
    /// The challenge answered has expired.
    PaymentExpired,
    /// The payment proof does not verify.
    VerificationFailed,
    /// The method or intent is not one this server takes (status 400).
    MethodUnsupported,
    /// The credential cannot be read (encoding, JSON, missing fields).
    MalformedCredential,
    /// The challenge was not issued by this server for this resource, or was already used.
    InvalidChallenge,
    /// Lightning: the payload cannot be read (e.g. a preimage that is not 64 lowercase hex).
    LightningMalformedCredential,
    /// Lightning: the preimage does not hash to the request's payment hash.
    LightningInvalidPreimage,
    /// Lightning: the invoice has expired.
    LightningExpiredInvoice,
    /// Lightning session: no session with this id.
    SessionNotFound,
    /// Lightning session: the session was closed.
    SessionClosed,
    /// Lightning session: the balance does not cover this request (top up).
    InsufficientBalance,
    /// Lightning session: the top-up challenge answered has expired.
    ChallengeExpired,
    /// Lightning session: the `returnInvoice` is missing, unreadable, names an amount or is
    /// for another network.
    InvalidReturnInvoice,
}

impl ProblemType {
    /// The type URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::PaymentRequired => "https://paymentauth.org/problems/payment-required",
            Self::PaymentInsufficient => "https://paymentauth.org/problems/payment-insufficient",
            Self::PaymentExpired => "https://paymentauth.org/problems/payment-expired",
            Self::VerificationFailed => "https://paymentauth.org/problems/verification-failed",
            Self::MethodUnsupported => "https://paymentauth.org/problems/method-unsupported",
            Self::MalformedCredential => "https://paymentauth.org/problems/malformed-credential",
            Self::InvalidChallenge => "https://paymentauth.org/problems/invalid-challenge",
            Self::LightningMalformedCredential => {
                "https://paymentauth.org/problems/lightning/malformed-credential"
            }
            Self::LightningInvalidPreimage => {
                "https://paymentauth.org/problems/lightning/invalid-preimage"
            }
            Self::LightningExpiredInvoice => {
                "https://paymentauth.org/problems/lightning/expired-invoice"
            }
            Self::SessionNotFound => "https://paymentauth.org/problems/lightning/session-not-found",
            Self::SessionClosed => "https://paymentauth.org/problems/lightning/session-closed",
            Self::InsufficientBalance => {
                "https://paymentauth.org/problems/lightning/insufficient-balance"
            }
            Self::ChallengeExpired => {
                "https://paymentauth.org/problems/lightning/challenge-expired"
            }
            Self::InvalidReturnInvoice => {
                "https://paymentauth.org/problems/lightning/invalid-return-invoice"
            }
        }
    }

    /// The HTTP status: 400 for an unsupported method, 402 otherwise.
    pub fn status(self) -> u16 {
        match self {
            Self::MethodUnsupported => 400,
            _ => 402,
        }
    }

    /// The short human title.
    pub fn title(self) -> &'static str {
        match self {
            Self::PaymentRequired => "Payment Required",
            Self::PaymentInsufficient => "Payment Insufficient",
            Self::PaymentExpired => "Payment Expired",
            Self::VerificationFailed => "Verification Failed",
            Self::MethodUnsupported => "Method Unsupported",
            Self::MalformedCredential | Self::LightningMalformedCredential => {
                "Malformed Credential"
            }
            Self::InvalidChallenge => "Invalid Challenge",
            Self::LightningInvalidPreimage => "Invalid Preimage",
            Self::LightningExpiredInvoice => "Expired Invoice",
            Self::SessionNotFound => "Session Not Found",
            Self::SessionClosed => "Session Closed",
            Self::InsufficientBalance => "Insufficient Balance",
            Self::ChallengeExpired => "Challenge Expired",
            Self::InvalidReturnInvoice => "Invalid Return Invoice",
        }
    }
}

/// A problem details object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// The type URI.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The short title.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for people.
    pub detail: String,
    /// The challenge the refused credential answered, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_id: Option<String>,
}

impl Problem {
    /// A problem of type `kind`.
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Problem {
            kind: kind.uri(),
            title: kind.title(),
            status: kind.status(),
            detail: detail.into(),
            challenge_id: None,
        }
    }

    /// The body of a 402 without a credential.
    pub fn payment_required() -> Self {
        Self::new(ProblemType::PaymentRequired, "Payment required for access.")
    }

    /// With the refused credential's challenge id.
    pub fn with_challenge_id(mut self, id: impl Into<String>) -> Self {
        self.challenge_id = Some(id.into());
        self
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a problem serialises")
    }
}
