//! [`ClnRest`]: the [`LightningBackend`] over CLNRest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use l402_core::invoice::{Network, ParsedInvoice};
use l402_core::{Msat, PaymentHash, Preimage};
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::{Mutex, broadcast};
use tokio::task::JoinHandle;

use super::errors::{METHOD_NOT_FOUND, map, map_pay};
use super::transport::{Failure, Transport};
use super::wire::{
    GetinfoResponse, InvoiceResponse, ListinvoicesResponse, ListpaysResponse,
    ListpeerchannelsResponse, ListsendpaysResponse, PayResponse,
};
use super::{ClnConfig, ClnSetupError, stream};
use crate::backend::{
    Balance, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, NodeInfo, PayOptions,
    PaymentResult, PaymentState, Settlement,
};
use crate::error::BackendError;
pub(crate) use l402_core::env::now_unix;

/// How many settlements a slow subscriber may fall behind before it lags.
const SETTLEMENT_CAPACITY: usize = 1024;
/// Extra time a `pay` call gets beyond its `retry_for`, for CLN to answer.
const PAY_GRACE: Duration = Duration::from_secs(15);

struct Hub {
    tx: broadcast::Sender<Settlement>,
    task: JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A Core Lightning node over CLNRest. Cheap to share behind an `Arc`; one HTTP connection pool.
pub struct ClnRest {
    transport: Arc<Transport>,
    hub: Mutex<Option<Hub>>,
}

impl std::fmt::Debug for ClnRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClnRest")
            .field("url", &self.transport.base())
            .finish_non_exhaustive()
    }
}

impl ClnRest {
    /// `pay` of a checked invoice, naming `explicit` as `amount_msat` (for an amountless
    /// invoice); `amount` is what the payee must receive.
    async fn pay(
        &self,
        parsed: ParsedInvoice,
        explicit: Option<Msat>,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        // `pay` answers a paid invoice with the old success: ask first.
        if let PaymentState::Succeeded { .. } = self.payment_state(&parsed.payment_hash).await? {
            return Err(BackendError::AlreadyPaid);
        }
        let retry_for = opts.timeout.as_secs().clamp(1, u64::from(u16::MAX));
        let mut params = json!({
            "bolt11": parsed.bolt11,
            "maxfee": msat_param(opts.max_fee),
            "retry_for": retry_for,
        });
        if let Some(explicit) = explicit {
            // Only for an amountless invoice: CLN refuses an amount for one that names its own.
            params["amount_msat"] = msat_param(explicit).into();
        }
        let r: PayResponse = self
            .transport
            .call("pay", &params, Duration::from_secs(retry_for) + PAY_GRACE)
            .await
            .map_err(|f| map_pay(f, self.transport.base()))?;
        match r.status.as_str() {
            "complete" => {}
            // Parts still in flight: the outcome is not known yet.
            "pending" => return Err(BackendError::Timeout),
            other => {
                return Err(BackendError::Other(format!(
                    "CLN `pay` ended with status {other:?}"
                )));
            }
        }
        if parse_hash(&r.payment_hash, "payment_hash")? != parsed.payment_hash {
            return Err(BackendError::Other(
                "CLN paid another payment hash than the invoice's".into(),
            ));
        }
        let delivered = r.amount_msat.0;
        if delivered < amount.0 {
            return Err(BackendError::Other(format!(
                "CLN delivered {delivered} msat for an invoice of {} msat",
                amount.0
            )));
        }
        Ok(PaymentResult {
            preimage: parse_preimage(&r.payment_preimage, &parsed.payment_hash)?,
            fee: Msat(r.amount_sent_msat.0.saturating_sub(delivered)),
            amount: Msat(delivered),
            payment_hash: parsed.payment_hash,
        })
    }

    /// A client for the configured CLNRest server. Does no IO: a wrong URL or rune shows on
    /// the first call (e.g. [`LightningBackend::node_info`]).
    pub fn new(config: ClnConfig) -> Result<Self, ClnSetupError> {
        Ok(Self {
            transport: Arc::new(Transport::new(&config)?),
            hub: Mutex::new(None),
        })
    }

    /// The server's base URL, as used (`https://host:port`).
    pub fn url(&self) -> &str {
        self.transport.base()
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<T, BackendError> {
        self.transport
            .call(method, &params, self.transport.request_timeout())
            .await
            .map_err(|f| map(method, f, self.transport.base()))
    }

    async fn payment_state_by_listsendpays(
        &self,
        hash: &PaymentHash,
    ) -> Result<PaymentState, BackendError> {
        let r: ListsendpaysResponse = self
            .call("listsendpays", json!({ "payment_hash": hash.to_hex() }))
            .await?;
        // Parts of one payment attempt share a groupid; a group with a complete part paid.
        let mut groups: BTreeMap<u64, Vec<&super::wire::SendPay>> = BTreeMap::new();
        for p in &r.payments {
            groups.entry(p.groupid).or_default().push(p);
        }
        for parts in groups.values() {
            let complete: Vec<_> = parts.iter().filter(|p| p.status == "complete").collect();
            let Some(with_preimage) = complete.iter().find_map(|p| p.payment_preimage.as_deref())
            else {
                continue;
            };
            let sent: u64 = complete.iter().map(|p| p.amount_sent_msat.0).sum();
            let delivered: u64 = complete
                .iter()
                .map(|p| p.amount_msat.map_or(p.amount_sent_msat.0, |m| m.0))
                .sum();
            return Ok(PaymentState::Succeeded {
                preimage: parse_preimage(with_preimage, hash)?,
                fee: Msat(sent.saturating_sub(delivered)),
            });
        }
        Ok(if r.payments.iter().any(|p| p.status == "pending") {
            PaymentState::InFlight
        } else if r.payments.is_empty() {
            PaymentState::Unknown
        } else {
            PaymentState::Failed
        })
    }
}

fn parse_hash(hex: &str, what: &str) -> Result<PaymentHash, BackendError> {
    PaymentHash::from_hex(hex)
        .map_err(|_| BackendError::Other(format!("CLN answered a malformed {what}")))
}

/// A preimage from CLN, checked against the hash it must pay.
fn parse_preimage(hex: &str, hash: &PaymentHash) -> Result<Preimage, BackendError> {
    let preimage = Preimage::from_hex(&hex.to_ascii_lowercase())
        .map_err(|_| BackendError::Other("CLN answered a malformed payment preimage".into()))?;
    if !preimage.pays(hash) {
        return Err(BackendError::Other(format!(
            "CLN answered a preimage that does not pay {hash}"
        )));
    }
    Ok(preimage)
}

/// CLN's `getinfo.network` names.
fn network(name: &str) -> Result<Network, BackendError> {
    match name {
        "bitcoin" => Ok(Network::Bitcoin),
        // BOLT11 uses `lntb` for both test networks.
        "testnet" | "testnet4" => Ok(Network::Testnet),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        other => Err(BackendError::Other(format!(
            "CLN runs on network {other:?}, which L402 does not support"
        ))),
    }
}

fn random_label() -> String {
    let mut bytes = [0u8; 16];
    UnwrapErr(SysRng).fill_bytes(&mut bytes);
    format!("l402-{}", hex::encode(bytes))
}

/// `"<n>msat"`: how `cln-rpc` writes amounts, and what every lightningd version parses.
fn msat_param(m: Msat) -> String {
    format!("{}msat", m.0)
}

#[async_trait]
impl LightningBackend for ClnRest {
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        let r: InvoiceResponse = self
            .call(
                "invoice",
                json!({
                    // `any`: an amountless invoice.
                    "amount_msat": if req.amount.0 == 0 {
                        "any".to_owned()
                    } else {
                        msat_param(req.amount)
                    },
                    "label": random_label(),
                    "description": req.memo,
                    "expiry": req.expiry_secs,
                }),
            )
            .await?;
        Ok(CreatedInvoice {
            payment_hash: parse_hash(&r.payment_hash, "payment_hash")?,
            bolt11: r.bolt11,
            expires_at_unix: r.expires_at,
        })
    }

    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        let r: ListinvoicesResponse = self
            .call("listinvoices", json!({ "payment_hash": hash.to_hex() }))
            .await?;
        let Some(invoice) = r.invoices.into_iter().next() else {
            return Err(BackendError::UnknownInvoice(*hash));
        };
        match invoice.status.as_str() {
            "paid" => Ok(InvoiceState::Settled {
                amount_received: Msat(
                    invoice
                        .amount_received_msat
                        .or(invoice.amount_msat)
                        .map_or(0, |m| m.0),
                ),
                settled_at_unix: invoice.paid_at.unwrap_or_else(now_unix),
            }),
            "expired" => Ok(InvoiceState::Expired),
            // CLN flips the status with a timer; the clock decides in between.
            "unpaid" if invoice.expires_at <= now_unix() => Ok(InvoiceState::Expired),
            "unpaid" => Ok(InvoiceState::Open),
            other => Err(BackendError::Other(format!(
                "CLN reports invoice status {other:?}"
            ))),
        }
    }

    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        let mut hub = self.hub.lock().await;
        if let Some(h) = hub.as_ref()
            && !h.task.is_finished()
        {
            return Ok(Some(h.tx.subscribe()));
        }
        let last = match stream::newest_pay_index(&self.transport).await {
            Ok(last) => last,
            Err(BackendError::Unauthorized) => {
                tracing::warn!(
                    backend = super::BACKEND_NAME,
                    "the rune does not allow waitanyinvoice: settlements are polled instead"
                );
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let (tx, rx) = broadcast::channel(SETTLEMENT_CAPACITY);
        let task = tokio::spawn(stream::run(self.transport.clone(), tx.clone(), last));
        *hub = Some(Hub { tx, task });
        Ok(Some(rx))
    }

    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let (parsed, amount) = crate::pay_checks::payable_invoice(bolt11, "Core Lightning")?;
        self.pay(parsed, None, amount, opts).await
    }

    /// `pay` with `amount_msat` for an amountless invoice.
    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let (parsed, explicit) = crate::pay_checks::payable_with_amount(bolt11, amount)?;
        self.pay(parsed, explicit, amount, opts).await
    }

    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        let answer = self
            .transport
            .call::<ListpaysResponse>(
                "listpays",
                &json!({ "payment_hash": hash.to_hex() }),
                self.transport.request_timeout(),
            )
            .await;
        let r = match answer {
            Ok(r) => r,
            // The pay plugin (which provides listpays) is disabled: read the raw parts.
            Err(Failure::Rpc(e)) if e.http == 404 || e.code == Some(METHOD_NOT_FOUND) => {
                return self.payment_state_by_listsendpays(hash).await;
            }
            Err(f) => return Err(map("listpays", f, self.transport.base())),
        };
        if let Some(p) = r.pays.iter().find(|p| p.status == "complete") {
            let preimage = p.preimage.as_deref().ok_or_else(|| {
                BackendError::Other("CLN lists a complete payment without its preimage".into())
            })?;
            let fee = match (p.amount_sent_msat, p.amount_msat) {
                (Some(sent), Some(delivered)) => sent.0.saturating_sub(delivered.0),
                _ => 0,
            };
            return Ok(PaymentState::Succeeded {
                preimage: parse_preimage(preimage, hash)?,
                fee: Msat(fee),
            });
        }
        Ok(if r.pays.iter().any(|p| p.status == "pending") {
            PaymentState::InFlight
        } else if r.pays.is_empty() {
            PaymentState::Unknown
        } else {
            PaymentState::Failed
        })
    }

    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        let r: GetinfoResponse = self.call("getinfo", json!({})).await?;
        let pubkey_hex = r.id.to_ascii_lowercase();
        if pubkey_hex.len() != 66 || !pubkey_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BackendError::Other(
                "CLN's getinfo answered a malformed node id".into(),
            ));
        }
        Ok(NodeInfo {
            network: network(&r.network)?,
            alias: r.alias.unwrap_or_default(),
            pubkey_hex,
        })
    }

    /// The sum of `spendable_msat` over the channels in `CHANNELD_NORMAL` state
    /// (`listpeerchannels`, which the rune must allow).
    async fn balance(&self) -> Result<Balance, BackendError> {
        let r: ListpeerchannelsResponse = self.call("listpeerchannels", json!({})).await?;
        let spendable = r
            .channels
            .iter()
            .filter(|c| c.state == "CHANNELD_NORMAL")
            .filter_map(|c| c.spendable_msat)
            .fold(0u64, |sum, m| sum.saturating_add(m.0));
        Ok(Balance {
            spendable: Some(Msat(spendable)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_labels() {
        assert_eq!(network("bitcoin").unwrap(), Network::Bitcoin);
        assert_eq!(network("testnet4").unwrap(), Network::Testnet);
        assert_eq!(network("regtest").unwrap(), Network::Regtest);
        assert!(network("liquid-regtest").is_err());
        let (a, b) = (random_label(), random_label());
        assert!(a.starts_with("l402-") && a.len() == 5 + 32 && a != b);
        assert_eq!(msat_param(Msat(21_000)), "21000msat");
    }
}
