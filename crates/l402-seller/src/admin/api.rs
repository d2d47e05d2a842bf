//! The admin REST API under `/api/v1`, JSON in and out, every route behind an admin macaroon
//! (see [`super::auth`]): read routes take either macaroon, write routes the full one. Errors
//! are `{"error": {"code", "message"}}` with a precise status (401 no or bad macaroon, 403
//! read-only macaroon on a write route, 400 bad input, 404 unknown, 503 store unavailable).
//! The document describing it is served at `/api/v1/openapi.json` (no macaroon needed).

use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use l402_core::TokenId;
use l402_core::env::now_unix;
use l402_lightning::LightningBackend;
use l402_store::{InvoiceFilter, InvoiceRecord, Store, StoreError};
use l402_tower::{OsRandom, RevocationSet};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{AdminAuth, AuthError, Role};
use crate::config::SellerConfig;
use crate::config::edit::EditError;
use crate::error::SellerError;
use crate::metrics::SellerMetrics;
use crate::recorder::WeakRecorded;
use crate::reload::{Reload, ReloadReport};

/// Most rows one listing returns.
pub const MAX_LIMIT: usize = 1_000;
/// Rows a listing returns when no `limit` is given.
const DEFAULT_LIMIT: usize = 100;
/// How long a read of the invoices waits for the challenges and settlements already queued to
/// be written (see [`AdminState::written`]).
const FLUSH_WITHIN: Duration = Duration::from_secs(2);

/// What the admin routes share.
pub(crate) struct AdminState {
    pub(crate) auth: AdminAuth,
    pub(crate) store: Store,
    pub(crate) revocations: RevocationSet,
    pub(crate) metrics: Arc<SellerMetrics>,
    /// The challenge and settlement writer, flushed before a read of the invoices (weakly held:
    /// an admin request still running at shutdown does not keep the writer's queue open).
    pub(crate) recorded: WeakRecorded,
    pub(crate) backend: Arc<dyn LightningBackend>,
    pub(crate) backend_kind: String,
    /// The services and routes as configured, prepared at start and at each reload.
    pub(crate) services: Arc<RwLock<Value>>,
    /// The seller's reload (set once the proxy is bound; weak: the seller owns it).
    pub(crate) reload: OnceLock<Weak<Reload>>,
    pub(crate) started: Instant,
    /// What a request without a macaroon gets on a listener that verified the client's
    /// certificate (mutual TLS); `None` without client certificates.
    pub(crate) client_role: Option<Role>,
}

impl AdminState {
    /// Waits until the challenges and settlements queued so far are in the store, so that a read
    /// after it sees every 402 the proxy has already answered. A writer that cannot finish
    /// within [`FLUSH_WITHIN`] (a database that is down) does not hold the read up longer: it
    /// reads what is there.
    async fn written(&self) {
        if !self.recorded.flush(FLUSH_WITHIN).await {
            tracing::debug!("invoice writes still pending; reading the store as it is");
        }
    }
}

/// An API error: status, stable code, message.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 503 when the database is unreachable or busy (retry later), 500 otherwise.
    fn store(error: StoreError) -> Self {
        tracing::warn!(%error, "admin API: store error");
        if error.is_unavailable() {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the store could not answer; see the server log",
            )
        } else {
            Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store_error",
                "the store failed; see the server log",
            )
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"l402-admin\""),
            );
        }
        response
    }
}

/// The caller's role, from its macaroon.
pub(crate) struct Caller(Role);

impl FromRequestParts<Arc<AdminState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AdminState>,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        // On a mutual-TLS listener every connection presented a certificate the handshake
        // verified; a macaroon, when sent, still decides.
        if let (None, Some(role)) = (value, state.client_role) {
            return Ok(Caller(role));
        }
        Ok(Caller(state.auth.check(value, now_unix())?))
    }
}

impl Caller {
    /// Refuses a read-only caller.
    fn full(&self) -> Result<(), ApiError> {
        match self.0 {
            Role::Full => Ok(()),
            Role::Read => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "read_only",
                "this macaroon is read-only; use admin.macaroon for changes",
            )),
        }
    }
}

/// Runs a blocking store call off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Store,
    call: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || call(&store))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "task failed"))?
        .map_err(ApiError::store)
}

/// `GET /api/v1/status`: version, uptime, backend and store health, token counts.
pub(crate) async fn status(
    State(s): State<Arc<AdminState>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let started = Instant::now();
    // The invoice count below waits for queued challenges; alongside the backend's probe, so a
    // slow backend and a slow store do not add up.
    let (node, ()) = tokio::join!(
        async {
            let node = tokio::time::timeout(Duration::from_secs(2), s.backend.node_info()).await;
            (node, started.elapsed())
        },
        s.written()
    );
    let (node, backend_took) = node;
    let backend_ms = backend_took.as_secs_f64() * 1e3;
    let backend = match node {
        Ok(Ok(info)) => json!({
            "kind": s.backend_kind, "ok": true, "network": info.network.to_string(),
            "alias": info.alias, "latency_ms": backend_ms,
        }),
        Ok(Err(e)) => {
            json!({"kind": s.backend_kind, "ok": false, "error": e.to_string(), "latency_ms": backend_ms})
        }
        Err(_) => json!({"kind": s.backend_kind, "ok": false, "error": "no answer within 2 s"}),
    };
    let started = Instant::now();
    let store = blocking(&s.store, |store| {
        store.health_check()?;
        Ok((
            store.invoices().count()?,
            store.revocations().load_all()?.len(),
        ))
    })
    .await;
    let store_ms = started.elapsed().as_secs_f64() * 1e3;
    let store = match store {
        Ok((invoices, revocations)) => json!({
            "ok": true, "latency_ms": store_ms, "invoices": invoices, "revocations": revocations,
        }),
        Err(e) => json!({"ok": false, "error": e.message}),
    };
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": s.started.elapsed().as_secs(),
        "role": if caller.0 == Role::Full { "full" } else { "read" },
        "backend": backend,
        "store": store,
        "revocations_in_memory": s.revocations.len(),
    })))
}

/// `GET /api/v1/services`: the services and routes with their prices.
pub(crate) async fn services(State(s): State<Arc<AdminState>>, _caller: Caller) -> Json<Value> {
    Json(
        s.services
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone(),
    )
}

/// `POST /api/v1/reload` (full access): reads the configuration file again and puts it in
/// force, as SIGHUP does. 200 with what is now served; 409 `reload_refused` with the reason
/// when the file does not pass or changes what only a restart can (the running configuration
/// stays).
pub(crate) async fn reload(
    State(s): State<Arc<AdminState>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.full()?;
    let reload = running_reload(&s)?;
    reloaded(reload.reread_source().await, |_| {
        (StatusCode::CONFLICT, "reload_refused")
    })
}

/// `PUT /api/v1/services/{name}` (full access): the body is the service's `[[services]]` table
/// as JSON (its keys as `CONFIG.md` lists them, `routes` a list of route objects). The file's
/// table of that name is replaced (or one is added), the result checked in full and put in
/// force, then the file is replaced: comments and everything else stay as written.
pub(crate) async fn put_service(
    State(s): State<Arc<AdminState>>,
    caller: Caller,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.full()?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be the service's configuration as a JSON object: {e}"
        ))
    })?;
    edit_services(&s, move |text| {
        crate::config::edit::put_service(text, &name, &body)
    })
    .await
}

/// `DELETE /api/v1/services/{name}` (full access): removes the service from the file and from
/// the running configuration. Tokens sold for it open nothing from then on.
pub(crate) async fn delete_service(
    State(s): State<Arc<AdminState>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.full()?;
    edit_services(&s, move |text| {
        crate::config::edit::delete_service(text, &name)
    })
    .await
}

/// Applies a change of the services to the file and the running seller, and answers as a
/// reload does.
async fn edit_services(
    s: &AdminState,
    edit: impl FnOnce(&str) -> Result<String, EditError>,
) -> Result<Json<Value>, ApiError> {
    let reload = running_reload(s)?;
    reloaded(reload.edit_file(edit).await, |e| match e {
        SellerError::Edit(EditError::NoSuchService(_)) => (StatusCode::NOT_FOUND, "not_found"),
        SellerError::Edit(EditError::BadService(_)) | SellerError::Config(_) => {
            (StatusCode::BAD_REQUEST, "invalid_service")
        }
        SellerError::NoSource => (StatusCode::CONFLICT, "no_config_file"),
        SellerError::WriteConfig { .. } => (StatusCode::SERVICE_UNAVAILABLE, "config_unwritable"),
        _ => (StatusCode::CONFLICT, "reload_refused"),
    })
}

/// The seller's reload, unless the seller is stopping.
fn running_reload(s: &AdminState) -> Result<Arc<Reload>, ApiError> {
    s.reload.get().and_then(Weak::upgrade).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "the seller is stopping",
        )
    })
}

/// What a reload (or a services edit) answers: what is now served, or the refusal with the
/// status and code `classify` picks and the whole error chain as the message.
fn reloaded(
    result: Result<ReloadReport, SellerError>,
    classify: impl FnOnce(&SellerError) -> (StatusCode, &'static str),
) -> Result<Json<Value>, ApiError> {
    match result {
        Ok(report) => Ok(Json(json!({
            "reloaded": true,
            "services": report.services,
            "routes": report.routes,
            "warnings": report.warnings,
        }))),
        Err(e) => {
            let message = error_chain(&e);
            tracing::warn!(error = %message, "admin API: configuration change refused");
            let (status, code) = classify(&e);
            Err(ApiError::new(status, code, message))
        }
    }
}

/// An error and its sources, `: `-separated (what an API caller needs to fix a file); a source
/// whose text the message already holds (an error that quotes its cause) is not repeated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = e.source();
    }
    message
}

/// `?days=N` of `GET /api/v1/stats`.
#[derive(Debug, Deserialize)]
pub(crate) struct StatsQuery {
    days: Option<u32>,
}

/// `GET /api/v1/stats?days=30`: revenue per service per day (from the store, by settlement
/// day, UTC), totals per service, and requests per service, route and outcome since start.
pub(crate) async fn stats(
    State(s): State<Arc<AdminState>>,
    _caller: Caller,
    Query(q): Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    let days = q.days.unwrap_or(30);
    if !(1..=3660).contains(&days) {
        return Err(ApiError::bad_request("days must be between 1 and 3660"));
    }
    let today = now_unix() / 86_400 * 86_400;
    let since = today.saturating_sub(u64::from(days - 1) * 86_400);
    s.written().await;
    let rows = blocking(&s.store, move |store| {
        store.invoices().revenue_by_day(since)
    })
    .await?;
    let mut totals = serde_json::Map::new();
    for r in &rows {
        let entry = totals
            .entry(r.service.clone())
            .or_insert_with(|| json!({"settled": 0u64, "revenue_msat": 0u64}));
        entry["settled"] = json!(entry["settled"].as_u64().unwrap_or(0) + r.settled);
        entry["revenue_msat"] = json!(entry["revenue_msat"].as_u64().unwrap_or(0) + r.revenue.0);
    }
    let daily: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"day": r.day, "service": r.service, "settled": r.settled,
                   "revenue_msat": r.revenue.0})
        })
        .collect();
    Ok(Json(json!({
        "since_day": since,
        "days": days,
        "revenue_by_day": daily,
        "revenue_by_service": totals,
        "requests_since_start": s.metrics.requests_json(),
    })))
}

/// The filters of `GET /api/v1/invoices`.
#[derive(Debug, Deserialize)]
pub(crate) struct InvoiceQuery {
    service: Option<String>,
    state: Option<String>,
    since: Option<u64>,
    before: Option<u64>,
    token_id: Option<String>,
    limit: Option<usize>,
}

fn token_id(text: &str) -> Result<TokenId, ApiError> {
    TokenId::from_hex(text.trim())
        .map_err(|e| ApiError::bad_request(format!("invalid token id (64 hex characters): {e}")))
}

fn invoice_json(r: &InvoiceRecord) -> Value {
    json!({
        "payment_hash": r.payment_hash.to_hex(),
        "token_id": r.token_id.to_hex(),
        "service": r.service,
        "amount_msat": r.amount.0,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "settled_at": r.settled_at,
        "state": if r.settled_at.is_some() { "paid" } else { "unpaid" },
    })
}

/// `GET /api/v1/invoices`: challenges and their payments, newest first, filtered by
/// `service`, `state` (`paid`/`unpaid`), `since`, `before` (Unix seconds), `token_id`;
/// `limit` (default 100, at most 1000). The next page: `before` = the last row's `created_at`.
pub(crate) async fn invoices(
    State(s): State<Arc<AdminState>>,
    _caller: Caller,
    Query(q): Query<InvoiceQuery>,
) -> Result<Json<Value>, ApiError> {
    let settled = match q.state.as_deref() {
        None | Some("all") => None,
        Some("paid") => Some(true),
        Some("unpaid") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "state must be paid, unpaid or all, not {other:?}"
            )));
        }
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let filter = InvoiceFilter {
        service: q.service,
        settled,
        since: q.since,
        before: q.before,
        token_id: q.token_id.as_deref().map(token_id).transpose()?,
    };
    s.written().await;
    let rows = blocking(&s.store, move |store| {
        store.invoices().search(&filter, limit)
    })
    .await?;
    Ok(Json(json!({
        "invoices": rows.iter().map(invoice_json).collect::<Vec<_>>(),
        "next_before": (rows.len() == limit).then(|| rows.last().map(|r| r.created_at)).flatten(),
    })))
}

/// The query of `GET /api/v1/sessions`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SessionQuery {
    state: Option<String>,
    limit: Option<usize>,
}

fn session_json(r: &l402_store::SessionRecord) -> Value {
    json!({
        "session_id": r.session_id.to_hex(),
        "service": r.service,
        "state": if r.open { "open" } else { "closed" },
        "deposit_msat": r.deposit.0,
        "spent_msat": r.spent.0,
        "refunded_msat": r.refunded.0,
        "balance_msat": r.balance().0,
        "refund_msat": r.refund.map(|m| m.0),
        "refund_status": r.refund_status,
        "opened_at": r.opened_at,
        "updated_at": r.updated_at,
    })
}

/// `GET /api/v1/sessions`: metered balances, the most recently used first.
pub(crate) async fn sessions(
    State(s): State<Arc<AdminState>>,
    _caller: Caller,
    Query(q): Query<SessionQuery>,
) -> Result<Json<Value>, ApiError> {
    let open = match q.state.as_deref() {
        None | Some("all") => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "state must be open, closed or all, not {other:?}"
            )));
        }
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    let rows = blocking(&s.store, move |store| store.sessions().list(open, limit)).await?;
    Ok(Json(json!({
        "sessions": rows.iter().map(session_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/sessions/{id}`: one session and its ledger (every credit and debit).
pub(crate) async fn session(
    State(s): State<Arc<AdminState>>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = l402_core::PaymentHash::from_hex(&id)
        .ok()
        .filter(|_| id.len() == 64)
        .ok_or_else(|| ApiError::bad_request("a session id is 64 hex characters"))?;
    let (record, ledger) = blocking(&s.store, move |store| {
        let sessions = store.sessions();
        Ok((sessions.get(&id)?, sessions.ledger(&id)?))
    })
    .await?;
    let record = record.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no session with this id",
        )
    })?;
    let mut body = session_json(&record);
    body["ledger"] = ledger
        .iter()
        .map(|l| json!({"op": l.op, "amount_msat": l.amount_msat, "balance_msat": l.balance.0, "at": l.at}))
        .collect();
    Ok(Json(body))
}

/// `GET /api/v1/revocations`.
pub(crate) async fn revocations(
    State(s): State<Arc<AdminState>>,
    _caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let rows = blocking(&s.store, |store| store.revocations().load_all()).await?;
    Ok(Json(json!({
        "revocations": rows.iter().map(|r| json!({
            "token_id": r.token_id.to_hex(), "revoked_at": r.revoked_at, "reason": r.reason,
        })).collect::<Vec<_>>(),
    })))
}

/// The body of `POST /api/v1/tokens/{id}/revoke`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RevokeBody {
    reason: Option<String>,
}

/// `POST /api/v1/tokens/{id}/revoke` (full): refused from now on by this instance, and by
/// every instance on the same store within its refresh (2 s).
pub(crate) async fn revoke(
    State(s): State<Arc<AdminState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<RevokeBody>>,
) -> Result<Json<Value>, ApiError> {
    caller.full()?;
    let id = token_id(&id)?;
    let reason = body
        .and_then(|Json(b)| b.reason)
        .unwrap_or_else(|| "revoked through the admin API".into());
    if reason.len() > 500 {
        return Err(ApiError::bad_request("reason: at most 500 bytes"));
    }
    let changed = blocking(&s.store, move |store| {
        store.revocations().revoke(&id, &reason, now_unix())
    })
    .await?;
    s.revocations.revoke(id);
    tracing::info!(token_id = %id, "revoked through the admin API");
    Ok(Json(
        json!({"token_id": id.to_hex(), "revoked": true, "changed": changed}),
    ))
}

/// `DELETE /api/v1/tokens/{id}/revoke` (full): restores a revoked token.
pub(crate) async fn restore(
    State(s): State<Arc<AdminState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.full()?;
    let id = token_id(&id)?;
    let changed = blocking(&s.store, move |store| store.revocations().unrevoke(&id)).await?;
    s.revocations.unrevoke(&id);
    tracing::info!(token_id = %id, "restored through the admin API");
    Ok(Json(
        json!({"token_id": id.to_hex(), "revoked": false, "changed": changed}),
    ))
}

/// `GET /api/v1/keys`: the master key epochs (never the keys).
pub(crate) async fn keys(
    State(s): State<Arc<AdminState>>,
    _caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let rows = blocking(&s.store, |store| store.master_keys().list()).await?;
    Ok(Json(json!({
        "keys": rows.iter().map(|k| json!({
            "epoch": k.epoch, "created_at": k.created_at, "current": k.current,
            "retired_at": k.retired_at,
        })).collect::<Vec<_>>(),
    })))
}

/// `POST /api/v1/keys/rotate` (full): new tokens use a new epoch from the next store refresh
/// (2 s) on; older tokens keep working.
pub(crate) async fn rotate(
    State(s): State<Arc<AdminState>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.full()?;
    let epoch = blocking(&s.store, |store| {
        store.master_keys().rotate(&mut OsRandom, now_unix())
    })
    .await?;
    tracing::info!(epoch, "master key rotated through the admin API");
    Ok(Json(json!({"current_epoch": epoch})))
}

/// The services and routes of `config` as the API shows them.
/// The schemes a service sells, as its `protocols` key spells them.
fn protocol_names(sold: l402_tower::Protocols) -> Vec<&'static str> {
    [(sold.l402, "l402"), (sold.mpp, "mpp")]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
}

pub(crate) fn services_json(config: &SellerConfig) -> Value {
    let services: Vec<Value> = config
        .proxy
        .services
        .iter()
        .zip(&config.l402.services)
        .map(|(service, terms)| {
            let routes: Vec<Value> = service
                .routes
                .iter()
                .zip(&terms.routes)
                .map(|(route, t)| {
                    json!({
                        "methods": route.methods, "path": route.path,
                        "price_sat": t.price_sat.unwrap_or(terms.price_sat), "free": t.free,
                        "capabilities_required": t.capabilities_required,
                    })
                })
                .collect();
            json!({
                "name": service.name, "path_prefix": service.path_prefix, "hosts": service.hosts,
                "price_sat": terms.price_sat, "capabilities": terms.capabilities,
                "token_lifetime_secs": terms.token_lifetime_secs, "free_paths": terms.free_paths,
                "protocols": protocol_names(terms.protocols()),
                "routes": routes,
            })
        })
        .collect();
    json!({ "services": services })
}
