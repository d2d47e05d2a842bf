//! The dev wallet over loopback HTTP: a small JSON API so another process can use the wallet
//! that `l402 serve` runs.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | POST | `/v1/invoices` | `{amount_msat, memo, expiry_secs}` (`amount_msat` 0: amountless) | `{bolt11, payment_hash, expires_at_unix}` |
//! | GET | `/v1/invoices/{hash}` | | `{state: open\|settled\|expired\|canceled, ...}` |
//! | POST | `/v1/payments` | `{bolt11, amount_msat?, max_fee_msat, timeout_ms}` | `{preimage, fee_msat, amount_msat, payment_hash}` |
//! | GET | `/v1/payments/{hash}` | | `{state: succeeded\|in_flight\|failed\|unknown, ...}` |
//! | GET | `/v1/info` | | `{network, alias, pubkey}` |
//!
//! A payment with `amount_msat` is [`pay_amount`](crate::LightningBackend::pay_amount) (it pays
//! an amountless invoice), one without it [`pay_invoice`](crate::LightningBackend::pay_invoice).
//!
//! Every request needs `Authorization: Bearer <token>`; the token is compared in constant time.
//! Errors are `{"error": {"code", "message"}}` with a matching status (401 unauthorized,
//! 409 already_paid, 410 invoice_expired, 503 unreachable, ...). Bind it to loopback only.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use l402_core::{Msat, PaymentHash};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::DevWallet;
use super::wire::{
    CreateInvoiceBody, CreatedInvoiceBody, ErrorBody, ErrorDetail, InfoBody, InvoiceStateBody,
    PayBody, PaymentBody, PaymentStateBody, error_code, error_message,
};
use crate::backend::{CreateInvoice, InvoiceState, LightningBackend, PayOptions, PaymentState};
use crate::error::BackendError;

/// The longest payment timeout a client may ask for.
const MAX_PAY_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Clone)]
struct AppState {
    wallet: Arc<DevWallet>,
    token: Arc<[u8]>,
}

/// The dev wallet's HTTP API as an axum router, requiring `Authorization: Bearer
/// <access_token>` on every request. An empty token rejects every request.
pub fn router(wallet: Arc<DevWallet>, access_token: String) -> Router {
    let state = AppState {
        wallet,
        token: Arc::from(access_token.into_bytes()),
    };
    Router::new()
        .route("/v1/invoices", post(create_invoice))
        .route("/v1/invoices/{hash}", get(invoice_state))
        .route("/v1/payments", post(pay_invoice))
        .route("/v1/payments/{hash}", get(payment_state))
        .route("/v1/info", get(info))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

/// A running dev wallet server (see [`serve_loopback`]). Dropping it stops the server too.
#[derive(Debug)]
pub struct DevWalletServer {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl DevWalletServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:38211`.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops accepting connections, lets open requests finish, and waits for the server task.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

impl Drop for DevWalletServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves [`router`] on `127.0.0.1:port` (0 picks a free port) in a background task.
pub async fn serve_loopback(
    wallet: Arc<DevWallet>,
    access_token: String,
    port: u16,
) -> std::io::Result<DevWalletServer> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let local_addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(wallet, access_token);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender also means "stop".
                let _ = rx.await;
            })
            .await
    });
    tracing::info!(%local_addr, "dev wallet HTTP server listening");
    Ok(DevWalletServer {
        local_addr,
        shutdown: Some(tx),
        task,
    })
}

async fn require_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let provided = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
    let ok = match provided {
        Some(p) if !state.token.is_empty() => bool::from(p.ct_eq(&state.token)),
        _ => false,
    };
    if ok {
        next.run(req).await
    } else {
        ApiError::Backend(BackendError::Unauthorized).into_response()
    }
}

/// What a handler answers when it fails.
enum ApiError {
    /// The wallet failed.
    Backend(BackendError),
    /// The request itself is wrong (400, code `bad_request`).
    BadRequest(String),
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        Self::Backend(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::Backend(e) => {
                let (status, code) = error_code(e);
                (status, code, error_message(e))
            }
            ApiError::BadRequest(m) => (400, "bad_request", m.clone()),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
            },
        };
        (status, Json(body)).into_response()
    }
}

fn parse_hash(s: &str) -> Result<PaymentHash, ApiError> {
    PaymentHash::from_hex(s)
        .map_err(|e| ApiError::BadRequest(format!("bad payment hash in path: {e}")))
}

async fn create_invoice(
    State(state): State<AppState>,
    Json(body): Json<CreateInvoiceBody>,
) -> Result<Json<CreatedInvoiceBody>, ApiError> {
    let created = state
        .wallet
        .create_invoice(CreateInvoice {
            amount: Msat(body.amount_msat),
            memo: body.memo,
            expiry_secs: body.expiry_secs,
        })
        .await?;
    Ok(Json(CreatedInvoiceBody {
        bolt11: created.bolt11,
        payment_hash: created.payment_hash.to_hex(),
        expires_at_unix: created.expires_at_unix,
    }))
}

async fn invoice_state(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<InvoiceStateBody>, ApiError> {
    let hash = parse_hash(&hash)?;
    Ok(Json(match state.wallet.invoice_state(&hash).await? {
        InvoiceState::Open => InvoiceStateBody::Open,
        InvoiceState::Settled {
            amount_received,
            settled_at_unix,
        } => InvoiceStateBody::Settled {
            amount_received_msat: amount_received.0,
            settled_at_unix,
        },
        InvoiceState::Expired => InvoiceStateBody::Expired,
        InvoiceState::Canceled => InvoiceStateBody::Canceled,
    }))
}

async fn pay_invoice(
    State(state): State<AppState>,
    Json(body): Json<PayBody>,
) -> Result<Json<PaymentBody>, ApiError> {
    let opts = PayOptions {
        max_fee: Msat(body.max_fee_msat),
        timeout: Duration::from_millis(body.timeout_ms).min(MAX_PAY_TIMEOUT),
    };
    let paid = match body.amount_msat {
        Some(amount) => {
            state
                .wallet
                .pay_amount(&body.bolt11, Msat(amount), opts)
                .await?
        }
        None => state.wallet.pay_invoice(&body.bolt11, opts).await?,
    };
    Ok(Json(PaymentBody {
        preimage: paid.preimage.to_hex(),
        fee_msat: paid.fee.0,
        amount_msat: paid.amount.0,
        payment_hash: paid.payment_hash.to_hex(),
    }))
}

async fn payment_state(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<PaymentStateBody>, ApiError> {
    let hash = parse_hash(&hash)?;
    Ok(Json(match state.wallet.payment_state(&hash).await? {
        PaymentState::Succeeded { preimage, fee } => PaymentStateBody::Succeeded {
            preimage: preimage.to_hex(),
            fee_msat: fee.0,
        },
        PaymentState::InFlight => PaymentStateBody::InFlight,
        PaymentState::Failed => PaymentStateBody::Failed,
        PaymentState::Unknown => PaymentStateBody::Unknown,
    }))
}

async fn info(State(state): State<AppState>) -> Result<Json<InfoBody>, ApiError> {
    let info = state.wallet.node_info().await?;
    Ok(Json(InfoBody {
        network: info.network.to_string(),
        alias: info.alias,
        pubkey: info.pubkey_hex,
    }))
}
