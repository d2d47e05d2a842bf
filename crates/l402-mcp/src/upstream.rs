//! [`UpstreamMcpServer`] (`l402 mcp --upstream URL`): fronts one remote MCP server that sells
//! its tool calls (the `Payment` scheme's MCP transport, Lightning `charge`) for a local agent
//! host, paying each priced call within the budget.
//!
//! The local agent sees the remote server's tools (listed live from it, names, schemas and
//! descriptions unchanged) plus `l402_budget` and `l402_receipts` (a remote tool with one of
//! those names is hidden). `l402_fetch` and the other URL tools are not offered in this mode:
//! the agent was given one server, not the web.
//!
//! A `tools/call` is forwarded as it came (arguments and `_meta`). When the remote answers
//! JSON-RPC error `-32042` "Payment Required" (or, as mppx does, a result whose `_meta` holds
//! `org.paymentauth/payment-required`), the first Lightning charge challenge offered is paid
//! through [`L402Client::pay_json_charge`](l402_client::L402Client::pay_json_charge) (the
//! invoice checks, the per-call maximum, the budget with the remote's host as domain, the
//! journal, the receipt), and the call is sent once more with the credential in
//! `params._meta["org.paymentauth/credential"]`. The remote's result comes back unchanged,
//! its `_meta["org.paymentauth/receipt"]` included, with [`PAYMENT_META_KEY`] added to `_meta`
//! (what the call paid and the budget left). A refusal (over budget, over the maximum, an
//! unusable challenge) is a tool result with `isError: true`, the client's message and a hint,
//! and nothing is paid; a remote that still asks for payment after being paid is not paid
//! again (an error result naming the payment). Other JSON-RPC errors of the remote pass through.
//!
//! The remote URL obeys the same network guard as `l402_fetch`: loopback, private and
//! link-local hosts are refused unless `[mcp] allow_private_networks = true`.

use std::sync::Arc;

use l402_client::{ClientError, L402Client};
use reqwest::Url;
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleClient, RoleServer, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ErrorData, ServerHandler};
use serde_json::{Value, json};

use l402_client::DestinationGuard;
use l402_mpp::mcp::{
    CREDENTIAL_META_KEY, PAYMENT_REQUIRED_CODE, PAYMENT_REQUIRED_META_KEY,
    VERIFICATION_FAILED_CODE, challenges_of,
};

use crate::error::McpError;
use crate::network_guard::PublicOnly;
use crate::report::{ErrorReport, PaymentReport};
use crate::server::{L402McpServer, ReceiptsArgs, TOOL_BUDGET, TOOL_RECEIPTS};

/// The `_meta` key of a forwarded result that this front paid for: `{payment: {paid,
/// amount_sat, fee_sat, total_sat, payment_hash}, budget_left: {...}}`.
pub const PAYMENT_META_KEY: &str = "l402/payment";

/// The local tools offered beside the remote's.
const LOCAL_TOOLS: [&str; 2] = [TOOL_BUDGET, TOOL_RECEIPTS];

/// An MCP server whose tools are a remote paid MCP server's (forwarded, each priced call paid
/// within the budget) plus `l402_budget` and `l402_receipts`. See the module docs.
///
/// Cheap to clone (the streamable HTTP transport makes one per session); clones share the one
/// connection to the remote.
#[derive(Clone)]
pub struct UpstreamMcpServer {
    local: L402McpServer,
    upstream: Arc<Upstream>,
}

/// The connection to the remote.
struct Upstream {
    url: Url,
    service: RunningService<RoleClient, ClientConfig>,
}

impl std::fmt::Debug for UpstreamMcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamMcpServer")
            .field("upstream", &self.upstream.url.as_str())
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

/// The capabilities this front announces to the remote: it pays Lightning charges
/// (`experimental.payment.methods.lightning.intents`, as the draft's MCP transport says).
fn client_info() -> ClientConfig {
    let mut capabilities = ClientCapabilities::default();
    let payment = json!({"methods": {"lightning": {"intents": ["charge"]}}});
    let Value::Object(payment) = payment else {
        unreachable!("a JSON object literal")
    };
    capabilities.experimental = Some([("payment".to_owned(), payment)].into_iter().collect());
    ClientConfig::new(
        capabilities,
        Implementation::new("l402-mcp", env!("CARGO_PKG_VERSION")),
    )
}

impl UpstreamMcpServer {
    /// Connects to the remote streamable-HTTP MCP server at `url` (initializes a session with
    /// it) through `local`'s HTTP client (its TLS trust, timeouts and, unless
    /// `allow_private_networks`, its public-only DNS resolver), and fronts it with `local`'s
    /// client and budget. The URL itself is checked first: an IP literal or `localhost` name
    /// that is not public is refused unless `allow_private_networks` (the
    /// `[mcp] allow_private_networks` setting).
    pub async fn connect(
        local: L402McpServer,
        url: &str,
        allow_private_networks: bool,
    ) -> Result<Self, McpError> {
        let bad = |reason: String| McpError::UpstreamRefused {
            url: url.to_owned(),
            reason,
        };
        let parsed = Url::parse(url).map_err(|e| bad(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("use an http:// or https:// URL".into()));
        }
        if !allow_private_networks {
            PublicOnly.check(&parsed).map_err(bad)?;
        }
        let mut config = StreamableHttpClientTransportConfig::with_uri(parsed.as_str());
        config.reinit_on_expired_session = true;
        let transport =
            StreamableHttpClientTransport::with_client(local.client().http().clone(), config);
        let service = client_info()
            .serve(transport)
            .await
            .map_err(|e| McpError::Upstream {
                url: url.to_owned(),
                reason: format!("the MCP session could not be set up: {e}"),
            })?;
        tracing::info!(upstream = %parsed, "connected to the upstream MCP server");
        Ok(Self {
            local,
            upstream: Arc::new(Upstream {
                url: parsed,
                service,
            }),
        })
    }

    /// The remote server's URL.
    pub fn upstream_url(&self) -> &str {
        self.upstream.url.as_str()
    }

    /// The client that pays.
    pub fn client(&self) -> &L402Client {
        self.local.client()
    }

    /// The tools offered: the remote's (as it lists them now) and `l402_budget`,
    /// `l402_receipts`, sorted by name.
    pub async fn tools(&self) -> Result<Vec<Tool>, ErrorData> {
        let remote = self
            .upstream
            .service
            .peer()
            .list_all_tools()
            .await
            .map_err(|e| upstream_error("listing its tools", e))?;
        let mut tools: Vec<Tool> = self
            .local
            .tools()
            .into_iter()
            .filter(|t| LOCAL_TOOLS.contains(&t.name.as_ref()))
            .collect();
        for t in remote {
            if LOCAL_TOOLS.contains(&t.name.as_ref()) {
                tracing::warn!(tool = %t.name, "the upstream's tool is hidden by the local one of the same name");
                continue;
            }
            tools.push(t);
        }
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tools)
    }

    /// Handles one `tools/call`: a local tool, or the remote's, paid when it asks (see the
    /// module docs). Payment refusals and failures are results with `isError: true`.
    pub async fn call(&self, params: CallToolRequestParams) -> Result<CallToolResult, ErrorData> {
        match params.name.as_ref() {
            TOOL_BUDGET => return Ok(self.local.budget().await),
            TOOL_RECEIPTS => {
                let args: ReceiptsArgs =
                    serde_json::from_value(Value::Object(params.arguments.unwrap_or_default()))
                        .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
                return Ok(self.local.receipts(args).await);
            }
            _ => {}
        }
        let params = forwarded(params);
        let first = self.upstream.service.call_tool(params.clone()).await;
        let data = match first {
            Ok(result) => match payment_required_meta(&result) {
                Some(data) => data,
                None => return Ok(result),
            },
            Err(ServiceError::McpError(e)) if e.code.0 == PAYMENT_REQUIRED_CODE => {
                e.data.unwrap_or(Value::Null)
            }
            Err(ServiceError::McpError(e)) => return Err(e),
            Err(e) => return Err(upstream_error("calling a tool", e)),
        };
        self.pay_and_retry(params, &data).await
    }

    /// Pays the first Lightning charge among `data.challenges` and retries `params` once with
    /// the credential.
    async fn pay_and_retry(
        &self,
        mut params: CallToolRequestParams,
        data: &Value,
    ) -> Result<CallToolResult, ErrorData> {
        let host = self.upstream.url.host_str().map(str::to_ascii_lowercase);
        let host = host.as_deref();
        let cap = self.local.default_max_cost();
        let client = match self.local.client_for(cap) {
            Ok(c) => c,
            Err(e) => return Ok(self.local.failure(&e, cap, Vec::new(), host).await),
        };
        let challenges = challenges_of(data);
        let chosen = match l402_client::json_charge::choose_json_charge(
            client.payment_preference(),
            &challenges,
        ) {
            Ok(c) => c,
            Err(e) => return Ok(self.local.failure(&e, cap, Vec::new(), host).await),
        };
        let mut resource = self.upstream.url.clone();
        resource.set_fragment(Some(&params.name));
        let paid = match client.pay_json_charge(resource.as_str(), chosen).await {
            Ok(p) => p,
            Err(e) => return Ok(self.local.failure(&e, cap, Vec::new(), host).await),
        };
        tracing::info!(tool = %params.name, amount = %paid.receipt.amount, fee = %paid.receipt.fee, "paid an upstream MCP tool call");
        let payment = PaymentReport::of(Some(&paid.receipt), false);
        params
            .meta
            .get_or_insert_with(Default::default)
            .insert(CREDENTIAL_META_KEY.to_owned(), paid.credential);
        let again = self.upstream.service.call_tool(params).await;
        let budget_left = self.local.budget_left(host).await;
        let still = |detail: String| {
            let err =
                ClientError::Refused(l402_core::client::StopReason::StillRequiredAfterPayment);
            let (kind, hint) = crate::report::classify(&err, cap, client.max_cost());
            ErrorReport {
                error: kind,
                message: format!("{err}: {detail}"),
                hint,
                nothing_paid: false,
                payment: Some(payment.clone()),
                budget_left: budget_left.clone(),
                notes: Vec::new(),
            }
            .into_result()
        };
        match again {
            Ok(result) if payment_required_meta(&result).is_some() => {
                Ok(still("the tool result asks for payment again".to_owned()))
            }
            Ok(mut result) => {
                let report = json!({"payment": payment, "budget_left": budget_left});
                result
                    .meta
                    .get_or_insert_with(Default::default)
                    .insert(PAYMENT_META_KEY.to_owned(), report);
                Ok(result)
            }
            Err(ServiceError::McpError(e))
                if e.code.0 == PAYMENT_REQUIRED_CODE || e.code.0 == VERIFICATION_FAILED_CODE =>
            {
                Ok(still(format!(
                    "the server answered {} {:?}",
                    e.code.0, e.message
                )))
            }
            Err(e) => Ok(ErrorReport {
                error: "network",
                message: format!(
                    "the upstream MCP server failed after this call paid: {}",
                    match e {
                        ServiceError::McpError(e) => format!("error {} {}", e.code.0, e.message),
                        other => other.to_string(),
                    }
                ),
                hint: "The payment was made (see l402_receipts) but the call did not complete. \
                       Tell the user before calling the tool again: a new call pays again."
                    .to_owned(),
                nothing_paid: false,
                payment: Some(payment),
                budget_left,
                notes: Vec::new(),
            }
            .into_result()),
        }
    }

    /// The server instructions sent at initialization.
    pub fn instructions(&self) -> String {
        let mut text = format!(
            "The tools of the MCP server at {url}, which may charge per call over Lightning. \
             Priced calls are paid automatically from the user's budget (at most {max} per call, \
             never beyond the hourly, daily and total limits); a refused payment is an error \
             result and nothing is paid. l402_budget shows what is left, l402_receipts what \
             was paid.",
            url = self.upstream.url,
            max = self.local.default_max_cost(),
        );
        if let Some(theirs) = self
            .upstream
            .service
            .peer()
            .peer_info()
            .and_then(|i| i.instructions.clone())
        {
            text.push_str("\n\nThe server's own instructions: ");
            text.push_str(&theirs);
        }
        text
    }
}

/// The `_meta` keys of the MCP protocol itself (`io.modelcontextprotocol/…`: the protocol
/// version, the client's capabilities): those of the local session are not the front's
/// session with the remote, so they are not forwarded.
const PROTOCOL_META_PREFIX: &str = "io.modelcontextprotocol/";

/// The call as sent to the remote: the agent's arguments and `_meta`, without the local
/// session's protocol keys.
fn forwarded(mut params: CallToolRequestParams) -> CallToolRequestParams {
    if let Some(meta) = params.meta.as_mut() {
        meta.retain(|k, _| !k.starts_with(PROTOCOL_META_PREFIX));
        if meta.is_empty() {
            params.meta = None;
        }
    }
    params
}

/// The payment-required `data` a tool result carries in its `_meta` (mppx's variant).
fn payment_required_meta(result: &CallToolResult) -> Option<Value> {
    let data = result.meta.as_ref()?.get(PAYMENT_REQUIRED_META_KEY)?;
    (!challenges_of(data).is_empty()).then(|| data.clone())
}

/// A failure talking to the remote, as a JSON-RPC error for the local agent.
fn upstream_error(doing: &str, e: ServiceError) -> ErrorData {
    match e {
        ServiceError::McpError(e) => e,
        other => ErrorData::internal_error(
            format!("the upstream MCP server failed while {doing}: {other}"),
            None,
        ),
    }
}

impl ServerHandler for UpstreamMcpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("l402-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(self.instructions())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools().await?))
    }

    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        // rmcp moves the wire `params._meta` into the context before dispatch: put the
        // agent's `_meta` back on the call so it is forwarded.
        if request.meta.is_none() && !context.meta.is_empty() {
            request.meta = Some(context.meta);
        }
        self.call(request).await.map(Into::into)
    }
}
