//! `l402_discover` and `l402_quote`: what a host sells and what a request would cost, so an
//! agent compares before it spends. Both pay nothing and use no budget.

use l402_client::discovery::QuoteRequest;
use l402_client::{DiscoverySource, Listing, QuoteOutcome};
use rmcp::model::CallToolResult;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::network_guard::surface;
use crate::report::json_result;
use crate::server::L402McpServer;

/// `l402_discover` arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverArgs {
    /// The seller's URL (http:// or https://); its origin's /.well-known/l402.json is read.
    pub url: String,
}

/// `l402_quote` arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteArgs {
    /// The seller's URL (http:// or https://); the quote is asked at its origin.
    pub url: String,
    /// The service to price (as listed by l402_discover). Optional when `path` is given.
    #[serde(default)]
    pub service: Option<String>,
    /// The request path to price (e.g. /api/weather).
    #[serde(default)]
    pub path: Option<String>,
    /// The request method (default GET).
    #[serde(default)]
    pub method: Option<String>,
    /// Capabilities the token must carry.
    #[serde(default)]
    pub capabilities: Option<Vec<String>>,
    /// The token lifetime wanted, in seconds.
    #[serde(default)]
    pub token_lifetime_secs: Option<u64>,
    /// The most you would pay, in sat (refused as unsatisfiable_budget when the price is above).
    #[serde(default)]
    pub max_price_sat: Option<u64>,
}

/// `l402_discover`'s result.
#[derive(Debug, Serialize)]
struct DiscoverReport {
    summary: String,
    source: DiscoverySource,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quote_endpoint: Option<String>,
    listings: Vec<Listing>,
    notes: Vec<String>,
}

/// `l402_quote`'s result.
#[derive(Debug, Serialize)]
struct QuoteReport {
    summary: String,
    #[serde(flatten)]
    outcome: QuoteOutcome,
}

impl L402McpServer {
    /// `l402_discover`: the host's manifest, else the price of the URL's 402. Pays nothing.
    pub async fn discover(&self, args: DiscoverArgs) -> CallToolResult {
        let found = match self.client().discover(&args.url).await.map_err(surface) {
            Ok(found) => found,
            Err(e) => {
                return self
                    .failure(&e, self.default_max_cost(), Vec::new(), None)
                    .await;
            }
        };
        let priced = found.listings.iter().filter(|l| l.price_msat > 0).count();
        let summary = match found.source {
            DiscoverySource::Manifest => format!(
                "{} publishes an L402 manifest: {} priced resource(s) in {} service(s). Prices \
                 are per token; nothing was paid. l402_quote prices one request exactly.",
                found.origin,
                priced,
                found.manifest.as_ref().map_or(0, |m| m.services.len()),
            ),
            DiscoverySource::Challenge => format!(
                "{} publishes no L402 manifest; the price is from a plain unpaid request's 402 \
                 ({} sat). Nothing was paid.",
                found.origin,
                found.listings.first().map_or(0, |l| l.price_sat),
            ),
            DiscoverySource::Nothing => format!(
                "{} publishes no L402 manifest and {} asked for no payment (free, or not an L402 \
                 API).",
                found.origin, found.url
            ),
        };
        json_result(&DiscoverReport {
            summary,
            source: found.source,
            provider: found.manifest.as_ref().map(|m| m.provider.name.clone()),
            quote_endpoint: found
                .manifest
                .as_ref()
                .and_then(|m| m.quote_endpoint.clone()),
            manifest_url: found.manifest_url,
            listings: found.listings,
            notes: found.notes,
        })
    }

    /// `l402_quote`: asks the seller what a request would cost. Pays nothing.
    pub async fn quote(&self, args: QuoteArgs) -> CallToolResult {
        let request = QuoteRequest {
            service: args.service,
            path: args.path,
            method: args.method,
            capabilities: args.capabilities.unwrap_or_default(),
            token_lifetime_secs: args.token_lifetime_secs,
            max_price_msat: args.max_price_sat.map(|s| s.saturating_mul(1000)),
            ..QuoteRequest::default()
        };
        let outcome = match self
            .client()
            .quote(&args.url, None, &request)
            .await
            .map_err(surface)
        {
            Ok(o) => o,
            Err(e) => {
                return self
                    .failure(&e, self.default_max_cost(), Vec::new(), None)
                    .await;
            }
        };
        let summary = match &outcome {
            QuoteOutcome::Quoted(q) if q.price_msat == 0 => format!(
                "Free: service {} asks no payment for this request.",
                q.service
            ),
            QuoteOutcome::Quoted(q) => format!(
                "A token for service {} costs {} sat{}. Nothing was paid: l402_fetch buys it \
                 (within the budget).",
                q.service,
                q.price_sat,
                q.token_lifetime_secs
                    .map(|s| format!(" and lasts {s} s"))
                    .unwrap_or_default()
            ),
            QuoteOutcome::Refused { status, error } => match error {
                Some(e) => format!("Refused ({status} {}): {}", e.code, e.message),
                None => format!(
                    "The seller answered HTTP {status} without a quote: it may not offer quotes; \
                     l402_discover lists its prices."
                ),
            },
        };
        let refused = matches!(outcome, QuoteOutcome::Refused { .. });
        let mut result = json_result(&QuoteReport { summary, outcome });
        if refused {
            result.is_error = Some(true);
        }
        result
    }
}
