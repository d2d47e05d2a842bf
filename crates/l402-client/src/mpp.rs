//! Paying the HTTP `Payment` scheme (MPP), Lightning `charge` intent (the `session` intent is
//! [`crate::session`]'s; its challenge is checked by [`session_plan`] here): which scheme to answer
//! when a `402` offers L402 and `Payment` ([`PaymentScheme`] preference, advertised as
//! `Accept-Payment`), the pre-payment checks of a charge challenge (the invoice is decoded and
//! must agree with the request object: payment hash, amount, network, expiry, `max_cost`), and
//! the credential sent after paying. The payment itself goes through the same path as an L402
//! one (budget, journal, wallet, spend ledger, receipt); a charge buys one request, so no token
//! is kept, and the request is sent once more with the credential
//! ([`L402Client::execute`](crate::L402Client::execute) calls this when the preference picks
//! `Payment`).

use l402_core::challenge::{Scheme, parse_first_challenge};
use l402_core::client::{PayPolicy, PaymentPlan, StopReason};
use l402_core::invoice::{InvoiceCheck, parse_bolt11};
use l402_core::{Msat, Preimage};
use l402_mpp::session::SessionRequest;
use l402_mpp::{Challenge, ChargeRequest, Credential};
use serde::Deserialize;

use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::client::L402Client;
use crate::error::ClientError;
use crate::execute::PaidResponse;
use crate::request::RequestSpec;
use crate::scope::Target;

/// A payment scheme the client answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentScheme {
    /// L402: buy a token (a macaroon and its preimage), reused until it expires.
    L402,
    /// The `Payment` scheme, Lightning `charge` (pay one request, present the preimage once)
    /// or `session` (a prepaid balance spent over many requests; see [`crate::session`]).
    Mpp,
}

/// The default preference: L402 when offered (a token serves many requests), else `Payment`.
pub const DEFAULT_PREFERENCE: [PaymentScheme; 2] = [PaymentScheme::L402, PaymentScheme::Mpp];

/// The `Accept-Payment` value a client with preference `prefer` sends: the `Payment` method
/// and intents it pays, `lightning/charge` and `lightning/session`; `None` when it does not pay
/// `Payment` challenges.
pub fn accept_payment(prefer: &[PaymentScheme]) -> Option<&'static str> {
    prefer
        .contains(&PaymentScheme::Mpp)
        .then_some("lightning/charge, lightning/session")
}

/// A `Payment` challenge the client answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    /// A Lightning `charge`: pay one request.
    Charge(Challenge),
    /// A Lightning `session`: pay a deposit, spend it over many requests, get the rest back on
    /// close.
    Session(Challenge),
}

/// The `Payment` challenge to answer in a `402` whose `WWW-Authenticate` values are `values`,
/// if the preference picks it: `Payment` must be allowed, a `lightning` `charge` or `session`
/// challenge present (the first offered wins), and no L402 challenge the client prefers.
pub fn choose(prefer: &[PaymentScheme], values: &[&str]) -> Option<Offered> {
    let mpp_rank = prefer.iter().position(|s| *s == PaymentScheme::Mpp)?;
    let offered = Challenge::parse_list(&values.join(", "))
        .ok()?
        .into_iter()
        .filter(|c| c.method.eq_ignore_ascii_case(l402_mpp::METHOD_LIGHTNING))
        .find_map(|c| {
            if c.intent.eq_ignore_ascii_case(l402_mpp::INTENT_CHARGE) {
                Some(Offered::Charge(c))
            } else if c.intent.eq_ignore_ascii_case(l402_mpp::INTENT_SESSION) {
                Some(Offered::Session(c))
            } else {
                None
            }
        })?;
    let l402_rank = prefer.iter().position(|s| *s == PaymentScheme::L402);
    let l402_offered = parse_first_challenge(values.iter().copied()).is_ok();
    match l402_rank {
        Some(rank) if l402_offered && rank < mpp_rank => None,
        _ => Some(offered),
    }
}

/// Checks a charge challenge before paying it, as the Lightning charge draft asks of clients:
/// the challenge has not expired, the request is a `sat` charge, and the invoice (decoded here)
/// carries the request's payment hash and exact amount, on the wallet's network, unexpired,
/// within `max_cost`. Returns the plan [`L402Client::pay`](crate::L402Client) takes (no
/// macaroon: nothing is kept as a token).
pub fn plan(challenge: &Challenge, policy: &PayPolicy) -> Result<PaymentPlan, ClientError> {
    let bad = |why: String| ClientError::BadPaymentChallenge(why);
    let request: ChargeRequest = challenge
        .decode_request()
        .map_err(|e| bad(format!("the request object does not decode: {e}")))?;
    let sat = request.amount_sat().ok_or_else(|| {
        bad(format!(
            "amount {:?} {:?} is not whole sats",
            request.amount, request.currency
        ))
    })?;
    let expected_hash = match &request.method_details.payment_hash {
        Some(_) => Some(
            request
                .payment_hash()
                .ok_or_else(|| bad("paymentHash is not 64 lower-case hex digits".into()))?,
        ),
        None => None,
    };
    check_invoice(
        challenge,
        &request.method_details.invoice,
        expected_hash,
        sat,
        policy,
    )
}

/// Checks a session challenge before paying its deposit, with the charge's checks (see
/// [`plan`]): the challenge has not expired, the request names a positive `sat` unit price, a
/// deposit invoice, its payment hash and the deposit amount, and the invoice carries that hash
/// and exactly that amount, on the wallet's network, unexpired, within `max_cost` (a deposit is
/// one payment). Returns the plan and the decoded request.
pub fn session_plan(
    challenge: &Challenge,
    policy: &PayPolicy,
) -> Result<(PaymentPlan, SessionRequest), ClientError> {
    let bad = |why: String| ClientError::BadPaymentChallenge(why);
    let request: SessionRequest = challenge
        .decode_request()
        .map_err(|e| bad(format!("the session request object does not decode: {e}")))?;
    request.unit_price_sat().ok_or_else(|| {
        bad(format!(
            "unit price {:?} {:?} is not whole sats",
            request.amount, request.currency
        ))
    })?;
    let invoice = request
        .deposit_invoice
        .as_deref()
        .ok_or_else(|| bad("the session challenge has no depositInvoice".into()))?;
    let hash = request
        .payment_hash()
        .ok_or_else(|| bad("paymentHash is not 64 lower-case hex digits".into()))?;
    let deposit = request.deposit_sat().ok_or_else(|| {
        bad(format!(
            "depositAmount {:?} is not a positive number of sats",
            request.deposit_amount
        ))
    })?;
    let plan = check_invoice(challenge, invoice, Some(hash), deposit, policy)?;
    Ok((plan, request))
}

/// The checks a charge and a session deposit share: the challenge's expiry, then the invoice
/// `bolt11` decoded and checked against `expected_hash` (the invoice's own when `None`), the
/// network, its expiry and `max_cost`, and its amount equal to `sat`.
fn check_invoice(
    challenge: &Challenge,
    bolt11: &str,
    expected_hash: Option<l402_core::PaymentHash>,
    sat: u64,
    policy: &PayPolicy,
) -> Result<PaymentPlan, ClientError> {
    let bad = |why: String| ClientError::BadPaymentChallenge(why);
    if let Some(expires) = &challenge.expires {
        let at = l402_mpp::time::parse(expires)
            .ok_or_else(|| bad(format!("expires {expires:?} is not an RFC 3339 time")))?;
        if policy.now_unix >= at {
            return Err(bad(format!("the challenge expired at {expires}")));
        }
    }
    let invoice =
        parse_bolt11(bolt11).map_err(|e| ClientError::Refused(StopReason::BadInvoice(e)))?;
    let amount = InvoiceCheck {
        expected_hash: expected_hash.unwrap_or(invoice.payment_hash),
        network: policy.network,
        max_amount: policy.max_amount,
        now_unix: policy.now_unix,
    }
    .check(&invoice)
    .map_err(|e| ClientError::Refused(StopReason::InvoiceRefused(e)))?;
    if amount != Msat::from_sat(sat) {
        return Err(bad(format!(
            "the invoice asks {amount}, the request says {sat} sat"
        )));
    }
    Ok(PaymentPlan {
        challenge: l402_core::challenge::Challenge {
            scheme: Scheme::L402,
            macaroon: Vec::new(),
            invoice: invoice.bolt11.clone(),
            version: None,
        },
        payment_hash: invoice.payment_hash,
        invoice,
        amount,
    })
}

impl L402Client {
    /// Refuses to go on to an L402 payment when the preference does not list L402.
    pub(crate) fn check_l402_allowed(&self) -> Result<(), ClientError> {
        if self.inner.prefer.contains(&PaymentScheme::L402) {
            return Ok(());
        }
        Err(ClientError::SchemeNotAllowed(format!(
            "no usable Payment challenge, and L402 is not in [payment] prefer = {:?}",
            self.inner.prefer
        )))
    }

    /// Pays a `Payment` charge challenge of the 402 that `spec` (for `target`) got, and sends
    /// `spec` again once with the credential (to the origin that asked). A second 402 is not
    /// paid again.
    pub(crate) async fn pay_charge(
        &self,
        target: &Target,
        spec: RequestSpec,
        charge: Challenge,
    ) -> Result<PaidResponse, ClientError> {
        let (preimage, receipt) = self
            .pay_charge_only(target, spec.url.as_str(), &charge)
            .await?;
        let payment_hash = receipt.payment_hash;
        let credential = credential(charge, &preimage);
        let mut spec = spec;
        let mut value = HeaderValue::from_str(&credential.to_authorization())
            .map_err(|_| ClientError::Internal("the credential is not a header value".into()))?;
        value.set_sensitive(true);
        spec.headers.insert(AUTHORIZATION, value);
        let response = self.send(&spec, None).await?;
        if response.status() == reqwest::StatusCode::PAYMENT_REQUIRED {
            tracing::warn!(payment_hash = %payment_hash, "the server still asks for payment after the Payment credential");
            return Err(ClientError::Refused(StopReason::StillRequiredAfterPayment));
        }
        let payment_receipt = response
            .headers()
            .get(l402_mpp::RECEIPT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| l402_mpp::Receipt::from_header(v).ok());
        Ok(PaidResponse {
            response,
            payment: Some(receipt),
            reused_token: false,
            token_status: None,
            payment_receipt,
            session: None,
        })
    }
}

impl L402Client {
    /// Pays the charge `charge` (for `target`; `url` is recorded with the receipt) after the
    /// checks of [`plan`], within the budget, through the journal; returns the preimage and the
    /// receipt. Nothing else is sent.
    pub(crate) async fn pay_charge_only(
        &self,
        target: &Target,
        url: &str,
        charge: &Challenge,
    ) -> Result<(Preimage, l402_store::Receipt), ClientError> {
        let plan = plan(charge, &self.policy().await?)?;
        if !self.inner.auto_pay {
            return Err(ClientError::PaymentRequired {
                amount: plan.amount,
                scope: target.scope.clone(),
                payment_hash: plan.payment_hash,
            });
        }
        self.resolve_before_paying(target).await?;
        let (paid, receipt) = self.pay(target, url, &plan).await?;
        Ok((paid.preimage, receipt))
    }
}

/// The charge credential's `payload`: `{"preimage": "<64 hex>"}`.
pub fn charge_payload(preimage: &Preimage) -> serde_json::Map<String, serde_json::Value> {
    let mut payload = serde_json::Map::new();
    payload.insert("preimage".into(), preimage.to_hex().into());
    payload
}

/// The credential proving the payment of `challenge` with `preimage`.
pub fn credential(challenge: Challenge, preimage: &Preimage) -> Credential {
    Credential {
        challenge,
        source: None,
        payload: charge_payload(preimage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYMENT: &str =
        "Payment id=\"a\", realm=\"r\", method=\"lightning\", intent=\"charge\", request=\"cQ\"";
    const SESSION: &str =
        "Payment id=\"b\", realm=\"r\", method=\"lightning\", intent=\"session\", request=\"cQ\"";
    const L402: &str = "L402 macaroon=\"AgEEbHNhdAJCAAAA\", invoice=\"lnbcrt1\"";

    #[test]
    fn the_preference_decides() {
        use PaymentScheme::{L402 as L, Mpp as M};
        assert!(
            choose(&[L, M], &[PAYMENT]).is_some(),
            "only Payment offered"
        );
        assert!(choose(&[M, L], &[L402, PAYMENT]).is_some());
        assert!(choose(&[M], &[L402, PAYMENT]).is_some());
        assert!(choose(&[L], &[PAYMENT]).is_none(), "Payment not allowed");
        assert!(matches!(
            choose(&[L, M], &[SESSION]),
            Some(Offered::Session(_))
        ));
        assert!(matches!(
            choose(&[M], &[L402, SESSION, PAYMENT]),
            Some(Offered::Session(_))
        ));
        assert!(
            choose(&[L, M], &[L402, SESSION]).is_none(),
            "L402 preferred"
        );
        assert!(choose(&[L, M], &["Payment id=\"a\", realm=\"r\", method=\"other\", intent=\"session\", request=\"cQ\""]).is_none());
        assert_eq!(accept_payment(&[L]), None);
        assert_eq!(
            accept_payment(&[L, M]),
            Some("lightning/charge, lightning/session")
        );
    }
}
