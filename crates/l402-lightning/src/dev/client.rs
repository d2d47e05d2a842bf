//! [`DevWalletClient`]: the dev wallet's HTTP API as a [`LightningBackend`].

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderValue, Method, Request};
use http_body_util::Full;
use l402_core::invoice::Network;
use l402_core::{Msat, PaymentHash, Preimage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

use super::wire::{
    CreateInvoiceBody, CreatedInvoiceBody, ErrorBody, InfoBody, InvoiceStateBody, PayBody,
    PaymentBody, PaymentStateBody, error_from_code,
};
use super::{BACKEND_NAME, ConnectionInfo, connection_file_path, read_connection_file};
use crate::backend::{
    Balance, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, NodeInfo, PayOptions,
    PaymentResult, PaymentState, Settlement,
};
use crate::error::BackendError;
use crate::node_http::{MAX_BODY, NodeClient, read_body};

/// How long to wait for a TCP connection to the (loopback) server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Timeout for every call but payments.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Extra time a payment request gets on top of the payment's own timeout, so the server's
/// answer (possibly `timeout`) arrives before the client gives up.
const PAY_GRACE: Duration = Duration::from_secs(5);
/// The hint attached to connection failures.
const HINT: &str = "; is `l402 serve` running in dev mode?";

/// A client of a dev wallet server (see [`http`](super::http)): plain HTTP/1.1 on loopback,
/// pooled keep-alive connections, the bearer token on every call. Cheap to clone.
#[derive(Clone)]
pub struct DevWalletClient {
    node: Arc<NodeClient>,
    /// `Bearer <access token>`, marked sensitive.
    authorization: HeaderValue,
}

impl fmt::Debug for DevWalletClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevWalletClient")
            .field("base_url", &self.node.base())
            .field("access_token", &"<redacted>")
            .finish()
    }
}

impl DevWalletClient {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:38211`) using the bearer
    /// token `access_token`. Does no IO.
    pub fn new(
        base_url: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Result<Self, BackendError> {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        let parsed = base_url
            .parse::<http::Uri>()
            .map_err(|e| BackendError::Other(format!("bad dev wallet URL {base_url:?}: {e}")))?;
        if parsed.scheme_str() != Some("http") || parsed.authority().is_none() {
            return Err(BackendError::Other(format!(
                "bad dev wallet URL {base_url:?}: the dev wallet speaks plain http on loopback"
            )));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", access_token.into()))
            .map_err(|_| {
            BackendError::Other("the dev wallet's access token is not header-safe".into())
        })?;
        authorization.set_sensitive(true);
        // Plain http on loopback; the connector's TLS configuration (never used) comes from
        // the TLS home all the same.
        let tls = l402_tls::Trust::WebPki
            .client_config()
            .map_err(|e| BackendError::Other(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            node: Arc::new(NodeClient::new(
                BACKEND_NAME,
                base_url,
                tls,
                CONNECT_TIMEOUT,
                REQUEST_TIMEOUT,
                HINT,
            )),
            authorization,
        })
    }

    /// A client for the server described by `info`.
    pub fn from_connection(info: &ConnectionInfo) -> Result<Self, BackendError> {
        Self::new(info.url.clone(), info.access_token.clone())
    }

    /// A client for the server whose connection file sits in `data_dir`. A missing file means
    /// no server runs there: [`BackendError::Unreachable`] with a hint.
    pub fn from_data_dir(data_dir: &Path) -> Result<Self, BackendError> {
        let info = read_connection_file(data_dir).map_err(|e| BackendError::Unreachable {
            backend: BACKEND_NAME.into(),
            address: connection_file_path(data_dir).display().to_string(),
            detail: format!("{e}{HINT}"),
            source: None,
        })?;
        Self::from_connection(&info)
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.node.base()
    }

    /// One call: `method path` with `body` as JSON, answered within `timeout` (the default
    /// per-call timeout when `None`), its JSON answer decoded; the server's errors mapped by
    /// their code (`hash` names the invoice or payment they are about).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Option<Duration>,
        hash: Option<PaymentHash>,
    ) -> Result<T, BackendError> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.node.base()))
            .header(http::header::AUTHORIZATION, self.authorization.clone());
        if body.is_some() {
            req = req.header(http::header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| BackendError::Other(format!("bad dev wallet request {path:?}: {e}")))?;
        let work = async {
            let resp = self.node.send(req, |_| None).await?;
            let status = resp.status();
            let bytes = read_body(resp.into_body(), MAX_BODY)
                .await
                .map_err(|e| self.node.unreachable(format!("reading the answer: {e}")))?;
            Ok::<_, BackendError>((status, bytes))
        };
        let (status, bytes) =
            tokio::time::timeout(timeout.unwrap_or(self.node.request_timeout()), work)
                .await
                .map_err(|_| BackendError::Timeout)??;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                // Position only: the body may hold a preimage.
                BackendError::Other(format!(
                    "unexpected answer from the dev wallet (JSON error at line {} column {})",
                    e.line(),
                    e.column()
                ))
            });
        }
        if let Ok(err) = serde_json::from_slice::<ErrorBody>(&bytes) {
            return Err(error_from_code(
                &err.error.code,
                err.error.message,
                self.node.base(),
                hash,
            ));
        }
        Err(match status.as_u16() {
            401 => BackendError::Unauthorized,
            503 => self.node.unreachable("the server answered 503"),
            504 => BackendError::Timeout,
            _ => BackendError::Other(format!(
                "dev wallet answered HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        hash: Option<PaymentHash>,
    ) -> Result<T, BackendError> {
        self.call(Method::GET, path, None, None, hash).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Option<Duration>,
    ) -> Result<T, BackendError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| BackendError::Other(format!("cannot encode a dev wallet request: {e}")))?;
        self.call(Method::POST, path, Some(body), timeout, None)
            .await
    }

    /// `POST /v1/payments`; `amount` is `pay_amount`'s, `None` for `pay_invoice`.
    async fn pay(
        &self,
        bolt11: &str,
        amount: Option<Msat>,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        let body = PayBody {
            bolt11: bolt11.to_owned(),
            amount_msat: amount.map(|a| a.0),
            max_fee_msat: opts.max_fee.0,
            timeout_ms: u64::try_from(opts.timeout.as_millis()).unwrap_or(u64::MAX),
        };
        let paid: PaymentBody = self
            .post(
                "/v1/payments",
                &body,
                Some(opts.timeout.saturating_add(PAY_GRACE)),
            )
            .await?;
        Ok(PaymentResult {
            preimage: preimage_from_wire(&paid.preimage)?,
            fee: Msat(paid.fee_msat),
            amount: Msat(paid.amount_msat),
            payment_hash: hash_from_wire(&paid.payment_hash)?,
        })
    }
}

fn hash_from_wire(s: &str) -> Result<PaymentHash, BackendError> {
    PaymentHash::from_hex(s)
        .map_err(|e| BackendError::Other(format!("dev wallet sent a bad payment hash: {e}")))
}

fn preimage_from_wire(s: &str) -> Result<Preimage, BackendError> {
    // The HexError never contains the input.
    Preimage::from_hex(s)
        .map_err(|e| BackendError::Other(format!("dev wallet sent a bad preimage: {e}")))
}

#[async_trait]
impl LightningBackend for DevWalletClient {
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        let body = CreateInvoiceBody {
            amount_msat: req.amount.0,
            memo: req.memo,
            expiry_secs: req.expiry_secs,
        };
        let created: CreatedInvoiceBody = self.post("/v1/invoices", &body, None).await?;
        Ok(CreatedInvoice {
            payment_hash: hash_from_wire(&created.payment_hash)?,
            bolt11: created.bolt11,
            expires_at_unix: created.expires_at_unix,
        })
    }

    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        let state: InvoiceStateBody = self
            .get(&format!("/v1/invoices/{}", hash.to_hex()), Some(*hash))
            .await?;
        Ok(match state {
            InvoiceStateBody::Open => InvoiceState::Open,
            InvoiceStateBody::Settled {
                amount_received_msat,
                settled_at_unix,
            } => InvoiceState::Settled {
                amount_received: Msat(amount_received_msat),
                settled_at_unix,
            },
            InvoiceStateBody::Expired => InvoiceState::Expired,
            InvoiceStateBody::Canceled => InvoiceState::Canceled,
        })
    }

    /// The HTTP API has no stream: always `None` (poll `invoice_state`).
    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        Ok(None)
    }

    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        self.pay(bolt11, None, opts).await
    }

    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        self.pay(bolt11, Some(amount), opts).await
    }

    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        let state: PaymentStateBody = self
            .get(&format!("/v1/payments/{}", hash.to_hex()), Some(*hash))
            .await?;
        Ok(match state {
            PaymentStateBody::Succeeded { preimage, fee_msat } => PaymentState::Succeeded {
                preimage: preimage_from_wire(&preimage)?,
                fee: Msat(fee_msat),
            },
            PaymentStateBody::InFlight => PaymentState::InFlight,
            PaymentStateBody::Failed => PaymentState::Failed,
            PaymentStateBody::Unknown => PaymentState::Unknown,
        })
    }

    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        let info: InfoBody = self.get("/v1/info", None).await?;
        Ok(NodeInfo {
            network: info.network.parse::<Network>().map_err(|e| {
                BackendError::Other(format!("dev wallet reported a bad network: {e}"))
            })?,
            alias: info.alias,
            pubkey_hex: info.pubkey,
        })
    }

    /// No limit (the dev wallet pays from a regtest ledger), once the wallet answers.
    async fn balance(&self) -> Result<Balance, BackendError> {
        let _: InfoBody = self.get("/v1/info", None).await?;
        Ok(Balance { spendable: None })
    }
}
