//! How the gRPC layer reports what the client could not do: a [`ClientError`] as a tonic
//! [`Status`], answered to the caller as a Trailers-Only response.

use l402_core::client::StopReason;
use l402_core::invoice::InvoiceCheckError;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::error::ClientError;

/// The gRPC status a [`ClientError`] of the L402 layer is reported as. The message is
/// `l402: ` and the error's own message (for a budget refusal, the budget's message: which
/// limit, by how much).
///
/// | Error | Code | Paid? |
/// |---|---|---|
/// | [`ClientError::Budget`], invoice over `max_cost` ([`InvoiceCheckError::OverMax`]) | `RESOURCE_EXHAUSTED` | no |
/// | [`ClientError::PaymentRequired`] (automatic payment off) | `FAILED_PRECONDITION` | no |
/// | [`ClientError::RedirectRefused`], [`ClientError::DestinationRefused`] | `FAILED_PRECONDITION` | no |
/// | [`ClientError::Refused`] for an unusable challenge or invoice (network, expiry, hash) | `FAILED_PRECONDITION` | no |
/// | [`ClientError::Refused`] with [`StopReason::StillRequiredAfterPayment`] or [`StopReason::PreimageMismatch`] | `PERMISSION_DENIED` | yes |
/// | [`ClientError::PaymentFailed`] | `UNAVAILABLE` | no |
/// | [`ClientError::PaymentPending`] (outcome unknown; nothing more is paid for the scope until it resolves) | `UNAVAILABLE` | maybe |
/// | [`ClientError::Wallet`], [`ClientError::Http`] | `UNAVAILABLE` | no |
/// | [`ClientError::InvalidRequest`], [`ClientError::InvalidToken`] | `INVALID_ARGUMENT` | no |
/// | anything else (the store, internal errors) | `INTERNAL` | no |
///
/// None of these is the server's own payment-required answer (`INTERNAL` or `UNKNOWN` with
/// "payment required"), so an L402 client further out never mistakes them for a challenge.
pub fn status_for(err: &ClientError) -> Status {
    status_with(err, MetadataMap::new())
}

/// [`status_for`] with `metadata` (the server's challenges, when it asked for payment).
pub(crate) fn status_with(err: &ClientError, metadata: MetadataMap) -> Status {
    use tonic::Code;
    let code = match err {
        ClientError::Budget(_)
        | ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax { .. })) => {
            Code::ResourceExhausted
        }
        ClientError::Refused(
            StopReason::StillRequiredAfterPayment | StopReason::PreimageMismatch,
        ) => Code::PermissionDenied,
        ClientError::PaymentRequired { .. }
        | ClientError::Refused(_)
        | ClientError::BadPaymentChallenge(_)
        | ClientError::SchemeNotAllowed(_)
        | ClientError::RedirectRefused { .. }
        | ClientError::DestinationRefused { .. } => Code::FailedPrecondition,
        ClientError::PaymentFailed(_)
        | ClientError::PaymentPending { .. }
        | ClientError::Wallet(_)
        | ClientError::Http(_) => Code::Unavailable,
        ClientError::InvalidRequest(_) | ClientError::InvalidToken(_) => Code::InvalidArgument,
        ClientError::Store(_)
        | ClientError::Config(_)
        | ClientError::NoToken(_)
        | ClientError::Build(_)
        | ClientError::Internal(_) => Code::Internal,
    };
    Status::with_metadata(code, format!("l402: {err}"), metadata)
}

#[cfg(test)]
mod tests {
    use l402_core::Msat;
    use l402_lightning::BackendError;
    use tonic::Code;

    use super::*;
    use crate::budget::{BudgetError, Limit};

    #[test]
    fn mapping() {
        let budget = ClientError::Budget(BudgetError::Exceeded {
            limit: Limit::Daily,
            would_spend: Msat(2000),
            limit_value: Msat(1000),
            already_spent: Msat(0),
        });
        let status = status_for(&budget);
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), format!("l402: {budget}"));
        let over = ClientError::Refused(StopReason::InvoiceRefused(InvoiceCheckError::OverMax {
            amount: Msat(2),
            max: Msat(1),
        }));
        assert_eq!(status_for(&over).code(), Code::ResourceExhausted);
        assert_eq!(
            status_for(&ClientError::Refused(StopReason::StillRequiredAfterPayment)).code(),
            Code::PermissionDenied
        );
        assert_eq!(
            status_for(&ClientError::PaymentFailed(BackendError::NoRoute)).code(),
            Code::Unavailable
        );
        assert_eq!(
            status_for(&ClientError::InvalidRequest("x".into())).code(),
            Code::InvalidArgument
        );
        assert_eq!(
            status_for(&ClientError::Internal("x".into())).code(),
            Code::Internal
        );
    }
}
