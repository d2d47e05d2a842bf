//! [`NwcBackend`]: a [Nostr Wallet Connect](https://github.com/nostr-protocol/nips/blob/master/47.md)
//! (NIP-47) wallet as a [`LightningBackend`] (feature `nwc`, on by default).
//!
//! The wallet is reached through a connection URI,
//! `nostr+walletconnect://<wallet service pubkey>?relay=wss://…&secret=<client secret key>`,
//! which the wallet (Alby Hub, Mutiny, Coinos, LNbits' NWC extension, …) hands out per app. The
//! URI **is** the credential: whoever holds it spends within the connection's budget. It is
//! never printed: `Debug` shows the relay and the public keys only, and errors and logs carry no
//! request or response content.
//!
//! # Protocol
//!
//! The backend keeps one WebSocket to the URI's first relay (`ws://` or `wss://`; TLS through
//! rustls' `ring` provider and the Mozilla roots). On each connection it reads the wallet's info
//! event (kind 13194) and subscribes to the responses and notifications addressed to its client
//! key. Each call publishes a request event (kind 23194, signed with the client key, `p`-tagged
//! to the wallet, with a NIP-40 `expiration` at the call's deadline so the wallet drops a request
//! the caller gave up on) and waits for the response (kind 23195) whose `e` tag names it.
//!
//! **Encryption.** Requests are encrypted with NIP-44 v2 when the info event's `encryption` tag
//! lists `nip44_v2`, with NIP-04 otherwise (also when the wallet publishes no info event).
//! Responses and notifications are decrypted in whichever scheme the wallet used.
//!
//! **Time limits.** Every call but a payment has [`DEFAULT_REQUEST_TIMEOUT`] (see
//! [`NwcBackend::with_request_timeout`]); a payment has its [`PayOptions::timeout`]. A call the
//! wallet does not answer in time fails with [`BackendError::Timeout`]. A call that cannot reach
//! the relay within [`DEFAULT_CONNECT_TIMEOUT`] fails with [`BackendError::Unreachable`].
//!
//! **Reconnection.** When the socket drops, the backend reconnects with backoff (250 ms doubling
//! to 10 s; a waiting call cuts the pause short) and resubscribes. Requests the relay had not yet
//! acknowledged are published again; read-only calls (`get_info`, `lookup_invoice`) are sent
//! again as new requests. A payment already handed to the relay is not: its answer may be lost,
//! so the call ends in [`BackendError::Timeout`] and [`payment_state`] tells what happened.
//!
//! # Mapping onto the trait
//!
//! | trait | NIP-47 |
//! |---|---|
//! | `create_invoice` | `make_invoice` `{amount (msat), description, expiry}` (an amount of 0 is refused: [`BackendError::Unsupported`]) |
//! | `invoice_state` | `lookup_invoice` `{payment_hash}`, an `incoming` transaction |
//! | `pay_invoice` | `pay_invoice` `{invoice}` |
//! | `pay_amount` | `pay_invoice` `{invoice, amount (msat)}`, `amount` only for an amountless invoice |
//! | `payment_state` | `lookup_invoice` `{payment_hash}`, an `outgoing` transaction |
//! | `node_info` | `get_info` (`network`, `alias`, `pubkey`) |
//! | `subscribe_settlements` | `payment_received` notifications (kinds 23196/23197), when the info event lists them; `Ok(None)` otherwise |
//!
//! **Errors.** NIP-47 error codes become typed errors: `INSUFFICIENT_BALANCE` and
//! `QUOTA_EXCEEDED` (the connection's budget) → [`BackendError::InsufficientBalance`];
//! `UNAUTHORIZED` and `RESTRICTED` → [`BackendError::Unauthorized`]; `NOT_FOUND` on a lookup →
//! [`BackendError::UnknownInvoice`]; `PAYMENT_FAILED` → [`BackendError::NoRoute`];
//! `RATE_LIMITED` → [`BackendError::Unreachable`] (transient: retry later). Where the wallet's
//! message is explicit (an invoice "already paid" or "expired", a fee over a limit), it decides
//! the variant whatever the code, since wallets disagree on codes for those.
//!
//! **Fee cap.** NIP-47 has no per-payment fee limit: the wallet applies its own routing-fee
//! policy, and the connection's budget bounds the total. [`PayOptions::max_fee`] cannot be
//! enforced; a payment whose reported fee exceeds it is logged as a warning (the payment has
//! happened, so it is still returned as a success).
//!
//! **Node identity.** `node_info` takes network, alias and public key from `get_info`. A wallet
//! that does not report network or public key (some restrict `get_info`) is identified from one
//! of its invoices (as the LNbits backend does): the first one this backend creates, or a 1-sat
//! probe invoice.
//!
//! **Settlements.** Notifications are ephemeral: those sent while the socket is down are not
//! delivered (poll [`invoice_state`] for those). A wallet that sends each notification in both
//! schemes is deduplicated.
//!
//! [`payment_state`]: LightningBackend::payment_state
//! [`invoice_state`]: LightningBackend::invoice_state

mod codec;
mod connection;
mod errors;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use l402_core::env::now_unix;
use l402_core::invoice::{Network, ParsedInvoice, parse_bolt11};
use l402_core::{Msat, PaymentHash, Preimage};
use nostr::key::{Keys, PublicKey};
use nostr::nips::nip47::{
    LookupInvoiceRequest, LookupInvoiceResponse, MakeInvoiceRequest, NostrWalletConnectUri,
    PayInvoiceRequest, Request, Response, ResponseResult, TransactionState, TransactionType,
};
use nostr::types::Timestamp;
use tokio::sync::{OnceCell, broadcast};

pub use self::codec::Encryption;
use self::connection::{Connection, Timing};
use self::errors::Call;
use crate::backend::{
    Balance, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, NodeInfo, PayOptions,
    PaymentResult, PaymentState, Settlement,
};
use crate::error::BackendError;

/// The backend's name in errors ([`BackendError::Unreachable::backend`]).
pub const BACKEND_NAME: &str = "nwc";
/// Time limit of every call but payments.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a call waits for the relay connection before failing with
/// [`BackendError::Unreachable`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The probe invoice's amount (msat), memo and expiry (see the module docs).
const PROBE_MSAT: u64 = 1_000;
const PROBE_MEMO: &str = "l402: node identity probe";
const PROBE_EXPIRY_SECS: u64 = 60;

/// Why an [`NwcBackend`] cannot be built. Nothing here involves the network, and no message
/// contains the URI (it holds the secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NwcConfigError {
    /// The connection URI does not parse.
    #[error(
        "bad Nostr Wallet Connect URI: {0} (expected \
         nostr+walletconnect://<wallet pubkey hex>?relay=wss://…&secret=<64 hex chars>)"
    )]
    BadUri(&'static str),
    /// The TLS configuration for `wss://` relays could not be built.
    #[error("cannot set up TLS for the NWC relay: {0}")]
    Tls(String),
}

/// What the trait needs and `get_info` may not say, learned from one of the wallet's invoices.
#[derive(Debug, Clone)]
struct Identity {
    network: Network,
    pubkey_hex: String,
}

struct Inner {
    relay: String,
    wallet: PublicKey,
    keys: Keys,
    tls: Option<Arc<rustls::ClientConfig>>,
    connection: OnceCell<Connection>,
    identity: std::sync::OnceLock<Identity>,
}

/// A Nostr Wallet Connect wallet as a [`LightningBackend`]. Cheap to clone (clones share the
/// relay connection). See the [module docs](self) for the protocol and the mapping.
///
/// ```no_run
/// # async fn demo(uri: &str) -> Result<(), Box<dyn std::error::Error>> {
/// use l402_lightning::LightningBackend;
/// use l402_lightning::nwc::NwcBackend;
///
/// // `uri` comes from a file or an environment variable, never from a command line.
/// let wallet = NwcBackend::new(uri)?;
/// let info = wallet.node_info().await?;
/// println!("NWC wallet {} on {}", info.alias, info.network);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct NwcBackend {
    inner: Arc<Inner>,
    request_timeout: Duration,
    connect_timeout: Duration,
}

impl fmt::Debug for NwcBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NwcBackend")
            .field("relay", &self.inner.relay)
            .field("wallet_pubkey", &self.wallet_pubkey_hex())
            .field("client_pubkey", &self.client_pubkey_hex())
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A NIP-40 timestamp for `deadline` (rounded up: the wallet may start a little late).
fn expiration(deadline: Instant) -> Timestamp {
    let left = deadline.saturating_duration_since(Instant::now());
    Timestamp::from_secs(now_unix() + left.as_secs() + 1)
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, NwcConfigError> {
    let config = l402_tls::Trust::from_env()
        .client_config()
        .map_err(|e| NwcConfigError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

fn unexpected(method: &str) -> BackendError {
    BackendError::Other(format!(
        "the NWC wallet service answered {method} with a result of another kind"
    ))
}

fn bad_hash(what: &str) -> BackendError {
    BackendError::Other(format!(
        "the NWC wallet service sent a bad payment hash {what}"
    ))
}

impl NwcBackend {
    /// NIP-47 `pay_invoice` of a checked `invoice`, naming `explicit` as its `amount` (for an
    /// amountless invoice); `amount` is what the payee receives.
    async fn pay(
        &self,
        invoice: ParsedInvoice,
        explicit: Option<Msat>,
        amount: Msat,
        opts: PayOptions,
        deadline: Instant,
    ) -> Result<PaymentResult, BackendError> {
        let hash = invoice.payment_hash;
        let mut params = PayInvoiceRequest::new(invoice.bolt11);
        params.amount = explicit.map(|a| a.0);
        let request = Request::pay_invoice(params);
        let ResponseResult::PayInvoice(paid) = self
            .call_result(request, Call::Pay, deadline, false)
            .await?
        else {
            return Err(unexpected("pay_invoice"));
        };
        let preimage = checked_preimage(Some(&paid.preimage), &hash)?;
        let fee = Msat(paid.fees_paid.unwrap_or(0));
        if fee > opts.max_fee {
            tracing::warn!(
                %fee,
                max_fee = %opts.max_fee,
                payment_hash = %hash,
                "the NWC wallet paid a routing fee above the cap (NIP-47 cannot pass a fee limit)"
            );
        }
        Ok(PaymentResult {
            preimage,
            fee,
            amount,
            payment_hash: hash,
        })
    }

    /// A backend for the wallet behind `uri` (`nostr+walletconnect://…`). Does no IO: the relay
    /// connection opens on the first call (inside a tokio runtime). Only the first relay of the
    /// URI is used.
    pub fn new(uri: &str) -> Result<Self, NwcConfigError> {
        let uri = uri.trim();
        if !uri.starts_with("nostr+walletconnect://") {
            return Err(NwcConfigError::BadUri(
                "it does not start with nostr+walletconnect://",
            ));
        }
        // The parser's error would not say which part is wrong; it never echoes the URI.
        let parsed = NostrWalletConnectUri::parse(uri).map_err(|_| {
            NwcConfigError::BadUri(
                "it needs a wallet public key, at least one relay=ws(s)://… and a secret=…",
            )
        })?;
        let Some(relay) = parsed.relays.first() else {
            return Err(NwcConfigError::BadUri("it names no relay"));
        };
        let relay = relay.as_str_without_trailing_slash().to_owned();
        let tls = if relay.starts_with("wss://") {
            Some(tls_config()?)
        } else if relay.starts_with("ws://") {
            None
        } else {
            return Err(NwcConfigError::BadUri(
                "the relay is not a ws:// or wss:// URL",
            ));
        };
        if parsed.relays.len() > 1 {
            tracing::info!(relay = %relay, "the NWC URI names several relays; using the first");
        }
        Ok(Self {
            inner: Arc::new(Inner {
                relay,
                wallet: parsed.public_key,
                keys: Keys::new(parsed.secret.clone()),
                tls,
                connection: OnceCell::new(),
                identity: std::sync::OnceLock::new(),
            }),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        })
    }

    /// Sets the time limit of every call but a payment (default [`DEFAULT_REQUEST_TIMEOUT`]).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets how long a call waits for the relay connection (default
    /// [`DEFAULT_CONNECT_TIMEOUT`]). Takes effect for connections opened afterwards.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The relay this backend talks through.
    pub fn relay_url(&self) -> &str {
        &self.inner.relay
    }

    /// The wallet service's public key (x-only, hex).
    pub fn wallet_pubkey_hex(&self) -> String {
        self.inner.wallet.to_hex()
    }

    /// This connection's client public key (x-only, hex): the wallet knows the connection by it.
    pub fn client_pubkey_hex(&self) -> String {
        self.inner.keys.public_key().to_hex()
    }

    /// The scheme requests are encrypted with, as the wallet's info event decides (connects
    /// first if needed).
    pub async fn request_encryption(&self) -> Result<Encryption, BackendError> {
        let conn = self.connection().await;
        conn.wait_up(Instant::now() + self.request_timeout).await?;
        Ok(conn
            .info()
            .map_or(Encryption::Nip04, |i| i.request_encryption()))
    }

    async fn connection(&self) -> &Connection {
        self.inner
            .connection
            .get_or_init(|| async {
                Connection::start(
                    self.inner.relay.clone(),
                    self.inner.wallet,
                    self.inner.keys.clone(),
                    self.inner.tls.clone(),
                    Timing {
                        connect_timeout: self.connect_timeout,
                        min_backoff: Duration::from_millis(250),
                        max_backoff: Duration::from_secs(10),
                        ping_interval: Duration::from_secs(30),
                    },
                )
            })
            .await
    }

    /// Sends `request` and returns the wallet's response, by `deadline`. Read-only requests
    /// (`retry_on_reconnect`) are sent again, as new events, when the connection drops while
    /// they wait.
    async fn call(
        &self,
        request: Request,
        deadline: Instant,
        retry_on_reconnect: bool,
    ) -> Result<Response, BackendError> {
        let method = request.method.as_str().to_owned();
        let json = request.as_json();
        let conn = self.connection().await;
        loop {
            let generation = conn.wait_up(deadline).await?;
            let encryption = conn
                .info()
                .map_or(Encryption::Nip04, |i| i.request_encryption());
            let event = codec::request_event(
                &self.inner.keys,
                &self.inner.wallet,
                encryption,
                &json,
                expiration(deadline),
            )?;
            let id = event.id;
            tracing::debug!(%method, request = %id, %encryption, "NWC request");
            let answer = conn.submit(event);
            let outcome = tokio::select! {
                a = answer => Some(a),
                () = tokio::time::sleep_until(deadline.into()) => None,
                () = conn.dropped(generation), if retry_on_reconnect => {
                    conn.forget(&id);
                    tracing::debug!(%method, "NWC relay connection dropped; asking again");
                    continue;
                }
            };
            conn.forget(&id);
            let event = match outcome {
                None => {
                    tracing::warn!(
                        %method,
                        relay = %conn.relay(),
                        "the NWC wallet service did not answer in time"
                    );
                    return Err(BackendError::Timeout);
                }
                Some(Err(_)) => {
                    return Err(BackendError::Other("the NWC connection task ended".into()));
                }
                Some(Ok(answer)) => answer?,
            };
            let response = codec::response(&self.inner.keys, &event)?;
            if response.result_type.as_str() != method {
                return Err(unexpected(&method));
            }
            return Ok(response);
        }
    }

    /// [`call`](Self::call) with the request timeout, mapping a NIP-47 error for `kind`.
    async fn call_result(
        &self,
        request: Request,
        kind: Call,
        deadline: Instant,
        retry_on_reconnect: bool,
    ) -> Result<ResponseResult, BackendError> {
        let response = self.call(request, deadline, retry_on_reconnect).await?;
        if let Some(err) = &response.error {
            return Err(errors::from_nip47(err, kind, &self.inner.relay));
        }
        response.result.ok_or_else(|| {
            BackendError::Other("the NWC wallet service sent an empty result".into())
        })
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.request_timeout
    }

    /// Creates an invoice and returns it parsed and checked (and remembers the identity).
    async fn make_invoice(
        &self,
        amount: Msat,
        memo: &str,
        expiry_secs: u64,
    ) -> Result<ParsedInvoice, BackendError> {
        let request = Request::make_invoice(MakeInvoiceRequest {
            amount: amount.0,
            description: Some(memo.to_owned()),
            description_hash: None,
            expiry: Some(expiry_secs),
        });
        let ResponseResult::MakeInvoice(made) = self
            .call_result(request, Call::MakeInvoice, self.deadline(), false)
            .await?
        else {
            return Err(unexpected("make_invoice"));
        };
        let parsed = parse_bolt11(&made.invoice).map_err(|e| {
            BackendError::Other(format!(
                "the NWC wallet service returned an invoice that does not parse: {e}"
            ))
        })?;
        if let Some(hex) = made.payment_hash.as_deref() {
            let hash = PaymentHash::from_hex(hex).map_err(|_| bad_hash("for a new invoice"))?;
            if hash != parsed.payment_hash {
                return Err(BackendError::Other(format!(
                    "the NWC wallet service returned payment hash {hash} for an invoice of \
                     hash {}",
                    parsed.payment_hash
                )));
            }
        }
        if parsed.amount != Some(amount) {
            return Err(BackendError::Other(format!(
                "the NWC wallet service returned an invoice for {:?} instead of {amount}",
                parsed.amount
            )));
        }
        let _ = self.inner.identity.set(Identity {
            network: parsed.network,
            pubkey_hex: parsed.payee_pubkey_hex.clone(),
        });
        Ok(parsed)
    }

    /// `lookup_invoice` of `hash`: the transaction, or `None` when the wallet has none.
    async fn lookup(
        &self,
        hash: &PaymentHash,
    ) -> Result<Option<LookupInvoiceResponse>, BackendError> {
        let request = Request::lookup_invoice(LookupInvoiceRequest {
            payment_hash: Some(hash.to_hex()),
            invoice: None,
        });
        match self
            .call_result(request, Call::Lookup(*hash), self.deadline(), true)
            .await
        {
            Ok(ResponseResult::LookupInvoice(tx)) => {
                let got =
                    PaymentHash::from_hex(&tx.payment_hash).map_err(|_| bad_hash("in a lookup"))?;
                if got != *hash {
                    return Err(BackendError::Other(format!(
                        "the NWC wallet service answered a lookup of {hash} with {got}"
                    )));
                }
                Ok(Some(tx))
            }
            Ok(_) => Err(unexpected("lookup_invoice")),
            Err(BackendError::UnknownInvoice(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn identity(&self) -> Result<Identity, BackendError> {
        if let Some(id) = self.inner.identity.get() {
            return Ok(id.clone());
        }
        let parsed = self
            .make_invoice(Msat(PROBE_MSAT), PROBE_MEMO, PROBE_EXPIRY_SECS)
            .await?;
        Ok(Identity {
            network: parsed.network,
            pubkey_hex: parsed.payee_pubkey_hex,
        })
    }
}

/// The preimage in a wallet answer, checked against `hash`.
fn checked_preimage(hex: Option<&str>, hash: &PaymentHash) -> Result<Preimage, BackendError> {
    crate::pay_checks::checked_preimage(hex, hash, "the NWC wallet service")
}

#[async_trait]
impl LightningBackend for NwcBackend {
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        if req.amount.0 == 0 {
            // NIP-47 `make_invoice` requires an amount.
            return Err(BackendError::Unsupported {
                backend: BACKEND_NAME.into(),
                operation: crate::AMOUNTLESS_INVOICE_OPERATION,
            });
        }
        let parsed = self
            .make_invoice(req.amount, &req.memo, req.expiry_secs.max(1))
            .await?;
        Ok(crate::issued::created(parsed))
    }

    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        let Some(tx) = self.lookup(hash).await? else {
            return Err(BackendError::UnknownInvoice(*hash));
        };
        // An outgoing transaction: this wallet paid that hash, it did not issue the invoice.
        if tx.transaction_type == Some(TransactionType::Outgoing) {
            return Err(BackendError::UnknownInvoice(*hash));
        }
        let settled = InvoiceState::Settled {
            amount_received: Msat(tx.amount),
            settled_at_unix: tx.settled_at.map_or_else(now_unix, |t| t.as_secs()),
        };
        let expired = tx.expires_at.is_some_and(|t| t.as_secs() <= now_unix());
        Ok(match tx.state {
            Some(TransactionState::Settled) => settled,
            Some(TransactionState::Expired) => InvoiceState::Expired,
            Some(TransactionState::Failed) => InvoiceState::Canceled,
            // Wallets that predate `state` set `settled_at` once paid.
            None if tx.settled_at.is_some() => settled,
            _ if expired => InvoiceState::Expired,
            _ => InvoiceState::Open,
        })
    }

    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        let conn = self.connection().await;
        conn.wait_up(self.deadline()).await?;
        // Subscribe before answering so nothing after this call is missed.
        let rx = conn.settlements();
        if conn.info().is_some_and(|i| i.notifies_payments()) {
            Ok(Some(rx))
        } else {
            tracing::debug!(
                "the NWC wallet does not advertise payment_received notifications; poll \
                 invoice_state"
            );
            Ok(None)
        }
    }

    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let deadline = Instant::now() + opts.timeout;
        let (invoice, amount) = crate::pay_checks::payable_invoice(bolt11, "the NWC backend")?;
        self.pay(invoice, None, amount, opts, deadline).await
    }

    /// NIP-47 `pay_invoice` with its optional `amount` (msat) for an amountless invoice.
    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let deadline = Instant::now() + opts.timeout;
        let (invoice, explicit) = crate::pay_checks::payable_with_amount(bolt11, amount)?;
        self.pay(invoice, explicit, amount, opts, deadline).await
    }

    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        let Some(tx) = self.lookup(hash).await? else {
            return Ok(PaymentState::Unknown);
        };
        // An incoming transaction: an invoice of this wallet, not a payment it made.
        if tx.transaction_type == Some(TransactionType::Incoming) {
            return Ok(PaymentState::Unknown);
        }
        let succeeded = || -> Result<PaymentState, BackendError> {
            Ok(PaymentState::Succeeded {
                preimage: checked_preimage(tx.preimage.as_deref(), hash)?,
                fee: Msat(tx.fees_paid),
            })
        };
        match tx.state {
            Some(TransactionState::Settled) => succeeded(),
            Some(TransactionState::Failed | TransactionState::Expired) => Ok(PaymentState::Failed),
            None if tx.settled_at.is_some() => succeeded(),
            _ => Ok(PaymentState::InFlight),
        }
    }

    /// `get_balance`: the wallet's balance (the connection must allow `get_balance`).
    async fn balance(&self) -> Result<Balance, BackendError> {
        let ResponseResult::GetBalance(b) = self
            .call_result(
                Request::get_balance(),
                Call::GetBalance,
                self.deadline(),
                true,
            )
            .await?
        else {
            return Err(unexpected("get_balance"));
        };
        Ok(Balance {
            spendable: Some(Msat(b.balance)),
        })
    }

    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        // A live round trip every time: this is the proxy's readiness probe.
        let ResponseResult::GetInfo(info) = self
            .call_result(Request::get_info(), Call::GetInfo, self.deadline(), true)
            .await?
        else {
            return Err(unexpected("get_info"));
        };
        let network = info
            .network
            .as_deref()
            .and_then(|n| n.parse::<Network>().ok());
        let pubkey = info.pubkey.clone().filter(|p| !p.is_empty());
        let (network, pubkey_hex) = match (network, pubkey) {
            (Some(n), Some(p)) => (n, p.to_ascii_lowercase()),
            (n, p) => {
                let identity = self.identity().await?;
                (
                    n.unwrap_or(identity.network),
                    p.map_or(identity.pubkey_hex, |p| p.to_ascii_lowercase()),
                )
            }
        };
        Ok(NodeInfo {
            network,
            alias: info
                .alias
                .unwrap_or_else(|| format!("NWC wallet {}", self.wallet_pubkey_hex())),
            pubkey_hex,
        })
    }
}
