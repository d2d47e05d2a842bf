//! A paid MCP server on loopback (streamable HTTP at `/mcp`, rmcp's server with sessions and
//! SSE answers) that sells tool calls with the `Payment` scheme's MCP transport, Lightning
//! charge: real challenges minted with `l402-mpp` (HMAC-bound ids, invoices from a dev wallet),
//! real verification, single use.
//!
//! Tools: `echo {text}` (free: answers the text) and `search {q}` (priced: answers
//! `results for <q>`). An unpaid `search` gets JSON-RPC error `-32042` with one challenge (or,
//! in [`PaidMcpOptions::challenge_in_result`] mode, a result whose
//! `_meta["org.paymentauth/payment-required"]` holds it, as mppx does); a verified credential
//! gets the result with `_meta["org.paymentauth/receipt"]`; a replayed or wrong one gets
//! `-32043` with a fresh challenge.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use l402_core::{Msat, PaymentHash};
use l402_lightning::dev::DevWallet;
use l402_lightning::{CreateInvoice, LightningBackend};
use l402_mpp::charge::{ChargeOffer, ChargeVerifier, Expectation};
use l402_mpp::mcp;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode,
    Implementation, ListToolsResult, MetaObject, PaginatedRequestParams, RequestMetaObject,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler};
use serde_json::{Value, json};

use crate::wallet::open_dev_wallet;

/// The priced tool.
pub const PRICED_TOOL: &str = "search";
/// The free tool.
pub const FREE_TOOL: &str = "echo";

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct PaidMcpOptions {
    /// The price of a `search` call, in sat.
    pub price_sat: u64,
    /// The invoice amount in sat, when it should disagree with the request's `amount` (a
    /// dishonest server); `None`: the price.
    pub invoice_sat: Option<u64>,
    /// Put the challenge in a tool result's `_meta` instead of a JSON-RPC error.
    pub challenge_in_result: bool,
    /// The challenge's lifetime in seconds (0 mints already-expired challenges).
    pub challenge_secs: u64,
    /// Sell nothing: `search` answers every call, as an upstream behind `l402 serve` whose
    /// paywall sells it (see [`PaidMcpServer::seen`]).
    pub free: bool,
}

/// What a free server saw of one `search` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenCall {
    /// The `q` argument.
    pub q: String,
    /// The keys of the call's `_meta`, sorted.
    pub meta_keys: Vec<String>,
    /// Its `X-L402-Payment-Hash` header, if any.
    pub payment_hash_header: Option<String>,
}

impl Default for PaidMcpOptions {
    fn default() -> Self {
        Self {
            price_sat: 10,
            invoice_sat: None,
            challenge_in_result: false,
            challenge_secs: 300,
            free: false,
        }
    }
}

struct State {
    wallet: Arc<DevWallet>,
    verifier: ChargeVerifier,
    options: PaidMcpOptions,
    consumed: Mutex<HashSet<PaymentHash>>,
    challenges: AtomicUsize,
    paid_calls: AtomicUsize,
    refuse_credentials: AtomicBool,
    seen: Mutex<Vec<SeenCall>>,
}

/// A running paid MCP server.
pub struct PaidMcpServer {
    /// `http://127.0.0.1:<port>/mcp`.
    pub url: String,
    /// The seller's dev wallet directory.
    pub wallet_dir: PathBuf,
    state: Arc<State>,
    _task: tokio::task::JoinHandle<()>,
}

impl PaidMcpServer {
    /// Starts a server whose invoices come from the dev wallet in `wallet_dir` (share it with
    /// the buyer's wallet so its payments succeed).
    pub async fn start_in(options: PaidMcpOptions, wallet_dir: &Path) -> Self {
        let state = Arc::new(State {
            wallet: open_dev_wallet(wallet_dir),
            verifier: ChargeVerifier::new("paid-mcp.test", b"paid-mcp test secret".to_vec()),
            options,
            consumed: Mutex::default(),
            challenges: AtomicUsize::new(0),
            paid_calls: AtomicUsize::new(0),
            refuse_credentials: AtomicBool::new(false),
            seen: Mutex::default(),
        });
        let handler = Handler(state.clone());
        let service = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(LocalSessionManager::default()),
            StreamableHttpServerConfig::default(),
        );
        let app = axum::Router::new().route_service("/mcp", service);
        let (port, task) = crate::paid_server::serve_on_loopback(app).await;
        Self {
            url: format!("http://127.0.0.1:{port}/mcp"),
            wallet_dir: wallet_dir.to_owned(),
            state,
            _task: task,
        }
    }

    /// How many challenges the server minted.
    pub fn challenges(&self) -> usize {
        self.state.challenges.load(Ordering::SeqCst)
    }

    /// How many priced calls a credential let through.
    pub fn paid_calls(&self) -> usize {
        self.state.paid_calls.load(Ordering::SeqCst)
    }

    /// The `search` calls a [free](PaidMcpOptions::free) server answered, in order.
    pub fn seen(&self) -> Vec<SeenCall> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Refuse every credential (answer `-32043` with a fresh challenge) or not.
    pub fn set_refuse_credentials(&self, on: bool) {
        self.state.refuse_credentials.store(on, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Handler(Arc<State>);

fn tool(name: &'static str, description: &'static str, arg: &'static str) -> Tool {
    let schema =
        json!({"type": "object", "properties": {arg: {"type": "string"}}, "required": [arg]});
    let Value::Object(schema) = schema else {
        unreachable!("an object literal")
    };
    Tool::new(name, description, Arc::new(schema))
}

fn text_result(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

impl Handler {
    /// The JSON-RPC `data` of a payment-required answer, with a freshly minted challenge.
    async fn payment_required(&self) -> Value {
        let s = &self.0;
        let invoice_sat = s.options.invoice_sat.unwrap_or(s.options.price_sat);
        let invoice = s
            .wallet
            .create_invoice(CreateInvoice {
                amount: Msat::from_sat(invoice_sat),
                memo: format!("MCP {PRICED_TOOL}"),
                expiry_secs: 600,
            })
            .await
            .expect("the dev wallet mints an invoice");
        let challenge = s
            .verifier
            .challenge(&ChargeOffer {
                invoice: &invoice.bolt11,
                payment_hash: invoice.payment_hash,
                amount_sat: s.options.price_sat,
                network: "regtest",
                expires_unix: crate::now_unix() + s.options.challenge_secs,
                scope: Some(PRICED_TOOL),
                description: Some("one search"),
            })
            .expect("a challenge");
        s.challenges.fetch_add(1, Ordering::SeqCst);
        json!({"httpStatus": 402, "challenges": [mcp::challenge_to_json(&challenge).unwrap()]})
    }

    /// `meta` is the request's `_meta`: rmcp moves the wire `params._meta` into the request
    /// context before dispatch (the typed params' `meta` stays empty).
    async fn priced(
        &self,
        params: &CallToolRequestParams,
        meta: &RequestMetaObject,
    ) -> Result<CallToolResult, ErrorData> {
        let s = &self.0;
        let credential = meta.get(mcp::CREDENTIAL_META_KEY).cloned();
        let Some(credential) = credential else {
            let data = self.payment_required().await;
            if s.options.challenge_in_result {
                let mut result =
                    CallToolResult::error(vec![ContentBlock::text("Payment Required")]);
                let mut meta = MetaObject::default();
                meta.insert(mcp::PAYMENT_REQUIRED_META_KEY.into(), data);
                result.meta = Some(meta);
                return Ok(result);
            }
            return Err(ErrorData::new(
                ErrorCode(mcp::PAYMENT_REQUIRED_CODE),
                "Payment Required",
                Some(data),
            ));
        };
        let failed = |reason: String| async move {
            let mut data = self.payment_required().await;
            data["failure"] = json!({"reason": "verification-failed", "detail": reason});
            Err(ErrorData::new(
                ErrorCode(mcp::VERIFICATION_FAILED_CODE),
                "Payment Verification Failed",
                Some(data),
            ))
        };
        if s.refuse_credentials.load(Ordering::SeqCst) {
            return failed("refusing every credential".into()).await;
        }
        let credential = match mcp::credential_from_json(&credential) {
            Ok(c) => c,
            Err(e) => {
                return Err(ErrorData::invalid_params(e.to_string(), None));
            }
        };
        let verified = match s.verifier.verify(
            &credential,
            &Expectation {
                price_sat: s.options.price_sat,
                scope: Some(PRICED_TOOL),
                now_unix: crate::now_unix(),
            },
        ) {
            Ok(v) => v,
            Err(e) => return failed(e.to_string()).await,
        };
        if !s.consumed.lock().unwrap().insert(verified.payment_hash) {
            return failed("the credential was already used".into()).await;
        }
        s.paid_calls.fetch_add(1, Ordering::SeqCst);
        let q = params
            .arguments
            .as_ref()
            .and_then(|a| a.get("q"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut result = text_result(format!("results for {q}"));
        let receipt = l402_mpp::Receipt::lightning_charge(
            l402_mpp::time::format(crate::now_unix()),
            verified.payment_hash.to_hex(),
            verified.challenge_id,
        );
        let mut meta = MetaObject::default();
        meta.insert(
            mcp::RECEIPT_META_KEY.into(),
            serde_json::to_value(receipt).unwrap(),
        );
        result.meta = Some(meta);
        Ok(result)
    }
}

impl Handler {
    /// `search` on a free server: answered, and what it saw recorded.
    fn free_search(
        &self,
        params: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let q = params
            .arguments
            .as_ref()
            .and_then(|a| a.get("q"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut meta_keys: Vec<String> = context.meta.keys().cloned().collect();
        meta_keys.sort();
        let payment_hash_header = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.headers.get("x-l402-payment-hash"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.0.seen.lock().unwrap().push(SeenCall {
            q: q.clone(),
            meta_keys,
            payment_hash_header,
        });
        text_result(format!("results for {q}"))
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("paid-mcp-test", "0"))
            .with_instructions("A test server selling search calls.")
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            tool(FREE_TOOL, "Echoes the text (free).", "text"),
            tool(PRICED_TOOL, "Searches (paid per call).", "q"),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let result = match request.name.as_ref() {
            FREE_TOOL => Ok(text_result(
                request
                    .arguments
                    .as_ref()
                    .and_then(|a| a.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )),
            PRICED_TOOL if self.0.options.free => Ok(self.free_search(&request, &context)),
            PRICED_TOOL => self.priced(&request, &context.meta).await,
            other => Err(ErrorData::invalid_params(
                format!("no tool named {other}"),
                None,
            )),
        };
        result.map(Into::into)
    }
}
