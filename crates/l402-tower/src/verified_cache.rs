//! Recently verified credentials, so a token reused on every request is fully verified once.
//!
//! The key is a SHA-256 digest of exactly what verification reads and what it is checked
//! against: the primary macaroon's binary form, the preimage sent beside it (or the marker that
//! it is inside the macaroon), and what the request asks of the token (service, required
//! capabilities, price, base price). How the credential was spelled (scheme, base64 or hex,
//! extra `Authorization`, `Macaroon` or discharge values that verification ignores) does not
//! change the key, so it cannot force a re-verification or churn the cache. Only credentials
//! that passed full verification are stored. A hit re-checks what can change after
//! verification: revocation, expiry, and whether the key ring still holds the token's epoch
//! (`l402 keys retire`). The cache is bounded: when full it is cleared.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use http::{HeaderName, HeaderValue};
use l402_core::credential::{Credential, PreimageSource};
use l402_core::keys::{KeyRing, token_epoch};
use l402_core::verify::{Revocations, VerifiedToken};
use sha2::{Digest, Sha256};

use crate::forwarded::token_headers;
use crate::offer::Offer;

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
    entries: RwLock<HashMap<CacheKey, Arc<Verified>>>,
}

/// SHA-256 of what one verification reads and checks (see the module docs).
pub(crate) type CacheKey = [u8; 32];

/// Feeds `bytes` to `hasher` with its length first, so adjacent fields cannot run together.
fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// The cache key of `credential` presented for `offer`.
pub(crate) fn key(offer: &Offer, credential: &Credential) -> CacheKey {
    let mut hasher = Sha256::new();
    field(&mut hasher, offer.service.as_bytes());
    hasher.update((offer.required_capabilities.len() as u64).to_be_bytes());
    for c in &offer.required_capabilities {
        field(&mut hasher, c.as_bytes());
    }
    hasher.update(offer.price.0.to_be_bytes());
    hasher.update(offer.base_price.0.to_be_bytes());
    field(
        &mut hasher,
        credential.primary_macaroon().unwrap_or_default(),
    );
    match &credential.preimage {
        PreimageSource::Explicit(preimage) => {
            hasher.update([1]);
            hasher.update(preimage.0);
        }
        PreimageSource::InCaveat => hasher.update([2]),
    }
    hasher.finalize().into()
}

impl VerifiedCache {
    /// A cached verification still valid at `now`, not revoked, and of an epoch `keys` holds.
    pub(crate) fn get(
        &self,
        key: &CacheKey,
        now: u64,
        revocations: &dyn Revocations,
        keys: &KeyRing,
    ) -> Option<Arc<Verified>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        // Keys are SHA-256 digests, and lookups hash them with SipHash under a random
        // per-process key first, so timing of the comparison that follows cannot be steered
        // towards a stored credential.
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
    pub(crate) fn insert(&self, key: CacheKey, verified: Arc<Verified>) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, verified);
    }
}
