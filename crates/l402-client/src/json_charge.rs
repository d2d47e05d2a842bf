//! Paying a `Payment` (MPP) Lightning **charge** challenge that arrived in its JSON form, as the
//! scheme's MCP / JSON-RPC transport carries it (a `-32042` error's `data.challenges`, or a tool
//! result's `_meta["org.paymentauth/payment-required"]`): the `request` is a JSON object, not
//! base64url, and the credential goes back as JSON in the retried call's
//! `params._meta["org.paymentauth/credential"]` (see [`l402_mpp::mcp`]).
//!
//! The checks and the payment are those of an HTTP charge challenge ([`crate::mpp::plan`] and
//! the client's payment path): the challenge must not have expired, the invoice must carry the
//! request's payment hash and exactly its amount, on the wallet's network, within `max_cost`;
//! then the budget (with the domain of the server's URL), the journal entry, the wallet, the
//! spend ledger and the receipt. Nothing is sent: the caller retries its call with
//! [`JsonChargePaid::credential`].

use l402_store::Receipt;
use serde_json::Value;

use crate::client::L402Client;
use crate::error::ClientError;
use crate::mpp::PaymentScheme;

/// A paid JSON-form charge.
#[derive(Debug, Clone)]
pub struct JsonChargePaid {
    /// The credential for `params._meta["org.paymentauth/credential"]` of the retried call:
    /// `{challenge: <the challenge exactly as received>, payload: {preimage}}`.
    pub credential: Value,
    /// The payment, as stored (receipts, budget).
    pub receipt: Receipt,
}

/// The challenge to pay among `challenges` (JSON form, as offered): the first Lightning
/// `charge`. Errors (nothing paid): [`ClientError::SchemeNotAllowed`] when `prefer` does not
/// list the `Payment` scheme or no Lightning charge is offered (naming what is).
pub fn choose_json_charge<'a>(
    prefer: &[PaymentScheme],
    challenges: &'a [Value],
) -> Result<&'a Value, ClientError> {
    if !prefer.contains(&PaymentScheme::Mpp) {
        return Err(ClientError::SchemeNotAllowed(format!(
            "the server asks for a Payment (MPP) charge, and [payment] prefer = {prefer:?} does \
             not list mpp"
        )));
    }
    let field = |c: &Value, name: &str| c.get(name).and_then(Value::as_str).map(str::to_owned);
    challenges
        .iter()
        .find(|c| {
            field(c, "method").is_some_and(|m| m.eq_ignore_ascii_case(l402_mpp::METHOD_LIGHTNING))
                && field(c, "intent")
                    .is_some_and(|i| i.eq_ignore_ascii_case(l402_mpp::INTENT_CHARGE))
        })
        .ok_or_else(|| {
            let offered: Vec<String> = challenges
                .iter()
                .map(|c| {
                    format!(
                        "{}/{}",
                        field(c, "method").unwrap_or_else(|| "?".into()),
                        field(c, "intent").unwrap_or_else(|| "?".into())
                    )
                })
                .collect();
            ClientError::SchemeNotAllowed(format!(
                "no lightning/charge challenge among the {} offered ({})",
                offered.len(),
                offered.join(", ")
            ))
        })
}

impl L402Client {
    /// Pays `challenge`, a Lightning charge challenge in its JSON form (its `request` a JSON
    /// object), for the server at `url` (its origin's host is the domain the budget and the
    /// domain lists see; `url` is recorded with the receipt, e.g. an MCP endpoint with the tool
    /// name as fragment). Returns the credential to retry with and the receipt; the payment is
    /// in the journal, the spend ledger and the receipts like any other.
    ///
    /// Errors, nothing paid: [`ClientError::SchemeNotAllowed`] when `[payment] prefer` does not
    /// list `mpp`; [`ClientError::BadPaymentChallenge`] for a challenge that is not a Lightning
    /// charge in JSON form, has expired, or whose request disagrees with its invoice (amount,
    /// payment hash); [`ClientError::Refused`] for an invoice the checks refuse (network,
    /// expiry, over `max_cost`); [`ClientError::Budget`] over a budget limit or for a domain the
    /// lists refuse; [`ClientError::PaymentRequired`] with automatic payment off;
    /// [`ClientError::InvalidRequest`] for a bad `url`. After the wallet was called:
    /// [`ClientError::PaymentFailed`] (released) or [`ClientError::PaymentPending`].
    pub async fn pay_json_charge(
        &self,
        url: &str,
        challenge: &Value,
    ) -> Result<JsonChargePaid, ClientError> {
        let offered = choose_json_charge(&self.inner.prefer, std::slice::from_ref(challenge))
            .map_err(|e| match e {
                ClientError::SchemeNotAllowed(why) if self.prefers_mpp() => {
                    ClientError::BadPaymentChallenge(why)
                }
                other => other,
            })?;
        let charge = l402_mpp::mcp::challenge_from_json(offered)
            .map_err(|e| ClientError::BadPaymentChallenge(e.to_string()))?;
        let target = self.target_of(url)?;
        let (preimage, receipt) = self.pay_charge_only(&target, url, &charge).await?;
        Ok(JsonChargePaid {
            credential: l402_mpp::mcp::credential_json(
                challenge.clone(),
                crate::mpp::charge_payload(&preimage),
            ),
            receipt,
        })
    }

    /// The `Payment`-scheme preference this client was built with, most preferred first.
    pub fn payment_preference(&self) -> &[PaymentScheme] {
        &self.inner.prefer
    }

    fn prefers_mpp(&self) -> bool {
        self.inner.prefer.contains(&PaymentScheme::Mpp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_lightning_charge_is_chosen() {
        use PaymentScheme::{L402, Mpp};
        let offered = [
            json!({"method": "lightning", "intent": "session"}),
            json!({"method": "tempo", "intent": "charge"}),
            json!({"method": "lightning", "intent": "charge", "id": "x"}),
        ];
        assert_eq!(
            choose_json_charge(&[L402, Mpp], &offered).unwrap()["id"],
            "x"
        );
        let e = choose_json_charge(&[L402, Mpp], &offered[..2]).unwrap_err();
        assert!(
            e.to_string().contains("(lightning/session, tempo/charge)"),
            "{e}"
        );
        assert!(e.nothing_paid());
        let e = choose_json_charge(&[L402], &offered).unwrap_err();
        assert!(e.to_string().contains("does not list mpp"), "{e}");
    }
}
