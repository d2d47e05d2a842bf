//! Recently verified credentials, so a token reused on every request is fully verified once.
//!
//! The key is the exact credential header bytes plus what the request asks of the token (the
//! service and required capabilities); only credentials that passed full verification are
//! stored. A hit re-checks what can change after verification: revocation, expiry, and whether
//! the key ring still holds the token's epoch (`l402 keys retire`). The cache is bounded: when
//! full it is cleared.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use http::{HeaderName, HeaderValue};
use l402_core::credential::CredentialHeaders;
use l402_core::keys::{KeyRing, token_epoch};
use l402_core::verify::{Revocations, VerifiedToken};

use crate::forwarded::token_headers;

/// A verified token and the forwarded headers prepared for it.
#[derive(Debug)]
pub struct Verified {
    /// The token.
    pub token: VerifiedToken,
    /// `X-L402-*` headers for the upstream.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Verified {
    /// Prepares the forwarded headers for `token`, verified for `service`.
    pub fn new(service: &str, token: VerifiedToken) -> Self {
        let headers = token_headers(service, &token);
        Self { token, headers }
    }
}

/// Most entries kept; an insert into a full cache clears it first.
const CAPACITY: usize = 16_384;

#[derive(Debug, Default)]
pub(crate) struct VerifiedCache {
    entries: RwLock<HashMap<Vec<u8>, Arc<Verified>>>,
}

/// The cache key: what the request asks of the token, then every credential header value,
/// each tagged with its header. `None` when the request carries no credential.
pub(crate) fn key(
    service: &str,
    capabilities: &[String],
    headers: &CredentialHeaders<'_>,
) -> Option<Vec<u8>> {
    let tagged = headers
        .authorization
        .iter()
        .map(|v| (1u8, *v))
        .chain(headers.grpc_metadata_macaroon.map(|v| (2u8, v)))
        .chain(headers.macaroon.map(|v| (3u8, v)));
    let mut key = Vec::with_capacity(256);
    key.extend_from_slice(service.as_bytes());
    for c in capabilities {
        key.push(0);
        key.extend_from_slice(c.as_bytes());
    }
    let before = key.len();
    for (tag, value) in tagged {
        key.push(tag);
        key.extend_from_slice(value.as_bytes());
    }
    (key.len() > before).then_some(key)
}

impl VerifiedCache {
    /// A cached verification still valid at `now`, not revoked, and of an epoch `keys` holds.
    pub(crate) fn get(
        &self,
        key: &[u8],
        now: u64,
        revocations: &dyn Revocations,
        keys: &KeyRing,
    ) -> Option<Arc<Verified>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        // Lookups hash the key with SipHash under a random per-process key first, so timing of
        // the byte comparison that follows cannot be steered towards a stored credential.
        let verified = entries.get(key)?;
        let token = &verified.token;
        if token.valid_until.is_some_and(|until| now >= until)
            || revocations.is_revoked(&token.identifier.token_id)
            || !keys.holds(token_epoch(&token.identifier.token_id))
        {
            return None;
        }
        Some(verified.clone())
    }

    /// Remembers a fully verified credential.
    pub(crate) fn insert(&self, key: Vec<u8>, verified: Arc<Verified>) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, verified);
    }
}
