//! The entry a public L402 directory ingests for one seller (`l402 discover --export`): who
//! sells, where its documents are, and each service's price range. Written by the buyer from
//! a manifest it fetched.

use serde::{Deserialize, Serialize};

use crate::Manifest;

/// The format of [`DirectoryEntry`].
pub const DIRECTORY_FORMAT: &str = "l402-directory-entry/1";

/// One seller, as a directory lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// [`DIRECTORY_FORMAT`].
    pub format: String,
    /// The seller's origin (`https://api.example.com`).
    pub origin: String,
    /// The manifest's absolute URL.
    pub manifest_url: String,
    /// The OpenAPI document's absolute URL, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_url: Option<String>,
    /// The quote endpoint's absolute URL, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_url: Option<String>,
    /// The provider's name.
    pub name: String,
    /// The Lightning node paid, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_pubkey: Option<String>,
    /// How invoices are paid.
    pub payment_methods: Vec<String>,
    /// The services sold (free ones left out).
    pub services: Vec<DirectoryService>,
    /// When the manifest was read (unix seconds).
    pub fetched_at: u64,
}

/// One service of a [`DirectoryEntry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryService {
    /// Its name.
    pub name: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The cheapest priced resource, in millisatoshis.
    pub min_price_msat: u64,
    /// The dearest priced resource, in millisatoshis.
    pub max_price_msat: u64,
    /// The capabilities its tokens carry.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Token lifetime in seconds; absent: no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime_secs: Option<u64>,
    /// How many priced resources it lists.
    pub priced_resources: usize,
}

impl DirectoryEntry {
    /// The entry for `manifest`, read from `manifest_url` at `origin` at unix time
    /// `fetched_at`. Relative document paths become absolute URLs on `origin`.
    pub fn from_manifest(
        origin: &str,
        manifest_url: &str,
        manifest: &Manifest,
        fetched_at: u64,
    ) -> Self {
        let absolute = |p: &Option<String>| {
            p.as_ref().map(|p| {
                if p.starts_with('/') {
                    format!("{origin}{p}")
                } else {
                    p.clone()
                }
            })
        };
        let services = manifest
            .services
            .iter()
            .filter_map(|s| {
                let prices: Vec<u64> = s
                    .resources
                    .iter()
                    .filter_map(|r| r.pricing.price_msat)
                    .filter(|p| *p > 0)
                    .collect();
                Some(DirectoryService {
                    name: s.name.clone(),
                    description: s.description.clone(),
                    min_price_msat: *prices.iter().min()?,
                    max_price_msat: *prices.iter().max()?,
                    capabilities: s.capabilities.clone(),
                    token_lifetime_secs: s.token_lifetime_secs,
                    priced_resources: prices.len(),
                })
            })
            .collect();
        Self {
            format: DIRECTORY_FORMAT.to_owned(),
            origin: origin.to_owned(),
            manifest_url: manifest_url.to_owned(),
            openapi_url: absolute(&manifest.openapi),
            quote_url: absolute(&manifest.quote_endpoint),
            name: manifest.provider.name.clone(),
            node_pubkey: manifest.provider.node_pubkey.clone(),
            payment_methods: manifest.payment_methods.clone(),
            services,
            fetched_at,
        }
    }
}
