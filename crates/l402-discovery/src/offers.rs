//! The `x-payment-info` extension of an OpenAPI operation (MPP discovery).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One way to pay for an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOffer {
    /// `charge` (one payment per token) or `session`.
    pub intent: String,
    /// The payment method: `lightning`.
    pub method: String,
    /// The amount as decimal digits without leading zeros, or `None` (JSON `null`) when
    /// dynamic.
    pub amount: Option<String>,
    /// The amount's currency (`sat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// What is paid for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An operation's `x-payment-info`: its offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInfo {
    /// The offers, at least one.
    pub offers: Vec<PaymentOffer>,
}

impl PaymentInfo {
    /// One Lightning `charge` offer of `price_msat`, written in whole satoshis (see
    /// [`sat_amount`]).
    pub fn lightning_charge(price_msat: u64, description: Option<String>) -> Self {
        Self {
            offers: vec![PaymentOffer {
                intent: "charge".to_owned(),
                method: "lightning".to_owned(),
                amount: Some(sat_amount(price_msat)),
                currency: Some("sat".to_owned()),
                description,
            }],
        }
    }

    /// Reads either form clients must accept: `{offers: [...]}` or one offer. `None` if the
    /// value is neither.
    pub fn from_value(value: &Value) -> Option<Self> {
        if value.get("offers").is_some() {
            return serde_json::from_value(value.clone()).ok();
        }
        serde_json::from_value::<PaymentOffer>(value.clone())
            .ok()
            .map(|offer| Self {
                offers: vec![offer],
            })
    }
}

/// `price_msat` as an offer amount in satoshis: decimal digits, rounded up, so an advertised
/// amount is never below what the invoice asks. (The seller's prices are configured in whole
/// satoshis, so nothing is rounded in practice; `price_msat` in the manifest is exact.)
pub fn sat_amount(price_msat: u64) -> String {
    price_msat.div_ceil(1000).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_satoshis_rounded_up() {
        assert_eq!(sat_amount(5000), "5");
        assert_eq!(sat_amount(5001), "6");
        assert_eq!(sat_amount(0), "0");
        assert_eq!(sat_amount(999), "1");
    }

    #[test]
    fn both_forms_are_read() {
        let full = serde_json::json!({"offers": [{"intent": "charge", "method": "lightning", "amount": "100", "currency": "sat"}]});
        let short = serde_json::json!({"intent": "session", "method": "lightning", "amount": null});
        assert_eq!(
            PaymentInfo::from_value(&full).unwrap().offers[0]
                .amount
                .as_deref(),
            Some("100")
        );
        let s = PaymentInfo::from_value(&short).unwrap();
        assert_eq!(s.offers[0].intent, "session");
        assert_eq!(s.offers[0].amount, None);
        assert!(PaymentInfo::from_value(&serde_json::json!({"x": 1})).is_none());
    }
}
