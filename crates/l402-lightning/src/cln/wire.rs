//! The parts of CLN's JSON answers this backend reads, after CLN's published schemas
//! (`doc/schemas/*.json`). Unknown fields are ignored; amounts are read both as integers
//! (lightningd since v23.05) and as `"<n>msat"` strings (older nodes, and `cln-rpc`'s own
//! serialization).

use serde::{Deserialize, Deserializer};

/// An amount in millisatoshis: `1000` or `"1000msat"` (also `"1sat"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct MsatField(pub u64);

impl<'de> Deserialize<'de> for MsatField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_u64()
                .map(MsatField)
                .ok_or_else(|| D::Error::custom(format!("not a msat amount: {n}"))),
            serde_json::Value::String(s) => parse_msat_str(&s)
                .map(MsatField)
                .ok_or_else(|| D::Error::custom(format!("not a msat amount: {s:?}"))),
            other => Err(D::Error::custom(format!("not a msat amount: {other}"))),
        }
    }
}

fn parse_msat_str(s: &str) -> Option<u64> {
    if let Some(n) = s.strip_suffix("msat") {
        return n.parse().ok();
    }
    if let Some(n) = s.strip_suffix("sat") {
        return n.parse::<u64>().ok()?.checked_mul(1000);
    }
    s.parse().ok()
}

/// `getinfo`.
#[derive(Debug, Deserialize)]
pub(crate) struct GetinfoResponse {
    pub id: String,
    #[serde(default)]
    pub alias: Option<String>,
    pub network: String,
}

/// `listpeerchannels`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListpeerchannelsResponse {
    #[serde(default)]
    pub channels: Vec<PeerChannel>,
}

/// One of `listpeerchannels.channels`, the fields used.
#[derive(Debug, Deserialize)]
pub(crate) struct PeerChannel {
    #[serde(default)]
    pub state: String,
    /// What this side can send through the channel now (absent on channels not yet open).
    #[serde(default)]
    pub spendable_msat: Option<MsatField>,
}

/// `invoice`.
#[derive(Debug, Deserialize)]
pub(crate) struct InvoiceResponse {
    pub bolt11: String,
    pub payment_hash: String,
    pub expires_at: u64,
}

/// An invoice in `listinvoices` and the answer of `waitanyinvoice`.
#[derive(Debug, Deserialize)]
pub(crate) struct Invoice {
    pub payment_hash: String,
    /// `unpaid`, `paid` or `expired`.
    pub status: String,
    pub expires_at: u64,
    #[serde(default)]
    pub amount_msat: Option<MsatField>,
    #[serde(default)]
    pub amount_received_msat: Option<MsatField>,
    #[serde(default)]
    pub paid_at: Option<u64>,
    #[serde(default)]
    pub pay_index: Option<u64>,
}

/// `listinvoices`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListinvoicesResponse {
    pub invoices: Vec<Invoice>,
}

/// `pay` (and xpay answering as `pay`).
#[derive(Debug, Deserialize)]
pub(crate) struct PayResponse {
    pub payment_preimage: String,
    pub payment_hash: String,
    pub amount_msat: MsatField,
    pub amount_sent_msat: MsatField,
    /// `complete`, `pending` or `failed`.
    pub status: String,
}

/// One payment in `listpays`.
#[derive(Debug, Deserialize)]
pub(crate) struct Pay {
    /// `pending`, `complete` or `failed`.
    pub status: String,
    #[serde(default)]
    pub preimage: Option<String>,
    #[serde(default)]
    pub amount_msat: Option<MsatField>,
    #[serde(default)]
    pub amount_sent_msat: Option<MsatField>,
}

/// `listpays`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListpaysResponse {
    pub pays: Vec<Pay>,
}

/// One part in `listsendpays`.
#[derive(Debug, Deserialize)]
pub(crate) struct SendPay {
    /// `pending`, `complete` or `failed`.
    pub status: String,
    pub groupid: u64,
    #[serde(default)]
    pub payment_preimage: Option<String>,
    #[serde(default)]
    pub amount_msat: Option<MsatField>,
    pub amount_sent_msat: MsatField,
}

/// `listsendpays`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListsendpaysResponse {
    pub payments: Vec<SendPay>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_numbers_or_strings() {
        let v: Vec<MsatField> = serde_json::from_str(r#"[1000, "1000msat", "1sat", "7"]"#).unwrap();
        assert_eq!(
            v,
            vec![
                MsatField(1000),
                MsatField(1000),
                MsatField(1000),
                MsatField(7)
            ]
        );
        assert!(serde_json::from_str::<MsatField>(r#""1btc""#).is_err());
        assert!(serde_json::from_str::<MsatField>("-1").is_err());
    }
}
