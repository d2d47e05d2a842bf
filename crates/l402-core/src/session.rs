//! Prepaid, metered sessions: what each step of a session's life can come to. The paywall asks
//! these questions of its ledger and the seller's store answers them, so both name one set of
//! outcomes.
//!
//! A session's balance is `deposit - spent - refunded`: a request **reserves** the most it may
//! cost, **settles** what it really used, a paid top-up is **credited** once, and **closing**
//! freezes the balance as the refund owed.

use crate::Msat;

/// What opening did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// A new session with the deposit as its balance.
    Opened,
    /// The session already existed (a repeated open): nothing credited twice.
    AlreadyOpen,
}

/// What crediting a paid top-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit {
    /// Credited; the new balance.
    Credited(Msat),
    /// This payment was already credited (a retried top-up): nothing changed.
    AlreadyCredited,
    /// No such session.
    NotFound,
    /// The session is closed.
    Closed,
}

/// What a reservation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// Reserved; the balance left.
    Reserved(Msat),
    /// The balance does not cover it; the balance.
    Insufficient(Msat),
    /// No such session.
    NotFound,
    /// The session is closed.
    Closed,
    /// The session pays for another service.
    WrongService,
}

/// What closing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Close {
    /// Closed now: the refund owed and where to pay it.
    Closed {
        /// The balance at closing.
        refund: Msat,
        /// The client's return invoice, if the session has one.
        return_invoice: Option<String>,
    },
    /// It was already closed.
    AlreadyClosed,
    /// No such session.
    NotFound,
}

/// How a refund ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Paid.
    Succeeded,
    /// The payment failed; the amount is still owed (the balance shows it).
    Failed,
    /// Nothing to refund, or no return invoice.
    Skipped,
}

impl RefundOutcome {
    /// The `Payment` draft's word for it (`refundStatus`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}
