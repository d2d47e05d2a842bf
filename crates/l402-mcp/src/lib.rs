//! An MCP server for AI agents over the L402 buyer ([`l402_client`]): a model fetches paid APIs
//! and the server pays their Lightning invoices within the user's budget.
//!
//! Tools (see [`L402McpServer`]):
//!
//! * `l402_fetch` `{url, method?, headers?, body?, max_cost_sat?}`: fetches a URL, paying an
//!   HTTP 402 / L402 challenge automatically within the budget. The result gives the status,
//!   content type and body (text, truncated with a note; small binary bodies as base64), what
//!   *this* call paid (amount, fee, payment hash, or that a held token was reused) and the
//!   budget left. `max_cost_sat` can only lower the configured maximum.
//! * `l402_budget`: limits, spent and remaining per window (hour, day, total) and per domain.
//! * `l402_receipts` `{limit?}`: recent payments.
//! * `l402_tokens`: held tokens (scope, amount, expiry), never macaroons or preimages.
//! * `l402_close_sessions`: closes the prepaid sessions held; each seller refunds what is left
//!   of the deposits, and what the wallet receives goes back to the budget.
//! * `l402_discover` `{url}`: what a host sells and at what price (its
//!   `/.well-known/l402.json`, else the price of a plain unpaid request's 402). Pays nothing.
//! * `l402_quote` `{url, service?, path?, method?, capabilities?, token_lifetime_secs?,
//!   max_price_sat?}`: what one request would cost (`POST /l402/quote`). Pays nothing.
//!
//! Refusals (over budget, over the maximum cost, domain not allowed) and payment failures are
//! tool results with `isError: true`, the client's message (naming the limit and the
//! overshoot) and a hint the model can act on. The server never pays outside the budget: the
//! client checks every invoice against the limits before calling the wallet.
//!
//! Fronting a remote paid MCP server: [`UpstreamMcpServer`] (`l402 mcp --upstream URL`)
//! offers a local agent the tools of one remote streamable-HTTP MCP server plus `l402_budget`
//! and `l402_receipts`, forwards its calls, and pays every call the remote prices with the
//! `Payment` scheme's MCP transport (JSON-RPC error `-32042` with a Lightning charge challenge,
//! or a result carrying `_meta["org.paymentauth/payment-required"]`) within the same budget,
//! retrying once with the credential in `_meta`. The remote's receipt comes back in the
//! result's `_meta`, with what the call paid under [`PAYMENT_META_KEY`].
//!
//! The operator's side: [`admin::AdminMcpServer`] (`l402 mcp --admin`) puts a running
//! seller's admin API behind tools (revenue, invoices, health; revoke with a full-access
//! macaroon).
//!
//! Transports: [`serve_stdio`] for a local agent that spawns the server, and [`serve_http`]
//! (streamable HTTP at `/mcp`, loopback only) for agents that connect. The HTTP endpoint
//! requires a bearer token ([`load_or_create_token`]: generated on first run, kept in
//! [`TOKEN_FILE`] in the data directory, mode 0600) and refuses browser `Origin`s other than
//! loopback ones unless allowed; remote use needs a TLS-terminating reverse proxy in front
//! ([`serve_http_with`], [`HttpOptions::allow_remote`]).
//!
//! `l402_fetch`, `l402_discover` and `l402_quote` refuse loopback, private and link-local destinations (every redirect hop, and
//! names by the addresses they resolve to) unless `[mcp] allow_private_networks = true`
//! ([`PublicOnly`]); so does the upstream URL of [`UpstreamMcpServer`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), l402_mcp::McpError> {
//! let config = l402_client::ClientConfig::load(None)?;
//! let server = l402_mcp::L402McpServer::from_config(&config)?;
//! l402_mcp::serve_stdio(server).await
//! # }
//! ```

pub mod admin;
mod body;
mod discovery_tools;
mod error;
mod http_auth;
mod idle;
mod network_guard;
mod report;
mod server;
mod transport;
mod upstream;

pub use body::DEFAULT_MAX_BODY_BYTES;
pub use discovery_tools::{DiscoverArgs, QuoteArgs};
pub use error::McpError;
pub use http_auth::{
    BearerToken, TOKEN_FILE, http_options, load_or_create_token, origin_allowed, token_path,
};
pub use idle::IdleSessionCloser;
pub use network_guard::{ALLOW_PRIVATE_SETTING, PublicOnly, non_public};
pub use server::{
    DEFAULT_RECEIPTS, FetchArgs, L402McpServer, LowerMaxCost, MAX_RECEIPTS, ReceiptsArgs,
    TOOL_BUDGET, TOOL_CLOSE_SESSIONS, TOOL_DISCOVER, TOOL_FETCH, TOOL_QUOTE, TOOL_RECEIPTS,
    TOOL_TOKENS, lower_max_cost,
};
pub use transport::{
    HTTP_DRAIN, HttpOptions, HttpServer, MCP_PATH, serve_http, serve_http_with, serve_stdio,
};
pub use upstream::{PAYMENT_META_KEY, UpstreamMcpServer};
