//! [`L402McpServer`]: the MCP tools over an [`L402Client`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use l402_backend::LightningBackend;
use l402_client::{ClientConfig, ClientError, L402Client, L402ClientBuilder, RequestSpec};
use l402_core::Msat;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig, Tool};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::body::{DEFAULT_MAX_BODY_BYTES, read_limited, render};
use crate::error::McpError;
use crate::network_guard::{PublicOnly, surface};
use crate::report::{
    BudgetLeft, BudgetReport, ClosedReport, ClosedSessionsReport, ErrorReport, FetchReport,
    PaymentReport, ReceiptReport, ReceiptsReport, SessionReport, TokenReport, TokenStatusReport,
    TokensReport, WindowReport, classify, json_result, limit_text,
};
use l402_client::ScopeLocks;

/// The tool that fetches a URL and pays within the budget.
pub const TOOL_FETCH: &str = "l402_fetch";
/// The tool that shows the budget.
pub const TOOL_BUDGET: &str = "l402_budget";
/// The tool that lists recent payments.
pub const TOOL_RECEIPTS: &str = "l402_receipts";
/// The tool that lists held tokens.
pub const TOOL_TOKENS: &str = "l402_tokens";
/// The tool that lists what a host sells and at what price.
pub const TOOL_DISCOVER: &str = "l402_discover";
/// The tool that prices one request before paying.
pub const TOOL_QUOTE: &str = "l402_quote";
/// The tool that closes the prepaid `Payment` sessions held (the rest is refunded).
pub const TOOL_CLOSE_SESSIONS: &str = "l402_close_sessions";

/// Receipts listed when `l402_receipts` gets no `limit`.
pub const DEFAULT_RECEIPTS: usize = 20;
/// The most receipts `l402_receipts` lists.
pub const MAX_RECEIPTS: usize = 200;

/// Capped clients kept for reuse (one per distinct lowered maximum).
const CAPPED_CACHE: usize = 16;

/// Builds a client like the server's main one (same store, wallet configuration, budget and HTTP client) with a
/// lower per-invoice maximum. The server uses it for calls whose `max_cost_sat` (or whose
/// default per-call maximum) is below the main client's maximum; the maximum passed is never
/// above the main client's.
pub type LowerMaxCost = Arc<dyn Fn(Msat) -> Result<L402Client, ClientError> + Send + Sync>;

/// `config`'s wallet, opened once, when a payment is first due, for every client it is given
/// to (the main client and its lowered copies share one connection to the wallet).
#[derive(Clone)]
struct SharedWallet {
    config: Arc<ClientConfig>,
    opened: Arc<std::sync::Mutex<Option<Arc<dyn LightningBackend>>>>,
}

impl SharedWallet {
    fn new(config: &ClientConfig) -> Self {
        Self {
            config: Arc::new(config.clone()),
            opened: Arc::default(),
        }
    }

    /// An opener for `L402ClientBuilder::lazy_wallet`.
    fn opener(
        &self,
    ) -> impl Fn() -> Result<Arc<dyn LightningBackend>, ClientError> + Send + Sync + 'static {
        let shared = self.clone();
        move || {
            let mut opened = match shared.opened.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            if let Some(wallet) = opened.as_ref() {
                return Ok(wallet.clone());
            }
            let wallet = shared.config.open_wallet()?;
            *opened = Some(wallet.clone());
            Ok(wallet)
        }
    }
}

/// A [`LowerMaxCost`] from the configuration the main client was built from and the main
/// client itself: the lowered clients share its store (so budget, tokens and receipts are one)
/// and its HTTP client (redirect policy, timeouts, user agent), and open the configuration's
/// wallet, once for all of them, when a payment is first due.
pub fn lower_max_cost(config: &ClientConfig, client: &L402Client) -> LowerMaxCost {
    lower_max_cost_sharing(config, client, SharedWallet::new(config))
}

fn lower_max_cost_sharing(
    config: &ClientConfig,
    client: &L402Client,
    wallet: SharedWallet,
) -> LowerMaxCost {
    let config = config.clone();
    let store = client.store().clone();
    let http = client.http().clone();
    let budget = client.budget().clone();
    Arc::new(move |max_cost| {
        guarded(&config, config.client_builder()?)
            .store(store.clone())
            .http_client(http.clone())
            .budget(budget.clone())
            .lazy_wallet(wallet.opener())
            .max_cost(max_cost)
            .build()
    })
}

/// `builder` with the private-network guard ([`PublicOnly`] as destination guard and DNS
/// resolver) unless `[mcp] allow_private_networks` is set.
fn guarded(config: &ClientConfig, builder: L402ClientBuilder) -> L402ClientBuilder {
    if config.mcp.allow_private_networks {
        return builder;
    }
    builder
        .destination_guard(Arc::new(PublicOnly))
        .dns_resolver(Arc::new(PublicOnly))
}

/// `l402_fetch` arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchArgs {
    /// The URL to fetch (http:// or https://).
    pub url: String,
    /// The HTTP method (default GET).
    #[serde(default)]
    pub method: Option<String>,
    /// Request headers, name to value.
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    /// The request body, sent as is. Without a Content-Type header it is sent as
    /// application/json when it parses as JSON, else as text/plain.
    #[serde(default)]
    pub body: Option<String>,
    /// The most this call may pay for one invoice, in sat. Optional: defaults to the server's
    /// per-call default. It can only lower the configured maximum, never raise it.
    #[serde(default)]
    pub max_cost_sat: Option<u64>,
}

/// `l402_receipts` arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptsArgs {
    /// How many payments to list, newest first (default 20, at most 200).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// An MCP server whose tools fetch URLs paying L402 challenges within the client's budget
/// (`l402_fetch`) and show the budget (`l402_budget`), recent payments (`l402_receipts`) and held
/// tokens (`l402_tokens`).
///
/// Budget enforcement is the client's: every payment is checked against the per-invoice
/// maximum, the per-request, hourly, daily, total and per-domain limits and the domain lists
/// before the wallet is called, whatever the tool arguments say. A call's `max_cost_sat` only
/// selects a client with a *lower* maximum.
///
/// Cheap to clone (the streamable HTTP transport makes one per session); clones share the
/// client and the per-scope turns.
#[derive(Clone)]
pub struct L402McpServer {
    client: Arc<L402Client>,
    lower: LowerMaxCost,
    default_max_cost: Msat,
    max_body_bytes: usize,
    state: Arc<State>,
    tool_router: ToolRouter<L402McpServer>,
}

/// What clones share.
#[derive(Default)]
struct State {
    capped: Mutex<HashMap<u64, Arc<L402Client>>>,
    turns: ScopeLocks,
}

impl fmt::Debug for L402McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L402McpServer")
            .field("client", &self.client)
            .field("default_max_cost", &self.default_max_cost)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl L402McpServer {
    /// A server over `client`. `lower` builds the clients used when a call's maximum is below
    /// `client`'s (see [`lower_max_cost`]). The per-call default maximum starts as the client's
    /// maximum; bodies are shown up to [`DEFAULT_MAX_BODY_BYTES`].
    pub fn new(client: Arc<L402Client>, lower: LowerMaxCost) -> Self {
        let mut server = Self {
            default_max_cost: client.max_cost(),
            client,
            lower,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            state: Arc::new(State::default()),
            tool_router: ToolRouter::default(),
        };
        server.tool_router = server.router();
        server
    }

    /// Opens the store the configuration names and builds the server (blocking file IO: call
    /// at startup). The wallet opens when a payment is first due, so the read-only tools
    /// (tokens, receipts, budget) and free pages work without one; for the dev wallet,
    /// `l402 serve` (or `l402 wallet serve`) must then be running with the same data directory.
    pub fn from_config(config: &ClientConfig) -> Result<Self, McpError> {
        let wallet = SharedWallet::new(config);
        let client = guarded(config, config.client_builder()?)
            .lazy_wallet(wallet.opener())
            .build()?;
        let lower = lower_max_cost_sharing(config, &client, wallet);
        Ok(Self::new(Arc::new(client), lower))
    }

    /// The most one `l402_fetch` pays for one invoice when its `max_cost_sat` is not given.
    /// Clamped to the client's maximum (it can only lower it). A call may still pass a
    /// `max_cost_sat` up to the client's maximum.
    pub fn with_default_max_cost(mut self, max_cost: Msat) -> Self {
        self.default_max_cost = max_cost.min(self.client.max_cost());
        self.tool_router = self.router();
        self
    }

    /// How many body bytes `l402_fetch` shows the model (default [`DEFAULT_MAX_BODY_BYTES`]);
    /// the rest is not read.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes.max(1);
        self.tool_router = self.router();
        self
    }

    /// The client that pays.
    pub fn client(&self) -> &L402Client {
        &self.client
    }

    /// The client that pays, shared (e.g. with an [`IdleSessionCloser`](crate::IdleSessionCloser)).
    pub fn shared_client(&self) -> Arc<L402Client> {
        self.client.clone()
    }

    /// The per-call default maximum.
    pub fn default_max_cost(&self) -> Msat {
        self.default_max_cost
    }

    /// The tools as listed to MCP clients (names, descriptions with the prices and limits in
    /// force, input schemas).
    pub fn tools(&self) -> Vec<Tool> {
        let mut tools = self.tool_router.list_all();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        tools
    }

    /// The server instructions sent at initialization.
    pub fn instructions(&self) -> String {
        let b = self.client.budget();
        format!(
            "Fetch paid APIs (HTTP 402 / L402, paid over Lightning) within a spending budget the \
             user set. l402_fetch pays automatically, at most {default} per call by default \
             (max_cost_sat can lower it, or raise it up to {max}), and never beyond the limits \
             (hourly {h}, daily {d}, total {t}). Call l402_budget first to see what is left; \
             l402_receipts and l402_tokens show what was bought. If a fetch is refused for \
             budget, nothing was paid: tell the user rather than retrying.",
            default = self.default_max_cost,
            max = self.client.max_cost(),
            h = limit_text(b.hourly),
            d = limit_text(b.daily),
            t = limit_text(b.total),
        )
    }

    /// The router with descriptions naming the prices and limits in force.
    fn router(&self) -> ToolRouter<Self> {
        let mut router = Self::tool_router();
        let b = self.client.budget();
        let per_request = b
            .max_per_request
            .map(|m| format!(", at most {m} per payment including the routing fee"))
            .unwrap_or_default();
        let fetch = format!(
            "Fetches a URL (GET by default; any method, headers and a text body). If the server \
             asks for a Lightning payment (HTTP 402 / L402), pays it automatically from the \
             user's budget: at most max_cost_sat per call (default {default}; max_cost_sat can \
             only lower the configured maximum of {max}, larger values are capped){per_request}, \
             and never beyond the hourly/daily/total limits (hourly {h}, daily {d}, total {t}). \
             A token bought once is reused by later requests to the same API at no cost. The \
             result says what THIS call paid (amount, fee, payment hash, or that a held token \
             was reused) and the budget left, with the HTTP status and the body (text, \
             truncated after {body} bytes). An over-budget or failed payment is an error result \
             that names the limit and says nothing was paid. Call l402_budget first to see what \
             you can spend.",
            default = self.default_max_cost,
            max = self.client.max_cost(),
            h = limit_text(b.hourly),
            d = limit_text(b.daily),
            t = limit_text(b.total),
            body = self.max_body_bytes,
        );
        let budget = "Shows the spending budget for paid (L402) fetches: the per-call maximum \
                      (default and configured max_cost_sat), the routing-fee cap, and for the \
                      rolling hour, the rolling 24 hours, all time and each limited host the \
                      limit, what was spent and what remains, in sat. Free: pays nothing. Call \
                      it before paid fetches and when a fetch is refused for budget.";
        let receipts = "Lists recent Lightning payments l402_fetch made from the budget, newest \
                        first: when, URL, token scope, amount and fee in sat, payment hash. \
                        Free: pays nothing; l402_budget shows what is left.";
        let tokens = "Lists the L402 tokens held: access already bought that later requests to \
                      the same API reuse without spending budget (scope, origin, what it cost, \
                      when it expires). Never shows the secrets. Free: pays nothing.";
        let discover = "Lists what a host sells and at what price, without paying: its L402 \
                        manifest (/.well-known/l402.json: services, paths, methods, prices in \
                        sat, capabilities, token lifetimes), or the price in the 402 of a plain \
                        unpaid request when it publishes none. Free: pays nothing. Use it to \
                        compare before l402_fetch.";
        let quote = "Asks a seller what one request would cost before paying (POST /l402/quote): \
                     service or path and method, capabilities, token lifetime, and max_price_sat \
                     (refused as unsatisfiable_budget when the price is above). Free: pays \
                     nothing and mints no invoice.";
        let close = "Closes the prepaid sessions l402_fetch opened with metered APIs (sold per \
                     unit, e.g. per generated token, from a deposit): the seller refunds what \
                     is left of each deposit to your wallet, and what the wallet receives goes \
                     back to the budget. Reports per session what was deposited, spent and \
                     refunded. Pays nothing; call it when done with a metered API.";
        for (name, text) in [
            (TOOL_CLOSE_SESSIONS, close.to_owned()),
            (TOOL_DISCOVER, discover.to_owned()),
            (TOOL_QUOTE, quote.to_owned()),
            (TOOL_FETCH, fetch),
            (TOOL_BUDGET, budget.to_owned()),
            (TOOL_RECEIPTS, receipts.to_owned()),
            (TOOL_TOKENS, tokens.to_owned()),
        ] {
            if let Some(route) = router.map.get_mut(name) {
                route.attr.description = Some(text.into());
            }
        }
        router
    }

    /// `l402_fetch`: sends the request, paying within the budget. Never fails: errors are tool
    /// results with `isError: true`, a message and a hint.
    pub async fn fetch(&self, args: FetchArgs) -> CallToolResult {
        let configured = self.client.max_cost();
        let mut notes = Vec::new();
        let cap = match args.max_cost_sat {
            None => self.default_max_cost,
            Some(sat) => {
                let asked = Msat::from_sat(sat);
                if asked > configured {
                    notes.push(format!(
                        "max_cost_sat {sat} is above the configured maximum of {configured}: the \
                         configured maximum applied (max_cost_sat can only lower it)"
                    ));
                    configured
                } else {
                    asked
                }
            }
        };
        let target = match self.client.target_of(&args.url) {
            Ok(t) => t,
            Err(e) => return self.failure(&e, cap, notes, None).await,
        };
        let spec = match request_spec(&args) {
            Ok(s) => s,
            Err(e) => return self.failure(&e, cap, notes, Some(&target.domain)).await,
        };
        let client = match self.client_for(cap) {
            Ok(c) => c,
            Err(e) => return self.failure(&e, cap, notes, Some(&target.domain)).await,
        };
        let outcome = {
            let _turn = self.state.turns.lock(&target.scope).await;
            client.execute(spec).await.map_err(surface)
        };
        let mut paid = match outcome {
            Ok(p) => p,
            Err(e) => return self.failure(&e, cap, notes, Some(&target.domain)).await,
        };
        let payment = PaymentReport::of(paid.payment.as_ref(), paid.reused_token);
        let token = paid.token_status.as_ref().map(TokenStatusReport::of);
        let session = paid.session.as_ref().map(SessionReport::of);
        if let Some(r) = &paid.payment {
            tracing::info!(url = %args.url, amount = %r.amount, fee = %r.fee, "l402_fetch paid");
        }
        let status = paid.response.status();
        let content_type = paid
            .response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let declared_len = paid.response.content_length();
        let read = read_limited(&mut paid.response, self.max_body_bytes).await;
        let budget_left = self.budget_left(Some(&target.domain)).await;
        let (bytes, truncated) = match read {
            Ok(r) => r,
            Err(e) => {
                return ErrorReport {
                    error: "network",
                    message: format!("reading the response body failed: {e}"),
                    hint: "The request went through (see payment) but its body could not be \
                           read. Fetching again reuses the token without paying."
                        .to_owned(),
                    nothing_paid: !payment.paid,
                    payment: Some(payment),
                    budget_left,
                    notes,
                }
                .into_result();
            }
        };
        let body = render(
            &bytes,
            truncated,
            content_type.as_deref(),
            declared_len,
            self.max_body_bytes,
        );
        let mut summary = match status.canonical_reason() {
            Some(reason) => format!("HTTP {} {reason}.", status.as_u16()),
            None => format!("HTTP {}.", status.as_u16()),
        };
        summary.push(' ');
        summary.push_str(&payment.sentence());
        if let Some(t) = &token {
            summary.push(' ');
            summary.push_str(&t.sentence());
        }
        if let Some(s) = &session {
            summary.push(' ');
            summary.push_str(&s.sentence());
        }
        if let Some(b) = &budget_left {
            summary.push(' ');
            summary.push_str(&b.sentence());
        }
        for n in &notes {
            summary.push_str(" Note: ");
            summary.push_str(n);
            summary.push('.');
        }
        json_result(&FetchReport {
            summary,
            status: status.as_u16(),
            content_type,
            payment,
            token,
            session,
            budget_left,
            max_cost_sat: crate::report::Sat(cap),
            notes,
            body_note: body.note,
            body_truncated: body.truncated,
            body: body.text,
            body_base64: body.base64,
        })
    }

    /// `l402_budget`: limits, spent and remaining per window and per domain.
    pub async fn budget(&self) -> CallToolResult {
        let status = match self.client.budget_status().await {
            Ok(s) => s,
            Err(e) => {
                return self
                    .failure(&e, self.default_max_cost, Vec::new(), None)
                    .await;
            }
        };
        let b = self.client.budget();
        let window = |name: &str, w: &l402_client::WindowStatus| match w.limit {
            Some(limit) => format!(
                "{name}: {} of {limit} spent, {} left.",
                w.spent,
                w.remaining.unwrap_or(Msat(0))
            ),
            None => format!("{name}: {} spent, no limit.", w.spent),
        };
        let summary = format!(
            "Per call: at most {} by default, up to {} with max_cost_sat (routing fee cap {}). \
             {} {} {}",
            self.default_max_cost,
            self.client.max_cost(),
            b.max_fee,
            window("Hourly", &status.hourly),
            window("Daily", &status.daily),
            window("Total", &status.total),
        );
        json_result(&BudgetReport {
            summary,
            default_max_cost_sat: crate::report::Sat(self.default_max_cost),
            max_cost_sat: crate::report::Sat(self.client.max_cost()),
            max_fee_sat: crate::report::Sat(status.max_fee),
            max_per_request_sat: status.max_per_request.map(crate::report::Sat),
            hourly: WindowReport::from(&status.hourly),
            daily: WindowReport::from(&status.daily),
            total: WindowReport::from(&status.total),
            per_domain: status
                .per_domain
                .iter()
                .map(|(d, w)| (d.clone(), WindowReport::from(w)))
                .collect(),
            allow_domains: b.allow_domains.clone(),
            deny_domains: b.deny_domains.clone(),
        })
    }

    /// `l402_receipts`: recent payments, newest first.
    pub async fn receipts(&self, args: ReceiptsArgs) -> CallToolResult {
        let limit = args
            .limit
            .unwrap_or(DEFAULT_RECEIPTS)
            .clamp(1, MAX_RECEIPTS);
        let receipts = match self.client.receipts(limit).await {
            Ok(r) => r,
            Err(e) => {
                return self
                    .failure(&e, self.default_max_cost, Vec::new(), None)
                    .await;
            }
        };
        let now = now_unix();
        let total: u64 = receipts.iter().map(|r| r.total().0).sum();
        let summary = if receipts.is_empty() {
            "No payments yet.".to_owned()
        } else {
            format!(
                "{} most recent payment(s), {} in all (amount plus fee).",
                receipts.len(),
                Msat(total)
            )
        };
        json_result(&ReceiptsReport {
            summary,
            receipts: receipts.iter().map(|r| ReceiptReport::of(r, now)).collect(),
        })
    }

    /// `l402_tokens`: held tokens, without secrets.
    pub async fn tokens(&self) -> CallToolResult {
        let tokens = match self.client.tokens().await {
            Ok(t) => t,
            Err(e) => {
                return self
                    .failure(&e, self.default_max_cost, Vec::new(), None)
                    .await;
            }
        };
        let now = now_unix();
        let summary = match tokens.len() {
            0 => "No tokens held: the next paid fetch of any API pays.".to_owned(),
            n => format!(
                "{n} token(s) held: fetches under their scope reuse them without paying (until \
                 they expire)."
            ),
        };
        json_result(&TokensReport {
            summary,
            tokens: tokens.iter().map(|t| TokenReport::of(t, now)).collect(),
        })
    }

    /// `l402_close_sessions`: closes every prepaid session held; the refunds are the sellers'.
    pub async fn close_sessions(&self) -> CallToolResult {
        let closed = match self.client.close_sessions().await {
            Ok(c) => c,
            Err(e) => {
                return self
                    .failure(&e, self.default_max_cost, Vec::new(), None)
                    .await;
            }
        };
        let refunded: u64 = closed
            .iter()
            .filter_map(|c| c.refund_received)
            .map(|r| r.0)
            .sum();
        let summary = match closed.len() {
            0 => "No prepaid session was open: nothing to close.".to_owned(),
            n => format!(
                "Closed {n} prepaid session(s); the wallet received {} sat in refunds.",
                refunded / 1000
            ),
        };
        json_result(&ClosedSessionsReport {
            summary,
            sessions: closed.iter().map(ClosedReport::of).collect(),
        })
    }

    /// A client whose maximum is `cap` (below the main client's), built once per distinct cap.
    fn capped(&self, cap: Msat) -> Result<Arc<L402Client>, ClientError> {
        let mut cache = self
            .state
            .capped
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = cache.get(&cap.0) {
            return Ok(c.clone());
        }
        let client = Arc::new((self.lower)(cap)?);
        if client.max_cost() > cap {
            return Err(ClientError::Internal(format!(
                "the lowered client's maximum {} is above the requested {cap}",
                client.max_cost()
            )));
        }
        if cache.len() >= CAPPED_CACHE {
            cache.clear();
        }
        cache.insert(cap.0, client.clone());
        Ok(client)
    }

    /// The client for a call whose maximum is `cap`: the main one, or a lowered copy when `cap`
    /// is below its maximum.
    pub(crate) fn client_for(&self, cap: Msat) -> Result<Arc<L402Client>, ClientError> {
        if cap >= self.client.max_cost() {
            Ok(self.client.clone())
        } else {
            self.capped(cap)
        }
    }

    /// What is left of the budget, if the store answers.
    pub(crate) async fn budget_left(&self, host: Option<&str>) -> Option<BudgetLeft> {
        match self.client.budget_status().await {
            Ok(s) => Some(BudgetLeft::of(&s, host)),
            Err(e) => {
                tracing::warn!(error = %e, "budget status unavailable");
                None
            }
        }
    }

    /// The error result for a client error.
    pub(crate) async fn failure(
        &self,
        err: &ClientError,
        cap: Msat,
        notes: Vec<String>,
        host: Option<&str>,
    ) -> CallToolResult {
        let (kind, hint) = classify(err, cap, self.client.max_cost());
        tracing::info!(error = %err, kind, "l402 tool call failed");
        ErrorReport {
            error: kind,
            message: err.to_string(),
            hint,
            nothing_paid: err.nothing_paid(),
            payment: None,
            budget_left: self.budget_left(host).await,
            notes,
        }
        .into_result()
    }
}

#[tool_router]
impl L402McpServer {
    #[tool(
        name = "l402_fetch",
        description = "Fetches a URL, paying an L402 (HTTP 402) price within the budget.",
        annotations(
            title = "Fetch a URL, paying L402 prices within the budget",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn l402_fetch_tool(
        &self,
        Parameters(args): Parameters<FetchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.fetch(args).await)
    }

    #[tool(
        name = "l402_budget",
        description = "Shows the spending budget.",
        annotations(
            title = "Spending budget",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn l402_budget_tool(&self) -> Result<CallToolResult, ErrorData> {
        Ok(self.budget().await)
    }

    #[tool(
        name = "l402_receipts",
        description = "Lists recent payments.",
        annotations(
            title = "Recent payments",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn l402_receipts_tool(
        &self,
        Parameters(args): Parameters<ReceiptsArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.receipts(args).await)
    }

    #[tool(
        name = "l402_discover",
        description = "Lists what a host sells and at what price.",
        annotations(
            title = "What a host sells (L402 discovery)",
            read_only_hint = true,
            open_world_hint = true
        )
    )]
    async fn l402_discover_tool(
        &self,
        Parameters(args): Parameters<crate::discovery_tools::DiscoverArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.discover(args).await)
    }

    #[tool(
        name = "l402_quote",
        description = "Prices one request before paying.",
        annotations(
            title = "Price a request (L402 quote)",
            read_only_hint = true,
            open_world_hint = true
        )
    )]
    async fn l402_quote_tool(
        &self,
        Parameters(args): Parameters<crate::discovery_tools::QuoteArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.quote(args).await)
    }

    #[tool(
        name = "l402_close_sessions",
        description = "Closes the prepaid sessions held; the rest of each deposit is refunded.",
        annotations(
            title = "Close prepaid sessions (refund what is left)",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn l402_close_sessions_tool(&self) -> Result<CallToolResult, ErrorData> {
        Ok(self.close_sessions().await)
    }

    #[tool(
        name = "l402_tokens",
        description = "Lists held tokens and the seconds each has left.",
        annotations(
            title = "Held L402 tokens",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn l402_tokens_tool(&self) -> Result<CallToolResult, ErrorData> {
        Ok(self.tokens().await)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for L402McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("l402-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(self.instructions())
    }
}

/// The client request for `args`.
fn request_spec(args: &FetchArgs) -> Result<RequestSpec, ClientError> {
    let method = args.method.as_deref().unwrap_or("GET").trim();
    let method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| ClientError::InvalidRequest(format!("bad HTTP method {method:?}")))?;
    let mut spec = RequestSpec::new(method, &args.url)?;
    let mut has_content_type = false;
    for (name, value) in args.headers.iter().flatten() {
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        spec = spec.header(name, value)?;
    }
    if let Some(body) = &args.body {
        if !has_content_type {
            let ct = if serde_json::from_str::<serde_json::Value>(body).is_ok() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            spec = spec.header("content-type", ct)?;
        }
        spec = spec.body(body.clone().into_bytes());
    }
    Ok(spec)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_spec_defaults_and_content_type() {
        let spec = request_spec(&FetchArgs {
            url: "http://h/x".into(),
            method: Some("post".into()),
            body: Some("{\"a\":1}".into()),
            ..FetchArgs::default()
        })
        .unwrap();
        assert_eq!(spec.method, http::Method::POST);
        assert_eq!(spec.headers["content-type"], "application/json");
        let spec = request_spec(&FetchArgs {
            url: "http://h/x".into(),
            headers: Some(BTreeMap::from([("Content-Type".into(), "text/csv".into())])),
            body: Some("a,b".into()),
            ..FetchArgs::default()
        })
        .unwrap();
        assert_eq!(spec.method, http::Method::GET);
        assert_eq!(spec.headers["content-type"], "text/csv");
        assert!(
            request_spec(&FetchArgs {
                url: "http://h/x".into(),
                method: Some("BAD METHOD".into()),
                ..FetchArgs::default()
            })
            .is_err()
        );
    }

    #[test]
    fn fetch_args_refuse_unknown_fields() {
        let e = serde_json::from_value::<FetchArgs>(serde_json::json!({
            "url": "http://h/", "max_cost": 5
        }));
        assert!(e.is_err());
    }
}

#[cfg(test)]
mod shared_wallet_tests {
    use super::*;

    #[test]
    fn the_wallet_opens_once_for_every_client_given_it() {
        let config = ClientConfig::from_toml(
            "[wallet]\nkind = \"lnbits\"\n[wallet.lnbits]\nurl = \"http://127.0.0.1:9\"\napi_key = \"k\"\n",
            None,
        )
        .unwrap();
        let shared = SharedWallet::new(&config);
        let (main, lowered) = (shared.opener(), shared.clone().opener());
        let first = main().unwrap();
        assert!(
            Arc::ptr_eq(&first, &lowered().unwrap()),
            "one wallet, shared"
        );
        assert!(Arc::ptr_eq(&first, &main().unwrap()));
    }
}
