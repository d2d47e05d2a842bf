//! [`LnbitsBackend`]: an [LNbits](https://lnbits.com) wallet as a [`LightningBackend`], over
//! LNbits' REST API (feature `lnbits`, on by default). Tested against lnbits 1.6.2.
//!
//! # Keys
//!
//! Every LNbits wallet has two API keys, sent in the `X-Api-Key` header:
//!
//! - the **invoice/read key** creates invoices and reads payments. The seller (`l402 serve`)
//!   needs only this one, and the backend uses it for every call but paying.
//! - the **admin key** also spends. Only a payer needs it; it is used for
//!   [`pay_invoice`](LightningBackend::pay_invoice) and nothing else. Without it, paying fails
//!   with [`BackendError::Unauthorized`] before any request is sent.
//!
//! Keys never appear in `Debug` output, errors or logs, and are sent as sensitive headers.
//!
//! # Mapping onto the trait
//!
//! | trait | LNbits |
//! |---|---|
//! | `create_invoice` | `POST /api/v1/payments` `{out: false, amount, unit: "sat", memo, expiry}` |
//! | `invoice_state` | `GET /api/v1/payments/{hash}` (`paid`, `details.status`, `details.updated_at`) |
//! | `pay_invoice` | `GET /api/v1/payments/fee-reserve`, then `POST /api/v1/payments` `{out: true, bolt11}`; a pending answer is polled |
//! | `pay_amount` | none: [`BackendError::Unsupported`] |
//! | `payment_state` | `GET /api/v1/payments/{hash}` (the wallet's outgoing record) |
//! | `node_info` | `GET /api/v1/wallet` (alias = wallet name) plus the identity below |
//! | `subscribe_settlements` | websocket `/api/v1/ws/{invoice key}` (`ws://`, or `wss://` for an `https://` instance) |
//!
//! **Amounts.** The trait counts millisatoshis, LNbits invoices whole satoshis: asking for an
//! amount that is not a whole number of satoshis fails with [`BackendError::Other`] instead of
//! rounding (LNbits would silently create an *amountless* invoice for half a satoshi). Asking
//! for zero (an amountless invoice) fails with [`BackendError::Unsupported`], and so does
//! `pay_amount`: this backend neither issues nor pays amountless invoices.
//!
//! **Network and public key.** LNbits reports neither. The backend reads both from a BOLT11
//! invoice of this wallet: the first one it creates, or, when `node_info` is asked first, a
//! 1-sat probe invoice (memo `l402: node identity probe`, 60 s expiry) it creates once per
//! backend value. The network is the invoice's prefix; the public key is its payee. LNbits'
//! `FakeWallet` funding source signs `lnbc…` (mainnet-prefixed) invoices whatever the
//! machine, so such a test instance reports [`Network::Bitcoin`].
//!
//! **Fee cap.** LNbits takes no fee limit per payment: it caps routing fees at its *fee
//! reserve* (`LNBITS_RESERVE_FEE_MIN`, default 2 sat, or `LNBITS_RESERVE_FEE_PERCENT`, default
//! 1 %). Before paying, the backend asks LNbits for the reserve of the invoice and refuses with
//! [`BackendError::FeeTooHigh`] when it exceeds [`PayOptions::max_fee`], so the cap holds. With
//! LNbits' defaults, a 10-sat cap allows invoices up to 1 000 sat.
//!
//! **Settlements.** `subscribe_settlements` opens LNbits' websocket for the wallet (its
//! channel is named by the invoice key, so the key is part of that URL: LNbits' design) and
//! waits for the connection before returning, so no settlement after the call is missed. It
//! reconnects with backoff; LNbits does not replay what happened while it was disconnected.
//!
//! **HTTPS.** `https://` instances are verified through the workspace's TLS home
//! ([`l402_tls::Trust`]): the web PKI roots, the CA bundle named by `SSL_CERT_FILE`, or the
//! trust given to [`LnbitsBackend::with_trust`]; the settlement websocket is then `wss://` with
//! the same trust. The LNbits tier runs LNbits over TLS with a test CA.
//!
//! **Expiry.** Expired invoices are refused locally ([`BackendError::InvoiceExpired`]) before
//! LNbits sees them: lnbits 1.6.2 answers a payment of an expired invoice of its own with that
//! invoice's record instead of an error.

mod errors;
mod stream;
mod time;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use l402_core::invoice::{Network, ParsedInvoice, parse_bolt11};
use l402_core::{Msat, PaymentHash, Preimage};
use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;
use tokio::sync::{OnceCell, broadcast};

use self::errors::Call;
use self::wire::{
    CreateInvoiceBody, CreatedBody, FeeReserveBody, LookupBody, PayBody, PaymentRecord, WalletBody,
};
use crate::backend::{
    Balance, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, NodeInfo, PayOptions,
    PaymentResult, PaymentState, Settlement,
};
use crate::error::BackendError;
use l402_core::env::now_unix;

/// The backend's name in errors ([`BackendError::Unreachable::backend`]).
pub const BACKEND_NAME: &str = "lnbits";

/// The header LNbits reads wallet keys from.
const KEY_HEADER: &str = "X-Api-Key";
/// How long to wait for a TCP (and TLS) connection.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Timeout of every call but payments.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Extra time the payment request gets on top of the payment's own timeout, so LNbits' answer
/// arrives before the client gives up.
const PAY_GRACE: Duration = Duration::from_secs(5);
/// The probe invoice's amount, memo and expiry (see the module docs).
const PROBE_SATS: u64 = 1;
const PROBE_MEMO: &str = "l402: node identity probe";
const PROBE_EXPIRY_SECS: u64 = 60;

/// Why an [`LnbitsBackend`] cannot be built. Nothing here involves the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LnbitsConfigError {
    /// The URL does not parse, or is not `http://` or `https://`.
    #[error("bad LNbits URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key is empty or cannot be sent in an HTTP header.
    #[error("bad LNbits {which}: {reason}")]
    BadKey {
        /// `invoice key` or `admin key`.
        which: &'static str,
        /// What is wrong with it (never the key itself).
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client for LNbits: {0}")]
    HttpClient(String),
}

/// An LNbits API key, sent as a sensitive header value and never printed.
#[derive(Clone)]
struct ApiKey(HeaderValue);

impl ApiKey {
    fn new(key: &str, which: &'static str) -> Result<Self, LnbitsConfigError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(LnbitsConfigError::BadKey {
                which,
                reason: "it is empty",
            });
        }
        let mut value = HeaderValue::from_str(key).map_err(|_| LnbitsConfigError::BadKey {
            which,
            reason: "it contains characters an HTTP header cannot carry",
        })?;
        value.set_sensitive(true);
        Ok(Self(value))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What LNbits does not report but the trait needs: learned from one of the wallet's invoices.
#[derive(Debug, Clone)]
struct Identity {
    network: Network,
    pubkey_hex: String,
}

impl Identity {
    fn of(invoice: &ParsedInvoice) -> Self {
        Self {
            network: invoice.network,
            pubkey_hex: invoice.payee_pubkey_hex.clone(),
        }
    }
}

#[derive(Clone)]
struct Inner {
    base_url: String,
    http: reqwest::Client,
    /// TLS for the `wss://` settlement stream, from the same trust choice as `http`.
    ws_tls: Arc<rustls::ClientConfig>,
    request_timeout: Duration,
    invoice_key: ApiKey,
    admin_key: Option<ApiKey>,
    identity: OnceCell<Identity>,
    /// The settlement websocket, shared by clones.
    settlements: Arc<tokio::sync::Mutex<Option<stream::Hub>>>,
}

/// One LNbits wallet as a [`LightningBackend`]. Cheap to clone (clones share the connection
/// pool and the learned identity). See the [module docs](self) for how the trait maps onto
/// LNbits.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use l402_lightning::LightningBackend;
/// use l402_lightning::lnbits::LnbitsBackend;
///
/// // A seller needs only the invoice/read key.
/// let seller = LnbitsBackend::new("http://127.0.0.1:5000", "<invoice key>", None)?;
/// let info = seller.node_info().await?;
/// println!("LNbits wallet {} on {}", info.alias, info.network);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct LnbitsBackend {
    inner: Arc<Inner>,
}

impl fmt::Debug for LnbitsBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LnbitsBackend")
            .field("base_url", &self.inner.base_url)
            .field("invoice_key", &self.inner.invoice_key)
            .field(
                "admin_key",
                &self.inner.admin_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// A malformed answer. Names the position only: payment records hold preimages.
fn bad_json(what: &str, e: &serde_json::Error) -> BackendError {
    BackendError::Other(format!(
        "unexpected answer from LNbits to {what} (JSON error at line {} column {})",
        e.line(),
        e.column()
    ))
}

fn hash_of(record: &PaymentRecord, fallback: &PaymentHash) -> Result<PaymentHash, BackendError> {
    match record.payment_hash.as_deref() {
        None => Ok(*fallback),
        Some(hex) => PaymentHash::from_hex(hex)
            .map_err(|e| BackendError::Other(format!("LNbits sent a bad payment hash: {e}"))),
    }
}

/// The preimage of a successful payment record, checked against `hash`.
fn checked_preimage(record: &PaymentRecord, hash: &PaymentHash) -> Result<Preimage, BackendError> {
    crate::pay_checks::checked_preimage(record.preimage.as_deref(), hash, "LNbits")
}

/// The HTTP client for one instance.
fn http_client(trust: &l402_tls::Trust) -> Result<reqwest::Client, LnbitsConfigError> {
    l402_tls::reqwest_builder(trust)
        .map_err(|e| LnbitsConfigError::HttpClient(e.to_string()))?
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
        .build()
        .map_err(|e| LnbitsConfigError::HttpClient(e.to_string()))
}

/// The settlement websocket's TLS configuration.
fn ws_tls(trust: &l402_tls::Trust) -> Result<Arc<rustls::ClientConfig>, LnbitsConfigError> {
    trust
        .client_config()
        .map(Arc::new)
        .map_err(|e| LnbitsConfigError::HttpClient(e.to_string()))
}

fn msat_abs(v: Option<i64>) -> Msat {
    Msat(v.unwrap_or(0).unsigned_abs())
}

impl LnbitsBackend {
    /// A backend for the LNbits instance at `url` (its root, e.g. `https://lnbits.example.com`
    /// or `http://127.0.0.1:5000`), using the wallet's `invoice_key` (invoice/read key) and,
    /// for paying, its `admin_key`. Does no IO.
    pub fn new(
        url: &str,
        invoice_key: &str,
        admin_key: Option<&str>,
    ) -> Result<Self, LnbitsConfigError> {
        let base_url = url.trim().trim_end_matches('/').to_owned();
        let bad_url = |reason: &str| LnbitsConfigError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| bad_url(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad_url("expected an http:// or https:// URL"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(bad_url("no host"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad_url(
                "credentials in the URL are not supported; LNbits takes API keys",
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad_url(
                "expected the instance's root URL, without ?query or #fragment",
            ));
        }
        let invoice_key = ApiKey::new(invoice_key, "invoice key")?;
        let admin_key = admin_key.map(|k| ApiKey::new(k, "admin key")).transpose()?;
        let trust = l402_tls::Trust::from_env();
        let http = http_client(&trust)?;
        let ws_tls = ws_tls(&trust)?;
        Ok(Self {
            inner: Arc::new(Inner {
                base_url,
                http,
                ws_tls,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                invoice_key,
                admin_key,
                identity: OnceCell::new(),
                settlements: Arc::default(),
            }),
        })
    }

    /// Sets how long every call but a payment may take (default [`DEFAULT_REQUEST_TIMEOUT`]);
    /// a call that takes longer fails with [`BackendError::Timeout`]. A payment's time limit is
    /// its [`PayOptions::timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        Arc::make_mut(&mut self.inner).request_timeout = timeout;
        self
    }

    /// Verifies the instance's certificate as `trust` says (default:
    /// [`Trust::from_env`](l402_tls::Trust::from_env): the web PKI roots, or the CA bundle named
    /// by `SSL_CERT_FILE`). Does no IO.
    pub fn with_trust(mut self, trust: &l402_tls::Trust) -> Result<Self, LnbitsConfigError> {
        let inner = Arc::make_mut(&mut self.inner);
        inner.http = http_client(trust)?;
        inner.ws_tls = ws_tls(trust)?;
        Ok(self)
    }

    /// The instance's base URL (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// True when the key given as the invoice key is in fact the wallet's admin key (LNbits
    /// tells the admin key the wallet id, and the invoice key not). A seller should hold only
    /// the invoice/read key: an admin key can spend the wallet's balance.
    pub async fn invoice_key_is_admin_key(&self) -> Result<bool, BackendError> {
        let wallet = self.wallet().await?;
        Ok(wallet.id.is_some_and(|id| !id.is_empty()))
    }

    /// `GET /api/v1/wallet` with the invoice key.
    async fn wallet(&self) -> Result<WalletBody, BackendError> {
        let req = self.get(self.url("/api/v1/wallet"));
        self.call(
            req,
            Some(&self.inner.invoice_key),
            Call::Wallet,
            "GET /api/v1/wallet",
        )
        .await
    }

    /// True when the backend holds an admin key and so can pay.
    pub fn can_pay(&self) -> bool {
        self.inner.admin_key.is_some()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base_url)
    }

    fn get(&self, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.inner.http.get(url).timeout(self.inner.request_timeout)
    }

    fn post(&self, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.inner
            .http
            .post(url)
            .timeout(self.inner.request_timeout)
    }

    /// Sends `req` with `key` (if any) and returns the status and body (never logged: it may
    /// hold a preimage), or the transport error.
    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        key: Option<&ApiKey>,
    ) -> Result<(u16, Vec<u8>), BackendError> {
        let req = match key {
            Some(k) => req.header(KEY_HEADER, k.0.clone()),
            None => req,
        };
        let resp = req
            .send()
            .await
            .map_err(|e| errors::from_transport(e, &self.inner.base_url))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| errors::from_transport(e, &self.inner.base_url))?;
        Ok((status, body.to_vec()))
    }

    /// Sends `req` and decodes a 2xx answer as `T`; maps anything else through
    /// [`errors::from_status`].
    async fn call<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        key: Option<&ApiKey>,
        call: Call,
        what: &str,
    ) -> Result<T, BackendError> {
        let (status, body) = self.send(req, key).await?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| bad_json(what, &e));
        }
        let detail = wire::error_detail(&body);
        let err = errors::from_status(status, &detail, call, &self.inner.base_url);
        if err == BackendError::Unauthorized {
            tracing::warn!(
                url = %self.inner.base_url,
                status,
                detail = %detail,
                "LNbits rejected the API key for {what}"
            );
        }
        Err(err)
    }

    /// `GET /api/v1/payments/{hash}` with the invoice key; `None` when LNbits has no record.
    async fn lookup(
        &self,
        hash: &PaymentHash,
        call: Call,
    ) -> Result<Option<LookupBody>, BackendError> {
        let path = format!("/api/v1/payments/{}", hash.to_hex());
        let req = self.get(self.url(&path));
        match self
            .call::<LookupBody>(
                req,
                Some(&self.inner.invoice_key),
                call,
                "GET /api/v1/payments/{hash}",
            )
            .await
        {
            Ok(body) => Ok(Some(body)),
            Err(BackendError::UnknownInvoice(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates an invoice of `amount_sat` and returns it parsed (and remembers the identity).
    async fn create(
        &self,
        amount_sat: u64,
        memo: &str,
        expiry_secs: u64,
    ) -> Result<ParsedInvoice, BackendError> {
        let body = CreateInvoiceBody {
            out: false,
            amount: amount_sat,
            unit: "sat",
            memo,
            expiry: expiry_secs,
        };
        let req = self.post(self.url("/api/v1/payments")).json(&body);
        let created: CreatedBody = self
            .call(
                req,
                Some(&self.inner.invoice_key),
                Call::CreateInvoice,
                "POST /api/v1/payments",
            )
            .await?;
        let bolt11 = created.invoice().ok_or_else(|| {
            BackendError::Other("LNbits created an invoice but returned no bolt11".into())
        })?;
        let parsed = parse_bolt11(bolt11).map_err(|e| {
            BackendError::Other(format!(
                "LNbits returned an invoice that does not parse: {e}"
            ))
        })?;
        let hash = PaymentHash::from_hex(&created.payment_hash)
            .map_err(|e| BackendError::Other(format!("LNbits sent a bad payment hash: {e}")))?;
        if parsed.payment_hash != hash {
            return Err(BackendError::Other(format!(
                "LNbits returned payment hash {hash} for an invoice of hash {}",
                parsed.payment_hash
            )));
        }
        if parsed.amount != Some(Msat::from_sat(amount_sat)) {
            return Err(BackendError::Other(format!(
                "LNbits returned an invoice for {:?} instead of {amount_sat} sat",
                parsed.amount
            )));
        }
        let _ = self.inner.identity.set(Identity::of(&parsed));
        Ok(parsed)
    }

    async fn identity(&self) -> Result<&Identity, BackendError> {
        self.inner
            .identity
            .get_or_try_init(|| async {
                self.create(PROBE_SATS, PROBE_MEMO, PROBE_EXPIRY_SECS)
                    .await
                    .map(|parsed| Identity::of(&parsed))
            })
            .await
    }

    /// The most LNbits may spend on fees paying `bolt11`, or `None` if this LNbits cannot say.
    async fn fee_reserve(&self, bolt11: &str) -> Result<Option<Msat>, BackendError> {
        const WHAT: &str = "GET /api/v1/payments/fee-reserve";
        let mut url = reqwest::Url::parse(&self.url("/api/v1/payments/fee-reserve"))
            .map_err(|e| BackendError::Other(format!("bad LNbits URL: {e}")))?;
        url.query_pairs_mut().append_pair("invoice", bolt11);
        let (status, body) = self.send(self.get(url), None).await?;
        match status {
            200..=299 => serde_json::from_slice::<FeeReserveBody>(&body)
                .map(|b| Some(msat_abs(Some(b.fee_reserve))))
                .map_err(|e| bad_json(WHAT, &e)),
            // An LNbits older than the route (or a proxy hiding it): nothing to check against.
            404 | 405 => Ok(None),
            _ => Err(errors::from_status(
                status,
                &wire::error_detail(&body),
                Call::FeeReserve,
                &self.inner.base_url,
            )),
        }
    }

    /// Polls the payment to `hash` until it resolves or `deadline` passes.
    async fn await_payment(
        &self,
        invoice: &ParsedInvoice,
        deadline: Instant,
    ) -> Result<PaymentResult, BackendError> {
        let hash = invoice.payment_hash;
        let mut wait = Duration::from_millis(200);
        loop {
            match self.payment_state(&hash).await {
                Ok(PaymentState::Succeeded { preimage, fee }) => {
                    return Ok(PaymentResult {
                        preimage,
                        fee,
                        amount: invoice.amount.unwrap_or(Msat(0)),
                        payment_hash: hash,
                    });
                }
                Ok(PaymentState::Failed) => {
                    return Err(BackendError::Other(format!(
                        "LNbits reports the payment to {hash} failed"
                    )));
                }
                Ok(PaymentState::InFlight | PaymentState::Unknown) => {}
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(BackendError::Timeout);
            }
            tokio::time::sleep(wait.min(deadline - now)).await;
            wait = (wait * 2).min(Duration::from_secs(2));
        }
    }
}

#[async_trait]
impl LightningBackend for LnbitsBackend {
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        if req.amount.0 == 0 {
            // LNbits reads an amount of 0 as its own default, not as "amountless".
            return Err(BackendError::Unsupported {
                backend: BACKEND_NAME.into(),
                operation: crate::AMOUNTLESS_INVOICE_OPERATION,
            });
        }
        if !req.amount.0.is_multiple_of(1000) {
            return Err(BackendError::Other(format!(
                "LNbits invoices are in whole satoshis and {} is not a whole number of \
                 satoshis; refusing to round (price it in whole sats)",
                req.amount
            )));
        }
        // LNbits reads an expiry of 0 as "its default" (an hour): send at least 1 s.
        let parsed = self
            .create(req.amount.0 / 1000, &req.memo, req.expiry_secs.max(1))
            .await?;
        Ok(crate::issued::created(parsed))
    }

    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        let Some(body) = self.lookup(hash, Call::InvoiceState(*hash)).await? else {
            return Err(BackendError::UnknownInvoice(*hash));
        };
        // No details: the payment exists but not in this wallet. An outgoing record: this
        // wallet paid that hash, it did not issue the invoice.
        let Some(record) = body.details.filter(|r| r.amount.unwrap_or(0) > 0) else {
            return Err(BackendError::UnknownInvoice(*hash));
        };
        let status = record.status();
        if body.paid || status == "success" {
            let settled_at_unix = record
                .updated_at
                .as_deref()
                .and_then(time::parse_unix)
                .unwrap_or_else(now_unix);
            return Ok(InvoiceState::Settled {
                amount_received: msat_abs(record.amount),
                settled_at_unix,
            });
        }
        let expired = record.labels.iter().any(|l| l == "expired")
            || record
                .bolt11
                .as_deref()
                .and_then(|b| parse_bolt11(b).ok())
                .is_some_and(|inv| inv.is_expired_at(now_unix()));
        Ok(match (status.as_str(), body.status.as_deref(), expired) {
            (_, _, true) => InvoiceState::Expired,
            ("failed", _, false) | (_, Some("failed"), false) => InvoiceState::Canceled,
            _ => InvoiceState::Open,
        })
    }

    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        let key = self
            .inner
            .invoice_key
            .0
            .to_str()
            .map_err(|_| BackendError::Other("the invoice key is not text".into()))?;
        let Some(url) = stream::ws_url(&self.inner.base_url, key) else {
            return Ok(None);
        };
        let mut hub = self.inner.settlements.lock().await;
        if let Some(rx) = hub.as_ref().and_then(stream::Hub::subscribe) {
            return Ok(Some(rx));
        }
        let (started, rx) = stream::start(stream::Target {
            url,
            invoice_key: key.to_owned(),
            base_url: self.inner.base_url.clone(),
            timeout: self.inner.request_timeout,
            tls: self.inner.ws_tls.clone(),
        })
        .await?;
        *hub = Some(started);
        Ok(Some(rx))
    }

    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let started = Instant::now();
        let Some(admin_key) = self.inner.admin_key.as_ref() else {
            tracing::warn!(
                url = %self.inner.base_url,
                "paying through LNbits needs the wallet's admin key; this backend has only the \
                 invoice/read key"
            );
            return Err(BackendError::Unauthorized);
        };
        let (invoice, amount) = crate::pay_checks::payable_invoice(bolt11, "LNbits")?;
        if let Some(reserve) = self.fee_reserve(&invoice.bolt11).await?
            && reserve > opts.max_fee
        {
            tracing::info!(
                %reserve,
                max_fee = %opts.max_fee,
                "LNbits' fee reserve for this invoice exceeds the fee cap; not paying"
            );
            return Err(BackendError::FeeTooHigh);
        }
        let body = PayBody {
            out: true,
            bolt11: &invoice.bolt11,
        };
        let req = self
            .post(self.url("/api/v1/payments"))
            .timeout(opts.timeout + PAY_GRACE)
            .json(&body);
        let record: PaymentRecord = self
            .call(req, Some(admin_key), Call::Pay, "POST /api/v1/payments")
            .await
            .inspect_err(|e| {
                if *e == BackendError::Unauthorized {
                    tracing::warn!(
                        url = %self.inner.base_url,
                        "LNbits refused to pay: the configured admin key is not this wallet's \
                         admin key (an invoice/read key cannot pay)"
                    );
                }
            })?;
        let hash = hash_of(&record, &invoice.payment_hash)?;
        if hash != invoice.payment_hash {
            return Err(BackendError::Other(format!(
                "LNbits answered the payment of {} with a record of {hash}",
                invoice.payment_hash
            )));
        }
        if record.amount.unwrap_or(0) > 0 {
            // Not an outgoing payment: lnbits 1.6.2 answers like this for an unpaid invoice of
            // its own that it has marked failed. Nothing was paid.
            return Err(if invoice.is_expired_at(now_unix()) {
                BackendError::InvoiceExpired
            } else {
                BackendError::Other(format!(
                    "LNbits did not pay {hash}: it returned the invoice's own record (status {:?})",
                    record.status()
                ))
            });
        }
        match record.status().as_str() {
            "success" => Ok(PaymentResult {
                preimage: checked_preimage(&record, &hash)?,
                fee: msat_abs(record.fee),
                amount: record.amount.map_or(amount, |a| Msat(a.unsigned_abs())),
                payment_hash: hash,
            }),
            "failed" => Err(BackendError::Other(format!(
                "LNbits reports the payment to {hash} failed"
            ))),
            // Pending (or an LNbits that does not say): wait for the outcome.
            _ => self.await_payment(&invoice, started + opts.timeout).await,
        }
    }

    /// Not supported: this backend's LNbits payment call takes no amount of the payer's choosing.
    async fn pay_amount(
        &self,
        _bolt11: &str,
        _amount: Msat,
        _opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        Err(BackendError::Unsupported {
            backend: BACKEND_NAME.into(),
            operation: crate::PAY_AMOUNT_OPERATION,
        })
    }

    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        let Some(body) = self.lookup(hash, Call::PaymentState(*hash)).await? else {
            return Ok(PaymentState::Unknown);
        };
        // No details: someone else's payment; a positive amount: this wallet's invoice.
        let Some(record) = body.details.filter(|r| r.amount.unwrap_or(0) < 0) else {
            return Ok(PaymentState::Unknown);
        };
        Ok(match record.status().as_str() {
            "success" => PaymentState::Succeeded {
                preimage: checked_preimage(&record, hash)?,
                fee: msat_abs(record.fee),
            },
            "failed" => PaymentState::Failed,
            _ => PaymentState::InFlight,
        })
    }

    /// The wallet's balance (`GET /api/v1/wallet`); LNbits keeps a fee reserve from it when
    /// paying.
    async fn balance(&self) -> Result<Balance, BackendError> {
        let wallet = self.wallet().await?;
        let msat = wallet.balance.ok_or_else(|| {
            BackendError::Other("LNbits answered GET /api/v1/wallet without a balance".into())
        })?;
        Ok(Balance {
            spendable: Some(Msat(u64::try_from(msat).unwrap_or(0))),
        })
    }

    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        // Every call checks the key and that LNbits answers (this is the readiness probe).
        let wallet = self.wallet().await?;
        let identity = self.identity().await?;
        Ok(NodeInfo {
            network: identity.network,
            alias: format!(
                "LNbits wallet {}",
                wallet.name.as_deref().unwrap_or("(unnamed)")
            ),
            pubkey_hex: identity.pubkey_hex.clone(),
        })
    }
}
