//! The paywall's steps for a metered offer: open, spend, top up and close a session (the
//! `Payment` scheme's Lightning session), and spend an L402 token's balance. Each step is one
//! call to the [`SessionLedger`] on a blocking thread; a spending request then goes on to the
//! upstream with its [`BalanceReservation`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use l402_core::session::{Close, Credit, Opened, Reserve};
use l402_core::{Msat, PaymentHash};
use l402_mpp::session::{SessionAction, SessionError, VerifiedSession};
use tower::Service;

use crate::layer::ResponseBody;
use crate::mpp::LedgerError;
use crate::offer::Offer;
use crate::outcome::{Outcome, PaywallDecision};
use crate::paywall::Paywall;
use crate::response::Refusal;
use crate::session::{
    BalanceReservation, Closed, Metering, OpenSession, SESSION_STATUS_HEADER, SessionLedger,
};

/// `Payment-Receipt`.
const PAYMENT_RECEIPT: HeaderName = HeaderName::from_static(l402_mpp::RECEIPT_HEADER);

/// What a metered step came to before the upstream is called.
pub(crate) enum Step {
    /// Forward with this reservation; the balance left after it.
    Serve(BalanceReservation, Msat),
    /// Answer with the paywall's own response (a top-up or close result).
    Answer(Response<Full<Bytes>>),
    /// Answer with fresh challenges, for this reason.
    Refuse(Refusal),
    /// The ledger or the backend failed: 503.
    Unavailable,
}

/// Runs a blocking ledger call on a blocking thread.
async fn blocking<R: Send + 'static>(
    ledger: &Arc<dyn SessionLedger>,
    call: impl FnOnce(&dyn SessionLedger) -> Result<R, LedgerError> + Send + 'static,
) -> Result<R, LedgerError> {
    let ledger = ledger.clone();
    tokio::task::spawn_blocking(move || call(ledger.as_ref()))
        .await
        .map_err(|e| LedgerError(Box::new(e)))?
}

fn logged<R>(offer: &Offer, what: &str, result: Result<R, LedgerError>) -> Option<R> {
    result
        .map_err(|error| {
            tracing::warn!(service = %offer.service, %error, "session ledger: cannot {what}");
        })
        .ok()
}

/// What an L402 token sold for a metered offer deposited: the price it was bound to when sold
/// (its `<service>_max_price_msat`), else the service's base price.
pub(crate) fn token_deposit(token: &l402_core::verify::VerifiedToken, offer: &Offer) -> Msat {
    let condition = l402_core::caveat::max_price_condition(&offer.service);
    token
        .checked_caveats
        .iter()
        .filter_map(|c| c.split_once('='))
        .find(|(name, _)| *name == condition)
        .and_then(|(_, value)| value.parse().ok())
        .map_or(offer.base_price, Msat)
}

/// Reserves the offer's reservation from `session_id`'s balance. `deposit` opens the session
/// first when it does not exist yet (an L402 token's first metered request).
pub(crate) async fn reserve(
    ledger: &Arc<dyn SessionLedger>,
    offer: &Offer,
    metering: &Arc<Metering>,
    session_id: PaymentHash,
    deposit: Option<Msat>,
) -> Step {
    let amount = metering.reservation();
    let service = offer.service.clone();
    let mut reserved = {
        let service = service.clone();
        blocking(ledger, move |l| l.reserve(&session_id, &service, amount)).await
    };
    if let (Ok(Reserve::NotFound), Some(deposit)) = (&reserved, deposit) {
        let opened = {
            let service = service.clone();
            blocking(ledger, move |l| {
                l.open(&OpenSession {
                    session_id,
                    service: &service,
                    deposit,
                    return_invoice: None,
                    idle_timeout_secs: 0,
                })
            })
            .await
        };
        if logged(offer, "open a token's balance", opened).is_none() {
            return Step::Unavailable;
        }
        reserved = blocking(ledger, move |l| l.reserve(&session_id, &service, amount)).await;
    }
    let Some(reserved) = logged(offer, "reserve", reserved) else {
        return Step::Unavailable;
    };
    let refusal = |error| Step::Refuse(Refusal::Session(error));
    match reserved {
        Reserve::Reserved(balance) => Step::Serve(
            BalanceReservation {
                session_id,
                reserved: amount,
                metering: metering.clone(),
                ledger: ledger.clone(),
            },
            balance,
        ),
        Reserve::Insufficient(balance) => refusal(SessionError::InsufficientBalance {
            balance_msat: balance.0,
            needed_msat: amount.0,
        }),
        Reserve::NotFound => refusal(SessionError::NotFound),
        Reserve::Closed => refusal(SessionError::Closed),
        Reserve::WrongService => refusal(SessionError::WrongService),
    }
}

/// The step a verified session credential asks for.
pub(crate) async fn session_step(
    paywall: &Paywall,
    ledger: &Arc<dyn SessionLedger>,
    offer: &Offer,
    metering: &Arc<Metering>,
    verified: VerifiedSession,
) -> Step {
    let refuse = |error| {
        Step::Refuse(Refusal::Mpp {
            error,
            challenge_id: Some(verified.challenge_id.clone()),
        })
    };
    match verified.action {
        SessionAction::Open {
            deposit,
            return_invoice,
        } => {
            if let Err(why) = ledger.check_return_invoice(&return_invoice) {
                return refuse(SessionError::ReturnInvoice(why));
            }
            let service = offer.service.clone();
            let session_id = deposit.payment_hash;
            let idle_timeout_secs = metering.idle_timeout_secs;
            let opened = blocking(ledger, move |l| {
                l.open(&OpenSession {
                    session_id,
                    service: &service,
                    deposit: Msat::from_sat(deposit.amount_sat),
                    return_invoice: Some(&return_invoice),
                    idle_timeout_secs,
                })
            })
            .await;
            match logged(offer, "open a session", opened) {
                Some(Opened::Opened | Opened::AlreadyOpen) => {
                    paywall.settle_deposit(offer, &session_id);
                    reserve(ledger, offer, metering, session_id, None).await
                }
                None => Step::Unavailable,
            }
        }
        SessionAction::Bearer { session_id } => {
            reserve(ledger, offer, metering, session_id, None).await
        }
        SessionAction::TopUp {
            session_id,
            deposit,
        } => {
            let amount = Msat::from_sat(deposit.amount_sat);
            let credited = blocking(ledger, move |l| {
                l.credit(&session_id, &deposit.payment_hash, amount)
            })
            .await;
            let balance = match logged(offer, "credit a top-up", credited) {
                None => return Step::Unavailable,
                Some(Credit::Credited(balance)) => Some(balance),
                Some(Credit::AlreadyCredited) => None,
                Some(Credit::NotFound) => return refuse(SessionError::NotFound),
                Some(Credit::Closed) => return refuse(SessionError::Closed),
            };
            paywall.settle_deposit(offer, &deposit.payment_hash);
            let mut body = serde_json::json!({
                "status": "ok",
                "sessionId": session_id.to_hex(),
                "credited": balance.is_some(),
            });
            if let Some(balance) = balance {
                body["balanceMsat"] = balance.0.into();
            }
            let receipt = l402_mpp::Receipt::lightning_session(
                l402_mpp::time::format(paywall.now_unix()),
                session_id.to_hex(),
                Some(verified.challenge_id),
            );
            Step::Answer(paid_json(body, &receipt))
        }
        SessionAction::Close { session_id } => {
            close(paywall, ledger, offer, session_id, verified.challenge_id).await
        }
    }
}

/// Closes a session and refunds its balance to its return invoice, once.
async fn close(
    paywall: &Paywall,
    ledger: &Arc<dyn SessionLedger>,
    offer: &Offer,
    session_id: PaymentHash,
    challenge_id: String,
) -> Step {
    let closed =
        crate::session::close_session(paywall.backend().as_ref(), ledger, session_id).await;
    let Closed { refund, outcome } = match logged(offer, "close a session", closed) {
        None => return Step::Unavailable,
        Some(Ok(closed)) => closed,
        Some(Err(not_open)) => {
            let error = match not_open {
                Close::NotFound => SessionError::NotFound,
                _ => SessionError::Closed,
            };
            return Step::Refuse(Refusal::Mpp {
                error,
                challenge_id: Some(challenge_id),
            });
        }
    };
    let mut receipt = l402_mpp::Receipt::lightning_session(
        l402_mpp::time::format(paywall.now_unix()),
        session_id.to_hex(),
        Some(challenge_id),
    );
    receipt.refund_sats = Some(refund.0 / 1000);
    receipt.refund_status = Some(outcome.as_str().to_owned());
    let body = serde_json::json!({
        "status": "closed",
        "sessionId": session_id.to_hex(),
        "refundSats": refund.0 / 1000,
        "refundMsat": refund.0,
        "refundStatus": outcome.as_str(),
    });
    Step::Answer(paid_json(body, &receipt))
}

/// A 200 JSON answer of the paywall's own, with a receipt.
fn paid_json(body: serde_json::Value, receipt: &l402_mpp::Receipt) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    if let Ok(v) = HeaderValue::from_str(&receipt.to_header()) {
        headers.insert(PAYMENT_RECEIPT, v);
    }
    response
}

/// Forwards a request with its reservation; the answer carries `L402-Session` (the balance
/// after the reservation, and the reservation) and `extra` headers (the receipt, the token's
/// status).
pub(crate) async fn serve_reserved<S, ReqBody, ResBody>(
    mut inner: S,
    mut request: Request<ReqBody>,
    reservation: BalanceReservation,
    balance: Msat,
    extra: Vec<(HeaderName, HeaderValue)>,
    decision: PaywallDecision,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    let status = format!(
        "balance_msat={}, reserved_msat={}",
        balance.0, reservation.reserved.0
    );
    if let Ok(v) = HeaderValue::from_str(&reservation.session_id.to_hex()) {
        request.headers_mut().insert(crate::HEADER_PAYMENT_HASH, v);
    }
    request.extensions_mut().insert(reservation);
    let mut response = inner.call(request).await?;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&status) {
        headers.insert(SESSION_STATUS_HEADER, v);
    }
    for (name, value) in extra {
        headers.insert(name, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    response.extensions_mut().insert(decision);
    Ok(response.map(Either::Right))
}

/// The paywall's own answer, tagged `Paid` (a top-up or close was served).
pub(crate) fn answered<B>(
    response: Response<Full<Bytes>>,
    took: Duration,
) -> Response<ResponseBody<B>> {
    let mut response = response.map(Either::Left);
    response.extensions_mut().insert(PaywallDecision {
        outcome: Outcome::Paid,
        took,
    });
    response
}
