//! Paid MCP tool calls: an `mcp = true` service's upstream is a Streamable-HTTP MCP server
//! whose `tools/call`s are sold one by one with the `Payment` scheme's MCP transport (Lightning
//! charge), priced by tool name (`[[services.tools]]`).
//!
//! The layer sits inside the paywall (which passes an MCP service's HTTP requests free) and
//! reads every `POST` of an MCP service ([`rpc::inspect`]):
//!
//! - a priced `tools/call` without a credential is answered by the proxy: JSON-RPC error
//!   `-32042` with a fresh challenge bound to `<service>/tools/<tool>` and the tool's price;
//! - with a credential in `params._meta["org.paymentauth/credential"]` (or the root `_meta`),
//!   the credential is verified in memory ([`Paywall::verify_call`]) and consumed once; the
//!   call is forwarded without it, with `X-L402-Service` and `X-L402-Payment-Hash`, and its
//!   result gains `_meta["org.paymentauth/receipt"]` (in a JSON answer or the server-sent event
//!   carrying it); a forged, expired, replayed or other tool's credential gets `-32043` with a
//!   fresh challenge;
//! - `initialize` answers advertise the Lightning charge in `capabilities.experimental`;
//!   everything else passes, serialised again exactly as parsed.

mod answer;
mod body;
mod rpc;
mod service;

use std::sync::Arc;

use l402_tower::Paywall;

use crate::pricing::PriceTable;

pub(crate) use service::McpToolsService;

/// The largest request body an MCP service's `POST` may carry.
pub(crate) const MAX_REQUEST_BYTES: usize = 1 << 20;
/// The largest JSON answer to a paid call or `initialize` the proxy edits.
pub(crate) const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Sells the priced tool calls of `mcp = true` services (see the module docs).
#[derive(Clone)]
pub(crate) struct McpToolsLayer {
    paywall: Arc<Paywall>,
    table: Arc<PriceTable>,
}

impl McpToolsLayer {
    /// Sells through `paywall` at the prices of `table`.
    pub(crate) fn new(paywall: Arc<Paywall>, table: Arc<PriceTable>) -> Self {
        Self { paywall, table }
    }
}

impl<S> tower::Layer<S> for McpToolsLayer {
    type Service = McpToolsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        McpToolsService::new(inner, self.paywall.clone(), self.table.clone())
    }
}

/// The scope a tool's challenges are bound to: a credential opens that tool of that service
/// only.
pub(crate) fn tool_scope(service: &str, tool: &str) -> String {
    format!("{service}/tools/{tool}")
}
