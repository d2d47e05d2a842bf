//! The operator's MCP server (`l402 mcp --admin`): the seller's admin API as tools, so an
//! operator's agent can answer "what did we earn this week" or revoke a token. It talks to a
//! running `l402 serve --admin-listen` through [`l402_admin_client`] with an admin macaroon:
//! read-only tools always (`admin_status`, `admin_stats`, `admin_invoices`, `admin_services`,
//! `admin_revocations`); `admin_revoke`, `admin_restore` and `admin_reload` only when the macaroon given has
//! full access (checked at start: a read-only macaroon never lists them).

use std::fmt;
use std::sync::Arc;

use l402_admin_client::{AdminClient, AdminClientError, Method, encode_component};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::McpError;

/// The write tools, listed only with a full-access macaroon.
pub const WRITE_TOOLS: [&str; 3] = ["admin_revoke", "admin_restore", "admin_reload"];

/// `admin_stats` arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsArgs {
    /// Days back, today included (default 7, at most 3660).
    #[serde(default)]
    pub days: Option<u32>,
}

/// `admin_invoices` arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicesArgs {
    /// Only this service's.
    #[serde(default)]
    pub service: Option<String>,
    /// `paid`, `unpaid` or `all` (default).
    #[serde(default)]
    pub state: Option<String>,
    /// Rows, newest first (default 20, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `admin_revoke` / `admin_restore` arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenArgs {
    /// The token id (64 hex characters, as `admin_invoices` lists it).
    pub token_id: String,
    /// Why (kept with the revocation).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The admin MCP server. Cheap to clone.
#[derive(Clone)]
pub struct AdminMcpServer {
    client: Arc<AdminClient>,
    full: bool,
    tool_router: ToolRouter<AdminMcpServer>,
}

impl fmt::Debug for AdminMcpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminMcpServer")
            .field("client", &self.client)
            .field("full", &self.full)
            .finish_non_exhaustive()
    }
}

fn text_result(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

fn error_result(e: &AdminClientError) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!("{e}"))])
}

impl AdminMcpServer {
    /// Connects to the admin API with `client` and asks what its macaroon may do; fails when
    /// the API cannot be reached or refuses the macaroon, so a misconfigured server never
    /// starts.
    pub async fn connect(client: AdminClient) -> Result<Self, McpError> {
        let status = client
            .call(Method::Get, "/api/v1/status", None)
            .await
            .map_err(McpError::Admin)?;
        let full = status["role"] == "full";
        let mut server = Self {
            client: Arc::new(client),
            full,
            tool_router: Self::tool_router(),
        };
        if !full {
            for name in WRITE_TOOLS {
                server.tool_router.map.remove(name);
            }
        }
        Ok(server)
    }

    /// Whether the macaroon has full access (the write tools are listed).
    pub fn full_access(&self) -> bool {
        self.full
    }

    /// The tools as listed, sorted by name.
    pub fn tools(&self) -> Vec<Tool> {
        let mut tools = self.tool_router.list_all();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        tools
    }

    async fn get(&self, path: &str) -> Result<Value, AdminClientError> {
        self.client.call(Method::Get, path, None).await
    }

    /// `admin_stats`: the answer with a sentence on top.
    pub async fn stats(&self, args: StatsArgs) -> CallToolResult {
        let days = args.days.unwrap_or(7);
        match self.get(&format!("/api/v1/stats?days={days}")).await {
            Ok(stats) => {
                let totals = stats["revenue_by_service"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let msat: u64 = totals
                    .values()
                    .filter_map(|t| t["revenue_msat"].as_u64())
                    .sum();
                let paid: u64 = totals.values().filter_map(|t| t["settled"].as_u64()).sum();
                let parts: Vec<String> = totals
                    .iter()
                    .map(|(s, t)| {
                        format!(
                            "{s} {}",
                            l402_core::Msat(t["revenue_msat"].as_u64().unwrap_or(0))
                        )
                    })
                    .collect();
                let summary = format!(
                    "Revenue over the last {days} day(s) (UTC, by settlement day): {} from {paid} \
                     paid invoice(s){}.",
                    l402_core::Msat(msat),
                    if parts.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", parts.join(", "))
                    }
                );
                text_result(format!("{summary}\n{stats:#}"))
            }
            Err(e) => error_result(&e),
        }
    }

    /// `admin_invoices`.
    pub async fn invoices(&self, args: InvoicesArgs) -> CallToolResult {
        let mut query = format!("limit={}", args.limit.unwrap_or(20));
        if let Some(s) = &args.service {
            query.push_str(&format!("&service={}", encode_component(s)));
        }
        if let Some(s) = &args.state {
            query.push_str(&format!("&state={}", encode_component(s)));
        }
        match self.get(&format!("/api/v1/invoices?{query}")).await {
            Ok(v) => text_result(format!("{v:#}")),
            Err(e) => error_result(&e),
        }
    }

    /// `admin_reload`.
    pub async fn reload(&self) -> CallToolResult {
        match self.client.call(Method::Post, "/api/v1/reload", None).await {
            Ok(v) => text_result(format!(
                "Reloaded: {} services, {} routes now in force. {v}",
                v["services"], v["routes"]
            )),
            Err(e) => error_result(&e),
        }
    }

    /// `admin_revoke` (`undo` false) or `admin_restore`.
    pub async fn revoke(&self, args: TokenArgs, undo: bool) -> CallToolResult {
        let path = format!(
            "/api/v1/tokens/{}/revoke",
            encode_component(args.token_id.trim())
        );
        let result = if undo {
            self.client.call(Method::Delete, &path, None).await
        } else {
            let body = json!({"reason": args.reason.unwrap_or_else(|| "revoked by the operator's agent".into())});
            self.client.call(Method::Post, &path, Some(&body)).await
        };
        match result {
            Ok(v) => text_result(format!(
                "{} {}: {v}",
                if undo { "Restored" } else { "Revoked" },
                args.token_id.trim()
            )),
            Err(e) => error_result(&e),
        }
    }
}

#[tool_router]
impl AdminMcpServer {
    #[tool(
        name = "admin_status",
        description = "The seller's health: version, uptime, Lightning backend (answering? network, latency), store (health, invoice and revocation counts).",
        annotations(
            title = "Seller status",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_status(&self) -> Result<CallToolResult, ErrorData> {
        Ok(match self.get("/api/v1/status").await {
            Ok(v) => text_result(format!("{v:#}")),
            Err(e) => error_result(&e),
        })
    }

    #[tool(
        name = "admin_stats",
        description = "What the seller earned: revenue per UTC day and service over the last `days` days (default 7), totals per service, and requests per route by outcome (paid, free, 402, 429, 503) since the proxy started. Amounts in millisatoshis in the JSON; the first line sums it up in sat.",
        annotations(
            title = "Revenue and requests",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_stats(
        &self,
        Parameters(args): Parameters<StatsArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.stats(args).await)
    }

    #[tool(
        name = "admin_invoices",
        description = "Challenges and their payments, newest first: service, amount (msat), state (paid/unpaid), token id, times. Filter by service and state.",
        annotations(
            title = "Invoices and payments",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_invoices(
        &self,
        Parameters(args): Parameters<InvoicesArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.invoices(args).await)
    }

    #[tool(
        name = "admin_services",
        description = "What the seller sells now: each service with its path prefix, price, token lifetime and capabilities, and its routes with their prices.",
        annotations(
            title = "Services and prices",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_services(&self) -> Result<CallToolResult, ErrorData> {
        Ok(match self.get("/api/v1/services").await {
            Ok(v) => text_result(format!("{v:#}")),
            Err(e) => error_result(&e),
        })
    }

    #[tool(
        name = "admin_reload",
        description = "Makes the seller read its configuration file again and apply it without a restart (after someone edited prices or services in it). A file that does not pass is refused with the reason and the running configuration stays. Ask the user before reloading.",
        annotations(
            title = "Reload the configuration",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_reload(&self) -> Result<CallToolResult, ErrorData> {
        Ok(self.reload().await)
    }

    #[tool(
        name = "admin_revocations",
        description = "Revoked tokens: token id, when, why.",
        annotations(
            title = "Revoked tokens",
            read_only_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_revocations(&self) -> Result<CallToolResult, ErrorData> {
        Ok(match self.get("/api/v1/revocations").await {
            Ok(v) => text_result(format!("{v:#}")),
            Err(e) => error_result(&e),
        })
    }

    #[tool(
        name = "admin_revoke",
        description = "Revokes a token the seller sold: every request with it is refused from now on (on every instance sharing the store within 2 s). The buyer is not refunded. Ask the user before revoking.",
        annotations(
            title = "Revoke a token",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_revoke(
        &self,
        Parameters(args): Parameters<TokenArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.revoke(args, false).await)
    }

    #[tool(
        name = "admin_restore",
        description = "Restores a revoked token: it opens its service again.",
        annotations(
            title = "Restore a token",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn admin_restore(
        &self,
        Parameters(args): Parameters<TokenArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.revoke(args, true).await)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for AdminMcpServer {
    fn get_info(&self) -> ServerConfig {
        let access = if self.full {
            "full access: admin_revoke and admin_restore change what buyers can use; ask the user first"
        } else {
            "read-only"
        };
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "l402-mcp-admin",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(format!(
                "Tools over an L402 seller's admin API ({access}). admin_stats answers what was \
                 earned; admin_invoices lists sales; admin_status says whether the Lightning \
                 backend and store are healthy."
            ))
    }
}
