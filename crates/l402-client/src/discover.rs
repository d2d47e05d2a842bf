//! What a host sells, before paying: its manifest (`/.well-known/l402.json`, or the one a 402's
//! `Link: rel="l402-manifest"` names), else the price in a plain unpaid request's 402; and
//! quotes (`POST /l402/quote`). Every URL asked passes the client's destination guard; nothing
//! is paid, no held token is sent, no redirect is followed.

use l402_core::Msat;
use l402_discovery::{
    DirectoryEntry, ErrorBody, MANIFEST_PATH, Manifest, QUOTE_PATH, Quote, QuoteRequest,
    manifest_link_target,
};
use reqwest::Url;
use serde::Serialize;

use crate::{ClientError, L402Client};

/// The largest discovery document or quote answer read, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Where a [`Discovery`]'s prices come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoverySource {
    /// The seller's manifest.
    Manifest,
    /// No manifest: the 402 challenge of a plain unpaid request to the URL.
    Challenge,
    /// Neither: the URL answered no 402 (free, or not an L402 endpoint).
    Nothing,
}

/// One thing sold and its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The service (the token's `services` caveat), when known.
    pub service: Option<String>,
    /// The method, or `*` for any.
    pub method: String,
    /// The path or path pattern.
    pub path: String,
    /// The price in millisatoshis (0: free).
    pub price_msat: u64,
    /// The same in satoshis, rounded up.
    pub price_sat: u64,
    /// Capabilities a token must carry here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities_required: Vec<String>,
    /// The token's lifetime in seconds, when advertised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_lifetime_secs: Option<u64>,
    /// The MCP tool this price is for (a `tools/call` of that name posted to `path`, paid per
    /// call), when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_tool: Option<String>,
}

/// What a host sells.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// The URL asked about.
    pub url: String,
    /// Its origin.
    pub origin: String,
    /// Where the prices come from.
    pub source: DiscoverySource,
    /// The manifest's URL, when one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_url: Option<String>,
    /// The manifest, when one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
    /// Everything sold, in the manifest's order (one entry, the URL itself, from a 402).
    pub listings: Vec<Listing>,
    /// What happened on the way (a missing or invalid manifest, for instance).
    pub notes: Vec<String>,
}

impl Discovery {
    /// The first listing matching `method` and `path` (as the seller prices requests).
    pub fn listing_for(&self, method: &str, path: &str) -> Option<&Listing> {
        self.listings.iter().find(|l| {
            l.mcp_tool.is_none()
                && (l.method == "*" || l.method.eq_ignore_ascii_case(method))
                && l402_discovery::path_matches(&l.path, path)
        })
    }

    /// The entry a public directory ingests, when a manifest was read.
    pub fn directory_entry(&self, fetched_at: u64) -> Option<DirectoryEntry> {
        Some(DirectoryEntry::from_manifest(
            &self.origin,
            self.manifest_url.as_deref()?,
            self.manifest.as_ref()?,
            fetched_at,
        ))
    }
}

/// A quote's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum QuoteOutcome {
    /// The price.
    Quoted(Quote),
    /// The seller refused (`unsatisfiable_budget`, `unknown_service`, ...).
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error, when the answer had the proposal's shape.
        error: Option<l402_discovery::ErrorDetail>,
    },
}

fn listings(manifest: &Manifest) -> Vec<Listing> {
    manifest
        .services
        .iter()
        .flat_map(|s| {
            s.resources.iter().map(|r| {
                let price = r.pricing.price_msat.unwrap_or(0);
                Listing {
                    service: Some(s.name.clone()),
                    method: r.method.clone(),
                    path: r.path.clone(),
                    price_msat: price,
                    price_sat: price.div_ceil(1000),
                    capabilities_required: if r.capabilities_required.is_empty() {
                        r.capability.iter().cloned().collect()
                    } else {
                        r.capabilities_required.clone()
                    },
                    token_lifetime_secs: s.token_lifetime_secs,
                    mcp_tool: r.mcp_tool.clone(),
                }
            })
        })
        .collect()
}

impl L402Client {
    /// What the host of `url` sells: its manifest, else the 402 of a plain `GET url` (the
    /// manifest it links to, or the price of its challenge). Pays nothing.
    pub async fn discover(&self, url: &str) -> Result<Discovery, ClientError> {
        let mut found = self.discover_manifest(url).await?;
        if found.source == DiscoverySource::Manifest {
            return Ok(found);
        }
        let url = parse(url)?;
        let well_known = join(&url, MANIFEST_PATH)?;
        // No manifest there: ask the URL itself, unpaid.
        self.check_destination(&url)?;
        let response = self.http().get(url.clone()).send().await?;
        if response.status() != http::StatusCode::PAYMENT_REQUIRED {
            found.notes.push(format!(
                "{url} answered {} without asking for payment",
                response.status()
            ));
            return Ok(found);
        }
        let headers = response.headers().clone();
        let linked = headers
            .get_all(http::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(manifest_link_target)
            .map(|target| join(&url, target))
            .transpose()?;
        if let Some(linked) = linked
            && linked != well_known
            && self.read_manifest(&linked, &mut found).await?
        {
            return Ok(found);
        }
        let values = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let challenge = match l402_core::challenge::parse_first_challenge(values) {
            Ok(c) => c,
            Err(e) => {
                found
                    .notes
                    .push(format!("the 402 carries no usable L402 challenge: {e}"));
                return Ok(found);
            }
        };
        let amount = match l402_core::invoice::parse_bolt11(&challenge.invoice) {
            Ok(invoice) => invoice.amount,
            Err(e) => {
                found
                    .notes
                    .push(format!("the 402's invoice does not parse: {e}"));
                return Ok(found);
            }
        };
        let Some(Msat(price)) = amount else {
            found
                .notes
                .push("the 402's invoice names no amount".to_owned());
            return Ok(found);
        };
        found.source = DiscoverySource::Challenge;
        found.listings.push(Listing {
            service: crate::token::services(&challenge.macaroon).and_then(|s| s.into_iter().next()),
            method: "GET".to_owned(),
            path: url.path().to_owned(),
            price_msat: price,
            price_sat: price.div_ceil(1000),
            capabilities_required: Vec::new(),
            token_lifetime_secs: None,
            mcp_tool: None,
        });
        Ok(found)
    }

    /// The manifest at the well-known path of `url`'s origin, if there is one (source
    /// [`DiscoverySource::Manifest`], else [`DiscoverySource::Nothing`] with a note). Sends
    /// nothing to `url` itself.
    pub async fn discover_manifest(&self, url: &str) -> Result<Discovery, ClientError> {
        let url = parse(url)?;
        let mut found = Discovery {
            url: url.to_string(),
            origin: url.origin().ascii_serialization(),
            source: DiscoverySource::Nothing,
            manifest_url: None,
            manifest: None,
            listings: Vec::new(),
            notes: Vec::new(),
        };
        let well_known = join(&url, MANIFEST_PATH)?;
        self.read_manifest(&well_known, &mut found).await?;
        Ok(found)
    }

    /// Reads the manifest at `url` into `found`; `false` (with a note) when there is none or it
    /// is not a manifest.
    async fn read_manifest(&self, url: &Url, found: &mut Discovery) -> Result<bool, ClientError> {
        self.check_destination(url)?;
        let mut response = self
            .http()
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await?;
        if !response.status().is_success() {
            found.notes.push(format!(
                "no manifest at {url} (HTTP {})",
                response.status().as_u16()
            ));
            return Ok(false);
        }
        let body = match read_capped(&mut response).await? {
            Some(body) => body,
            None => {
                found.notes.push(format!(
                    "the manifest at {url} is larger than {MAX_DOCUMENT_BYTES} bytes"
                ));
                return Ok(false);
            }
        };
        match serde_json::from_slice::<Manifest>(&body) {
            Ok(manifest) => {
                found.source = DiscoverySource::Manifest;
                found.manifest_url = Some(url.to_string());
                found.listings = listings(&manifest);
                found.manifest = Some(manifest);
                Ok(true)
            }
            Err(e) => {
                found.notes.push(format!(
                    "the document at {url} is not an L402 manifest: {e}"
                ));
                Ok(false)
            }
        }
    }

    /// Asks the seller at `url`'s origin what `request` would cost (`quote_endpoint`, default
    /// `/l402/quote`). Pays nothing and mints nothing.
    pub async fn quote(
        &self,
        url: &str,
        quote_endpoint: Option<&str>,
        request: &QuoteRequest,
    ) -> Result<QuoteOutcome, ClientError> {
        let base = parse(url)?;
        let endpoint = join(&base, quote_endpoint.unwrap_or(QUOTE_PATH))?;
        self.check_destination(&endpoint)?;
        let mut response = self
            .http()
            .post(endpoint.clone())
            .json(request)
            .send()
            .await?;
        let status = response.status().as_u16();
        let body = read_capped(&mut response).await?.unwrap_or_default();
        if status == 200
            && let Ok(quote) = serde_json::from_slice::<Quote>(&body)
        {
            return Ok(QuoteOutcome::Quoted(quote));
        }
        let error = serde_json::from_slice::<ErrorBody>(&body)
            .ok()
            .map(|b| b.error);
        Ok(QuoteOutcome::Refused { status, error })
    }
}

fn parse(url: &str) -> Result<Url, ClientError> {
    let parsed =
        Url::parse(url).map_err(|e| ClientError::InvalidRequest(format!("{url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ClientError::InvalidRequest(format!(
            "{url:?}: only http and https URLs are supported"
        )));
    }
    Ok(parsed)
}

/// `target` (absolute, or a path on `base`'s origin).
fn join(base: &Url, target: &str) -> Result<Url, ClientError> {
    base.join(target)
        .map_err(|e| ClientError::InvalidRequest(format!("{target:?} on {base}: {e}")))
}

/// The body, or `None` when it is larger than [`MAX_DOCUMENT_BYTES`].
async fn read_capped(response: &mut reqwest::Response) -> Result<Option<Vec<u8>>, ClientError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
