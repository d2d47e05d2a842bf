//! The subset of LND's REST JSON this backend reads and writes (`lnrpc/lightning.swagger.json`,
//! `routerrpc/router.swagger.json` @ v0.21). The gateway renders 64-bit integers as strings,
//! `bytes` as standard base64, and enums by name.

use serde::{Deserialize, Deserializer, Serialize};

/// A 64-bit integer the gateway may render as a string or a number.
fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        U(u64),
        I(i64),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(0),
        Some(N::U(u)) => Ok(u),
        Some(N::I(i)) => Ok(i.max(0) as u64),
        Some(N::S(s)) if s.is_empty() => Ok(0),
        Some(N::S(s)) => s
            .parse::<i64>()
            .map(|i| i.max(0) as u64)
            .or_else(|_| s.parse::<u64>())
            .map_err(serde::de::Error::custom),
    }
}

/// `POST /v1/invoices` body (`lnrpc.Invoice`).
#[derive(Debug, Serialize)]
pub(crate) struct AddInvoice<'a> {
    pub value_msat: String,
    pub memo: &'a str,
    pub expiry: String,
}

/// `POST /v1/invoices` answer (`lnrpc.AddInvoiceResponse`).
#[derive(Debug, Deserialize)]
pub(crate) struct AddInvoiceResponse {
    /// base64.
    pub r_hash: String,
    pub payment_request: String,
}

/// `lnrpc.Invoice`, from lookups and the invoice subscription.
#[derive(Debug, Deserialize)]
pub(crate) struct Invoice {
    /// base64.
    #[serde(default)]
    pub r_hash: String,
    #[serde(default, deserialize_with = "de_u64")]
    pub creation_date: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub settle_date: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub expiry: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub amt_paid_msat: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub settle_index: u64,
    /// `OPEN`, `SETTLED`, `CANCELED` or `ACCEPTED`.
    #[serde(default)]
    pub state: String,
}

/// `POST /v2/router/send` body (`routerrpc.SendPaymentRequest`).
#[derive(Debug, Serialize)]
pub(crate) struct SendPayment<'a> {
    pub payment_request: &'a str,
    /// Only for an amountless invoice (LND refuses it for one that names an amount).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amt_msat: Option<String>,
    pub fee_limit_msat: String,
    pub timeout_seconds: i32,
    pub no_inflight_updates: bool,
}

/// `lnrpc.Payment`, streamed by `/v2/router/send` and `/v2/router/track/{hash}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Payment {
    /// Hex; all zeros until it succeeds.
    #[serde(default)]
    pub payment_preimage: String,
    #[serde(default, deserialize_with = "de_u64")]
    pub value_msat: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub fee_msat: u64,
    /// `INITIATED`, `IN_FLIGHT`, `SUCCEEDED`, `FAILED` (`UNKNOWN` is deprecated).
    #[serde(default)]
    pub status: String,
    /// `FAILURE_REASON_*`.
    #[serde(default)]
    pub failure_reason: String,
}

/// `GET /v1/getinfo` answer (`lnrpc.GetInfoResponse`), the fields used.
#[derive(Debug, Deserialize)]
pub(crate) struct GetInfo {
    #[serde(default)]
    pub identity_pubkey: String,
    #[serde(default)]
    pub alias: String,
    #[serde(default)]
    pub chains: Vec<Chain>,
    #[serde(default)]
    pub synced_to_chain: bool,
}

/// `GET /v1/balance/channels` answer (`lnrpc.ChannelBalanceResponse`), the field used.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChannelBalance {
    #[serde(default)]
    pub local_balance: Amount,
}

/// `lnrpc.Amount`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Amount {
    #[serde(default, deserialize_with = "de_u64")]
    pub msat: u64,
}

/// One of `GetInfoResponse.chains`.
#[derive(Debug, Deserialize)]
pub(crate) struct Chain {
    #[serde(default)]
    pub chain: String,
    #[serde(default)]
    pub network: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gateway_renderings() {
        let inv: Invoice = serde_json::from_str(
            r#"{"r_hash":"AAAA","creation_date":"1700000000","settle_date":"0","expiry":"600",
               "amt_paid_msat":"21000","settle_index":"7","state":"SETTLED","value":"21"}"#,
        )
        .unwrap();
        assert_eq!(
            (
                inv.creation_date,
                inv.expiry,
                inv.amt_paid_msat,
                inv.settle_index
            ),
            (1_700_000_000, 600, 21_000, 7)
        );
        assert_eq!(inv.state, "SETTLED");
        let p: Payment = serde_json::from_str(
            r#"{"value_msat":21000,"fee_msat":"0","status":"SUCCEEDED",
               "failure_reason":"FAILURE_REASON_NONE","htlcs":[]}"#,
        )
        .unwrap();
        assert_eq!((p.value_msat, p.fee_msat), (21_000, 0));
        let body = serde_json::to_value(SendPayment {
            payment_request: "lnbcrt1",
            amt_msat: None,
            fee_limit_msat: "1000".into(),
            timeout_seconds: 60,
            no_inflight_updates: true,
        })
        .unwrap();
        assert_eq!(body["fee_limit_msat"], "1000");
        assert!(body.get("amt_msat").is_none(), "{body}");
        let body = serde_json::to_value(SendPayment {
            payment_request: "lnbcrt1",
            amt_msat: Some("13001".into()),
            fee_limit_msat: "1000".into(),
            timeout_seconds: 60,
            no_inflight_updates: true,
        })
        .unwrap();
        assert_eq!(body["amt_msat"], "13001");
    }
}
