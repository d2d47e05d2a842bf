//! What the seller publishes about itself, free and before routing: the manifest
//! (`/.well-known/l402.json`), the OpenAPI document with `x-payment-info` (`/openapi.json`) and
//! quotes (`POST /l402/quote`). Generated once at start from the configuration and the
//! upstreams' own OpenAPI documents; the document types are `l402-discovery`'s.

mod catalog;
mod endpoints;
mod manifest;
mod openapi_doc;
mod quote;

use l402_discovery::Manifest;
use serde_json::Value;

use crate::config::{ConfigError, SellerConfig};
use crate::openapi::{Source, load};
pub use endpoints::Discovery;

/// The manifest `config` publishes, for a Lightning node with public key `node_pubkey`.
pub fn manifest(config: &SellerConfig, node_pubkey: Option<String>) -> Manifest {
    manifest::manifest(config, node_pubkey)
}

/// The OpenAPI document `config` publishes; `upstream[i]` is the `i`-th service's own document
/// (see [`upstream_documents`]).
pub fn openapi(config: &SellerConfig, upstream: &[Option<Value>]) -> Result<Value, ConfigError> {
    let catalog = catalog::Catalog::new(config)?;
    Ok(openapi_doc::document(
        config,
        upstream,
        &catalog,
        &provider_name(config),
    ))
}

/// Each service's own OpenAPI document (`openapi` in its `[[services]]` entry), read or
/// fetched now; one that cannot be read is logged and left out.
pub async fn upstream_documents(config: &SellerConfig) -> Vec<Option<Value>> {
    let mut out = Vec::with_capacity(config.l402.services.len());
    for (i, terms) in config.l402.services.iter().enumerate() {
        let doc = match &terms.openapi {
            Some(source) => match load(&Source::parse(source)).await {
                Ok(doc) => Some(doc),
                Err(error) => {
                    tracing::warn!(service = i, %error, "the service's OpenAPI document is not merged into /openapi.json");
                    None
                }
            },
            None => None,
        };
        out.push(doc);
    }
    out
}

fn provider_name(config: &SellerConfig) -> String {
    config
        .l402
        .discovery
        .provider_name
        .clone()
        .unwrap_or_else(|| manifest::DEFAULT_PROVIDER_NAME.to_owned())
}
