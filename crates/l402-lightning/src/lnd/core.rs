//! The backend logic shared by the REST and gRPC transports: LND's answers and errors mapped
//! onto [`LightningBackend`], and the settlement subscription.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use l402_core::invoice::{Network, parse_bolt11, read_issued_bolt11};
use l402_core::{Msat, PaymentHash, Preimage};
use tokio::sync::{Mutex, broadcast};

use super::api::{Failure, LndApi, RpcStatus};
use super::wire::Payment;
use crate::backend::{
    Balance, CreateInvoice, CreatedInvoice, InvoiceState, NodeInfo, PayOptions, PaymentResult,
    PaymentState, Settlement,
};
use crate::error::BackendError;
use l402_core::env::now_unix;

/// gRPC codes LND reports.
mod code {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const NOT_FOUND: i32 = 5;
    pub const ALREADY_EXISTS: i32 = 6;
    pub const PERMISSION_DENIED: i32 = 7;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}

/// Extra time a payment gets beyond its own timeout for LND's final answer to arrive.
const PAY_GRACE: Duration = Duration::from_secs(10);
/// Settlement stream reconnection backoff bounds.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// How long the first subscription waits for its request to reach LND. LND answers a stream
/// only with its first message, so the moment it registered the subscriber cannot be observed;
/// this bounds the window in which an earlier settlement could be missed. Reconnections resume
/// from the last `settle_index`, so they miss nothing.
const FIRST_SUBSCRIBE_SETTLE: Duration = Duration::from_millis(300);
/// Capacity of the settlement broadcast channel.
const SETTLEMENT_CAPACITY: usize = 1024;

/// One node's backend state: the transport, the settlement subscription and what was learnt.
pub(crate) struct Core {
    api: Arc<dyn LndApi>,
    hub: Mutex<Option<Hub>>,
    /// Network and key learnt from an invoice when the macaroon may not call `getinfo`.
    identity: OnceLock<(Network, String)>,
    /// Set once `getinfo` was refused for lack of permission while invoices were allowed.
    getinfo_denied: AtomicBool,
}

/// The running settlement subscription; stopped with its [`Core`].
struct Hub {
    tx: broadcast::Sender<Settlement>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Core {
    pub(crate) fn new(api: Arc<dyn LndApi>) -> Self {
        Self {
            api,
            hub: Mutex::new(None),
            identity: OnceLock::new(),
            getinfo_denied: AtomicBool::new(false),
        }
    }

    pub(crate) fn address(&self) -> &str {
        self.api.address()
    }

    fn unreachable(&self, detail: String) -> BackendError {
        unreachable_at(self.api.address(), detail)
    }

    /// Maps a failure with no call-specific meaning.
    fn map_failure(&self, failure: Failure) -> BackendError {
        match failure {
            Failure::Backend(e) => e,
            Failure::Rpc(status) => self.map_status(status),
        }
    }

    fn map_status(&self, status: RpcStatus) -> BackendError {
        let msg = status.message.to_ascii_lowercase();
        if is_unauthorized(&status) {
            tracing::warn!(
                backend = super::BACKEND_NAME,
                address = self.address(),
                lnd_message = %status.message,
                "lnd refused the macaroon: a seller needs invoice.macaroon, a payer admin.macaroon \
                 (or one with offchain:read and offchain:write)"
            );
            return BackendError::Unauthorized;
        }
        if status.http == 503
            || status.code == code::UNAVAILABLE
            || msg.contains("in the process of starting")
            || msg.contains("still in the process")
            || msg.contains("waiting to start")
            || msg.contains("wallet locked")
            || msg.contains("wallet not created")
            || msg.contains("service was not ready")
        {
            return self.unreachable(format!(
                "{} (is lnd running, unlocked and listening on this address?)",
                status.message
            ));
        }
        if status.code == code::DEADLINE_EXCEEDED || status.http == 504 {
            return BackendError::Timeout;
        }
        BackendError::Other(if status.http != 0 {
            format!("lnd: {} (HTTP {})", status.message, status.http)
        } else {
            format!("lnd: {}", status.message)
        })
    }

    fn map_pay_status(&self, status: RpcStatus) -> BackendError {
        let msg = status.message.to_ascii_lowercase();
        if msg.contains("already paid") {
            BackendError::AlreadyPaid
        } else if msg.contains("in transition") || msg.contains("in flight") {
            BackendError::Other(
                "a payment of this invoice is already in flight (see payment_state)".into(),
            )
        } else if msg.contains("invoice expired") {
            BackendError::InvoiceExpired
        } else if msg.contains("not for current active network")
            || msg.contains("zero amount invoice")
            || (status.code == code::INVALID_ARGUMENT && !msg.contains("fee"))
            || msg.contains("invalid payment request")
            || msg.contains("bech32")
            || msg.contains("checksum")
        {
            BackendError::InvalidInvoice(status.message)
        } else if status.code == code::ALREADY_EXISTS {
            BackendError::Other(format!("lnd: {}", status.message))
        } else {
            self.map_status(status)
        }
    }

    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, BackendError>>,
    ) -> Result<T, BackendError> {
        tokio::time::timeout(self.api.request_timeout(), work)
            .await
            .map_err(|_| BackendError::Timeout)?
    }

    pub(crate) async fn create_invoice(
        &self,
        req: CreateInvoice,
    ) -> Result<CreatedInvoice, BackendError> {
        let added = self
            .api
            .add_invoice(req.amount.0, &req.memo, req.expiry_secs)
            .await
            .map_err(|f| self.map_failure(f))?;
        // Our own node's invoice, over its authenticated connection: read, not verified.
        let parsed = read_issued_bolt11(&added.payment_request)
            .map_err(|e| BackendError::Other(format!("lnd issued an unparsable invoice: {e}")))?;
        if decode_hash(&added.r_hash) != Some(parsed.payment_hash) {
            return Err(BackendError::Other(
                "lnd's r_hash does not match its invoice's payment hash".into(),
            ));
        }
        Ok(CreatedInvoice {
            expires_at_unix: parsed.expires_at_unix(),
            payment_hash: parsed.payment_hash,
            bolt11: added.payment_request,
        })
    }

    pub(crate) async fn invoice_state(
        &self,
        hash: &PaymentHash,
    ) -> Result<InvoiceState, BackendError> {
        let invoice = self.api.lookup_invoice(hash).await.map_err(|f| match f {
            Failure::Rpc(s)
                if s.code == code::NOT_FOUND
                    || s.http == 404
                    || s.message.contains("unable to locate invoice") =>
            {
                BackendError::UnknownInvoice(*hash)
            }
            other => self.map_failure(other),
        })?;
        let expired = now_unix() >= invoice.creation_date.saturating_add(invoice.expiry);
        Ok(match invoice.state.as_str() {
            "SETTLED" => InvoiceState::Settled {
                amount_received: Msat(invoice.amt_paid_msat),
                settled_at_unix: invoice.settle_date,
            },
            // LND cancels invoices when they expire.
            "CANCELED" if expired => InvoiceState::Expired,
            "CANCELED" => InvoiceState::Canceled,
            // ACCEPTED: a hold invoice with HTLCs locked in, not settled yet.
            _ if expired => InvoiceState::Expired,
            _ => InvoiceState::Open,
        })
    }

    pub(crate) async fn subscribe_settlements(
        &self,
    ) -> Result<broadcast::Receiver<Settlement>, BackendError> {
        let mut hub = self.hub.lock().await;
        if let Some(h) = hub.as_ref()
            && !h.task.is_finished()
        {
            return Ok(h.tx.subscribe());
        }
        // Fail fast (and typed) on a wrong address or macaroon; the stream itself retries.
        self.api
            .newest_invoice()
            .await
            .map_err(|f| self.map_failure(f))?;
        let (tx, rx) = broadcast::channel(SETTLEMENT_CAPACITY);
        let task = tokio::spawn(run_subscription(self.api.clone(), tx.clone()));
        *hub = Some(Hub { tx, task });
        drop(hub);
        tokio::time::sleep(FIRST_SUBSCRIBE_SETTLE).await;
        Ok(rx)
    }

    pub(crate) async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let bolt11 = bolt11.trim();
        let parsed =
            parse_bolt11(bolt11).map_err(|e| BackendError::InvalidInvoice(e.to_string()))?;
        if parsed.amount.is_none() {
            return Err(BackendError::InvalidInvoice(
                "amountless invoices are not paid (pay_amount pays them)".into(),
            ));
        }
        if parsed.expires_at_unix() <= now_unix() {
            return Err(BackendError::InvoiceExpired);
        }
        self.pay(bolt11, None, opts, parsed.payment_hash).await
    }

    /// `SendPaymentV2` with `amt_msat` for an amountless invoice (LND refuses `amt_msat` for an
    /// invoice that names an amount, so an equal amount is sent as a plain payment).
    pub(crate) async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let bolt11 = bolt11.trim();
        let (parsed, explicit) = crate::pay_checks::payable_with_amount(bolt11, amount)?;
        self.pay(bolt11, explicit, opts, parsed.payment_hash).await
    }

    async fn pay(
        &self,
        bolt11: &str,
        amt_msat: Option<Msat>,
        opts: PayOptions,
        hash: PaymentHash,
    ) -> Result<PaymentResult, BackendError> {
        let deadline = opts.timeout.saturating_add(PAY_GRACE);
        tokio::time::timeout(deadline, self.pay_stream(bolt11, amt_msat, opts, hash))
            .await
            .map_err(|_| BackendError::Timeout)?
    }

    async fn pay_stream(
        &self,
        bolt11: &str,
        amt_msat: Option<Msat>,
        opts: PayOptions,
        hash: PaymentHash,
    ) -> Result<PaymentResult, BackendError> {
        let timeout_seconds = opts.timeout.as_secs().clamp(1, i32::MAX as u64) as i32;
        let mut stream = self
            .api
            .send_payment(
                bolt11,
                amt_msat.map(|a| a.0),
                opts.max_fee.0,
                timeout_seconds,
            )
            .await
            .map_err(|f| match f {
                Failure::Rpc(s) => self.map_pay_status(s),
                Failure::Backend(e) => e,
            })?;
        loop {
            match stream.next().await? {
                None => {
                    return Err(BackendError::Other(format!(
                        "lnd ended the payment stream for {hash} before a final state; \
                         ask payment_state"
                    )));
                }
                Some(Err(status)) => return Err(self.map_pay_status(status)),
                Some(Ok(p)) => match p.status.as_str() {
                    "SUCCEEDED" => {
                        let preimage = Preimage::from_hex(&p.payment_preimage).map_err(|_| {
                            BackendError::Other("lnd returned a malformed preimage".into())
                        })?;
                        if !preimage.pays(&hash) {
                            return Err(BackendError::Other(
                                "lnd returned a preimage that does not match the invoice".into(),
                            ));
                        }
                        return Ok(PaymentResult {
                            preimage,
                            fee: Msat(p.fee_msat),
                            amount: Msat(p.value_msat),
                            payment_hash: hash,
                        });
                    }
                    "FAILED" => return Err(failure_reason(&p.failure_reason)),
                    _ => continue,
                },
            }
        }
    }

    pub(crate) async fn payment_state(
        &self,
        hash: &PaymentHash,
    ) -> Result<PaymentState, BackendError> {
        let not_found =
            |s: &RpcStatus| s.code == code::NOT_FOUND || s.message.contains("isn't initiated");
        self.bounded(async {
            let mut stream = match self.api.track_payment(hash).await {
                Ok(stream) => stream,
                Err(Failure::Rpc(s)) if not_found(&s) => return Ok(PaymentState::Unknown),
                Err(f) => return Err(self.map_failure(f)),
            };
            match stream.next().await? {
                None => Ok(PaymentState::Unknown),
                Some(Err(s)) if not_found(&s) => Ok(PaymentState::Unknown),
                Some(Err(s)) => Err(self.map_status(s)),
                Some(Ok(p)) => payment_state(&p),
            }
        })
        .await
    }

    pub(crate) async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        // An invoice macaroon may not call getinfo (it lacks info:read): learn that once, then
        // take the identity from invoices.
        if self.getinfo_denied.load(Ordering::Relaxed) {
            return self.node_info_from_invoices().await;
        }
        let info = match self.api.get_info().await {
            Ok(info) => info,
            Err(Failure::Rpc(status)) if is_unauthorized(&status) => {
                tracing::debug!(lnd_message = %status.message, "getinfo refused; using invoices");
                let info = self.node_info_from_invoices().await?;
                self.getinfo_denied.store(true, Ordering::Relaxed);
                return Ok(info);
            }
            Err(f) => return Err(self.map_failure(f)),
        };
        if !info.synced_to_chain {
            tracing::debug!("lnd is not synced to the chain yet");
        }
        let chain = info
            .chains
            .first()
            .ok_or_else(|| BackendError::Other("lnd reported no chain".into()))?;
        if !chain.chain.is_empty() && chain.chain != "bitcoin" {
            return Err(BackendError::Other(format!(
                "lnd runs on chain {:?}, not bitcoin",
                chain.chain
            )));
        }
        Ok(NodeInfo {
            network: network_from_lnd(&chain.network)?,
            alias: info.alias,
            pubkey_hex: info.identity_pubkey.to_ascii_lowercase(),
        })
    }

    /// The local balance of the node's channels (`ChannelBalance`, which needs
    /// `offchain:read`: an invoice macaroon is refused).
    pub(crate) async fn balance(&self) -> Result<Balance, BackendError> {
        let balance = self
            .api
            .channel_balance()
            .await
            .map_err(|f| self.map_failure(f))?;
        Ok(Balance {
            spendable: Some(Msat(balance.local_balance.msat)),
        })
    }

    /// `node_info` for a macaroon without `info:read` (an `invoice.macaroon`): the network and
    /// key come from the newest invoice's BOLT11 (one is created if the node has none), and a
    /// one-invoice listing proves the node is up on every call.
    async fn node_info_from_invoices(&self) -> Result<NodeInfo, BackendError> {
        let newest = self
            .api
            .newest_invoice()
            .await
            .map_err(|f| self.map_failure(f))?;
        if let Some((network, pubkey)) = self.identity.get() {
            return Ok(NodeInfo {
                network: *network,
                alias: String::new(),
                pubkey_hex: pubkey.clone(),
            });
        }
        let bolt11 = match newest.filter(|p| !p.is_empty()) {
            Some(p) => p,
            None => {
                self.create_invoice(CreateInvoice {
                    amount: Msat(1_000),
                    memo: "l402: node identity probe".into(),
                    expiry_secs: 60,
                })
                .await?
                .bolt11
            }
        };
        let parsed = parse_bolt11(&bolt11)
            .map_err(|e| BackendError::Other(format!("lnd issued an unparsable invoice: {e}")))?;
        let _ = self
            .identity
            .set((parsed.network, parsed.payee_pubkey_hex.clone()));
        Ok(NodeInfo {
            network: parsed.network,
            alias: String::new(),
            pubkey_hex: parsed.payee_pubkey_hex,
        })
    }
}

/// Reads the invoice subscription forever, reconnecting with backoff and resuming after the
/// last settle index seen, and broadcasts each settlement once.
async fn run_subscription(api: Arc<dyn LndApi>, tx: broadcast::Sender<Settlement>) {
    let mut settle_index: u64 = 0;
    let mut backoff = BACKOFF_MIN;
    loop {
        match api.subscribe_invoices(settle_index).await {
            Ok(mut stream) => loop {
                match stream.next().await {
                    Ok(Some(Ok(invoice))) => {
                        backoff = BACKOFF_MIN;
                        if invoice.state != "SETTLED" || invoice.settle_index <= settle_index {
                            continue;
                        }
                        settle_index = invoice.settle_index;
                        let Some(hash) = decode_hash(&invoice.r_hash) else {
                            tracing::warn!("lnd streamed an invoice with a malformed r_hash");
                            continue;
                        };
                        // No receivers is fine: nobody is listening right now.
                        let _ = tx.send(Settlement {
                            payment_hash: hash,
                            amount_received: Msat(invoice.amt_paid_msat),
                            settled_at_unix: invoice.settle_date,
                        });
                    }
                    Ok(Some(Err(status))) => {
                        tracing::warn!(lnd_message = %status.message, "lnd invoice stream error");
                        break;
                    }
                    Ok(None) => {
                        tracing::debug!("lnd closed the invoice stream");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lnd invoice stream interrupted; reconnecting");
                        break;
                    }
                }
            },
            Err(Failure::Backend(e)) => {
                tracing::debug!(error = %e, "lnd invoice stream: cannot connect; retrying");
            }
            Err(Failure::Rpc(s)) => {
                tracing::warn!(
                    lnd_message = %s.message,
                    http = s.http,
                    "lnd refused the invoice stream; retrying"
                );
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// [`BackendError::Unreachable`] for the node at `address`.
pub(crate) fn unreachable_at(address: &str, detail: String) -> BackendError {
    BackendError::Unreachable {
        backend: super::BACKEND_NAME.into(),
        address: address.to_owned(),
        detail,
        source: None,
    }
}

/// True when LND refused the macaroon (wrong node, bad signature, missing permission).
fn is_unauthorized(status: &RpcStatus) -> bool {
    let msg = status.message.to_ascii_lowercase();
    status.http == 401
        || status.http == 403
        || status.code == code::PERMISSION_DENIED
        || status.code == code::UNAUTHENTICATED
        || msg.contains("permission denied")
        || msg.contains("verification failed")
        || msg.contains("macaroon")
}

fn payment_state(p: &Payment) -> Result<PaymentState, BackendError> {
    Ok(match p.status.as_str() {
        "SUCCEEDED" => PaymentState::Succeeded {
            preimage: Preimage::from_hex(&p.payment_preimage)
                .map_err(|_| BackendError::Other("lnd returned a malformed preimage".into()))?,
            fee: Msat(p.fee_msat),
        },
        "FAILED" => PaymentState::Failed,
        _ => PaymentState::InFlight,
    })
}

/// Maps `routerrpc`'s `failure_reason` of a `FAILED` payment.
fn failure_reason(reason: &str) -> BackendError {
    match reason {
        "FAILURE_REASON_TIMEOUT" => BackendError::Timeout,
        "FAILURE_REASON_NO_ROUTE" => BackendError::NoRoute,
        "FAILURE_REASON_INSUFFICIENT_BALANCE" => BackendError::InsufficientBalance,
        "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS" => BackendError::InvalidInvoice(
            "the payee rejected the payment (unknown, canceled or already paid invoice, or \
             wrong amount)"
                .into(),
        ),
        "FAILURE_REASON_CANCELED" => BackendError::Other("the payment was canceled".into()),
        other => BackendError::Other(format!("payment failed: {other}")),
    }
}

fn network_from_lnd(network: &str) -> Result<Network, BackendError> {
    match network {
        "mainnet" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" | "testnet4" => Ok(Network::Testnet),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        other => Err(BackendError::Other(format!(
            "lnd runs on network {other:?}, which L402 invoices cannot use"
        ))),
    }
}

/// A 32-byte hash from base64 (as the gateway renders `bytes`) or hex.
pub(crate) fn decode_hash(s: &str) -> Option<PaymentHash> {
    let bytes = if s.len() == 64 {
        hex::decode(s).ok()?
    } else {
        STANDARD.decode(s).or_else(|_| URL_SAFE.decode(s)).ok()?
    };
    Some(PaymentHash(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoApi;

    #[async_trait::async_trait]
    impl LndApi for NoApi {
        fn address(&self) -> &str {
            "https://127.0.0.1:1"
        }
        fn request_timeout(&self) -> Duration {
            Duration::from_secs(1)
        }
        async fn get_info(&self) -> Result<super::super::wire::GetInfo, Failure> {
            Err(Failure::Backend(BackendError::Timeout))
        }
        async fn channel_balance(&self) -> Result<super::super::wire::ChannelBalance, Failure> {
            Err(Failure::Backend(BackendError::Timeout))
        }
        async fn add_invoice(
            &self,
            _: u64,
            _: &str,
            _: u64,
        ) -> Result<super::super::wire::AddInvoiceResponse, Failure> {
            Err(Failure::Backend(BackendError::Timeout))
        }
        async fn lookup_invoice(
            &self,
            _: &PaymentHash,
        ) -> Result<super::super::wire::Invoice, Failure> {
            Err(Failure::Backend(BackendError::Timeout))
        }
        async fn newest_invoice(&self) -> Result<Option<String>, Failure> {
            Err(Failure::Backend(BackendError::Timeout))
        }
        async fn subscribe_invoices(
            &self,
            _: u64,
        ) -> Result<Box<dyn super::super::api::MsgStream<super::super::wire::Invoice>>, Failure>
        {
            Err(Failure::Backend(BackendError::Timeout))
        }
        async fn send_payment(
            &self,
            _: &str,
            _: Option<u64>,
            _: u64,
            _: i32,
        ) -> Result<Box<dyn super::super::api::MsgStream<Payment>>, Failure> {
            Err(Failure::Backend(BackendError::Timeout))
        }
        async fn track_payment(
            &self,
            _: &PaymentHash,
        ) -> Result<Box<dyn super::super::api::MsgStream<Payment>>, Failure> {
            Err(Failure::Backend(BackendError::Timeout))
        }
    }

    #[test]
    fn failure_reasons_map_to_typed_errors() {
        assert_eq!(
            failure_reason("FAILURE_REASON_NO_ROUTE"),
            BackendError::NoRoute
        );
        assert_eq!(
            failure_reason("FAILURE_REASON_INSUFFICIENT_BALANCE"),
            BackendError::InsufficientBalance
        );
        assert_eq!(
            failure_reason("FAILURE_REASON_TIMEOUT"),
            BackendError::Timeout
        );
        assert!(matches!(
            failure_reason("FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"),
            BackendError::InvalidInvoice(_)
        ));
        assert!(matches!(
            failure_reason("FAILURE_REASON_ERROR"),
            BackendError::Other(_)
        ));
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let core = Core::new(Arc::new(NoApi));
        let st = |code, http, m: &str| RpcStatus {
            code,
            http,
            message: m.into(),
        };
        assert_eq!(
            core.map_status(st(
                2,
                500,
                "verification failed: signature mismatch after caveat verification"
            )),
            BackendError::Unauthorized
        );
        assert_eq!(
            core.map_status(st(2, 500, "permission denied")),
            BackendError::Unauthorized
        );
        assert!(
            core.map_status(st(
                2,
                500,
                "wallet locked, unlock it to enable full RPC access"
            ))
            .is_transient()
        );
        assert!(
            core.map_status(st(14, 0, "tcp connect error"))
                .is_transient()
        );
        assert!(core.map_status(st(14, 503, "x")).is_transient());
        assert_eq!(
            core.map_pay_status(st(6, 409, "invoice is already paid")),
            BackendError::AlreadyPaid
        );
        assert_eq!(
            core.map_pay_status(st(2, 500, "invoice expired. Valid until 2026-01-01")),
            BackendError::InvoiceExpired
        );
        assert!(matches!(
            core.map_pay_status(st(
                2,
                500,
                "invoice not for current active network 'regtest'"
            )),
            BackendError::InvalidInvoice(_)
        ));
        assert!(matches!(
            core.map_pay_status(st(6, 409, "payment is in transition")),
            BackendError::Other(_)
        ));
        assert_eq!(network_from_lnd("regtest").unwrap(), Network::Regtest);
        assert_eq!(network_from_lnd("mainnet").unwrap(), Network::Bitcoin);
        assert!(network_from_lnd("simnet").is_err());
    }

    #[test]
    fn hashes_decode_from_base64_or_hex() {
        let h = [7u8; 32];
        assert_eq!(decode_hash(&STANDARD.encode(h)), Some(PaymentHash(h)));
        assert_eq!(decode_hash(&URL_SAFE.encode(h)), Some(PaymentHash(h)));
        assert_eq!(decode_hash(&hex::encode(h)), Some(PaymentHash(h)));
        assert_eq!(decode_hash("AAAA"), None);
    }
}
