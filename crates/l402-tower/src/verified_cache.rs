//! Recently verified credentials, so a token reused on every request is fully verified once.
//!
//! The key is a SHA-256 digest of exactly what verification reads and what it is checked
//! against: every macaroon's binary form in order (a credential may list several, each
//! verified), the preimage sent beside them (or the marker that it is inside the macaroon),
//! and what the request asks of the token (service, required capabilities, price, base price).
//! How the credential was spelled (scheme, base64 or hex, extra `Authorization` or `Macaroon`
//! values that verification ignores) does not change the key, so it cannot force a
//! re-verification or churn the cache. Only credentials that passed full verification are
//! stored. A hit re-checks what can change after verification: the granting token's expiry,
//! and for every token of the credential revocation and whether the key ring still holds its
//! epoch (`l402 keys retire`), so a credential with a revoked companion is refused as it would
//! be afresh. The cache is bounded: when full it is cleared.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use http::{HeaderName, HeaderValue};
use l402_core::credential::{Credential, PreimageSource};
use l402_core::keys::{KeyRing, token_epoch};
use l402_core::token_status::status_prefix;
use l402_core::verify::{Revocations, VerifiedCredential, VerifiedToken};
use l402_core::{Msat, TokenId};
use sha2::{Digest, Sha256};

use crate::forwarded::token_headers;
use crate::offer::Offer;

/// A verified token and the headers prepared for it.
#[derive(Debug)]
pub struct Verified {
    /// The token (with several in the credential, the one that authorized the request).
    pub token: VerifiedToken,
    /// `X-L402-*` headers for the upstream.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The other tokens the credential presented: authentic when verified, and re-checked
    /// (revocation, key epoch) on every cache hit.
    pub others: Vec<TokenId>,
    /// The fixed part of the `L402-Token` response header (`id="…", expires=…`; see
    /// [`l402_core::token_status`]), prepared once.
    pub status_prefix: HeaderValue,
}

/// The token, expiry and second of the last `L402-Token` value a thread built, and the value
/// (which those three determine).
type StatusMemo = Option<((TokenId, u64, u64), HeaderValue)>;

thread_local! {
    /// Per thread, so the requests of one token on many threads do not contend for it.
    static STATUS_MEMO: RefCell<StatusMemo> = const { RefCell::new(None) };
}

impl Verified {
    /// Prepares the headers for `token`, verified for `service`.
    pub fn new(service: &str, token: VerifiedToken) -> Self {
        Self::with_others(service, token, Vec::new())
    }

    /// Prepares the headers for a credential's granting token, verified for `service`.
    pub fn from_credential(service: &str, credential: VerifiedCredential) -> Self {
        let others = credential.others.iter().map(|i| i.token_id).collect();
        Self::with_others(service, credential.token, others)
    }

    fn with_others(service: &str, token: VerifiedToken, others: Vec<TokenId>) -> Self {
        let headers = token_headers(service, &token);
        let prefix = status_prefix(&token.identifier.token_id, token.valid_until);
        Self {
            headers,
            others,
            // Hex digits, `=`, `"`, `,`, blanks and decimal digits: always a valid value.
            status_prefix: HeaderValue::from_str(&prefix)
                .unwrap_or_else(|_| HeaderValue::from_static("")),
            token,
        }
    }

    /// The `L402-Token` value at the server's `now`: the prepared prefix, plus `, ttl=…` for
    /// a token that expires. A thread builds the value once per second for the token it last
    /// answered (the common case: one client's requests), and never for a token that does not
    /// expire.
    pub fn status_header(&self, now: u64) -> HeaderValue {
        let Some(until) = self.token.valid_until else {
            return self.status_prefix.clone();
        };
        let key = (self.token.identifier.token_id, until, now);
        let fresh = || self.build_status(until, now);
        let memoised = STATUS_MEMO.try_with(|memo| {
            let Ok(mut memo) = memo.try_borrow_mut() else {
                return fresh();
            };
            match &*memo {
                Some((memo_key, value)) if *memo_key == key => value.clone(),
                _ => {
                    let value = fresh();
                    *memo = Some((key, value.clone()));
                    value
                }
            }
        });
        memoised.unwrap_or_else(|_| fresh())
    }

    /// `status_prefix, ttl=<until - now>`.
    fn build_status(&self, until: u64, now: u64) -> HeaderValue {
        let prefix = self.status_prefix.as_bytes();
        let mut value = Vec::with_capacity(prefix.len() + 26);
        value.extend_from_slice(prefix);
        value.extend_from_slice(b", ttl=");
        let mut digits = [0u8; 20];
        value.extend_from_slice(decimal(until.saturating_sub(now), &mut digits));
        HeaderValue::from_maybe_shared(bytes::Bytes::from(value))
            .unwrap_or_else(|_| self.status_prefix.clone())
    }
}

/// `n` in decimal, written into the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Most entries kept; an insert into a full cache clears it first.
const CAPACITY: usize = 16_384;

#[derive(Debug, Default)]
pub(crate) struct VerifiedCache {
    entries: RwLock<HashMap<CacheKey, Arc<Verified>>>,
    /// The same verifications found by the request's one `Authorization` value as sent, so a
    /// token presented again is found without decoding the credential or hashing it (see
    /// [`VerifiedCache::get_raw`]).
    raw: RwLock<HashMap<Box<[u8]>, Vec<RawEntry>>>,
}

/// The most sets of terms kept for one `Authorization` value (one token used on routes priced
/// differently); past it the oldest goes.
const TERMS_PER_CREDENTIAL: usize = 8;

/// Write access to `map`, emptied first when it is full (the cache's whole eviction policy).
fn room<K, V>(map: &RwLock<HashMap<K, V>>) -> std::sync::RwLockWriteGuard<'_, HashMap<K, V>> {
    let mut entries = map.write().unwrap_or_else(|p| p.into_inner());
    if entries.len() >= CAPACITY {
        entries.clear();
    }
    entries
}

/// A verification found by its raw `Authorization` value, and the terms it was verified for.
#[derive(Debug)]
struct RawEntry {
    service: Arc<str>,
    required_capabilities: Vec<String>,
    price: Msat,
    base_price: Msat,
    verified: Arc<Verified>,
}

impl RawEntry {
    /// The terms [`key`] binds, compared field by field.
    fn is_for(&self, offer: &Offer) -> bool {
        self.price == offer.price
            && self.base_price == offer.base_price
            && self.service == offer.service
            && self.required_capabilities == offer.required_capabilities
    }
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
    hasher.update((credential.macaroons.len() as u64).to_be_bytes());
    for macaroon in &credential.macaroons {
        field(&mut hasher, macaroon);
    }
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
        still_valid(verified, now, revocations, keys).then(|| verified.clone())
    }

    /// Like [`VerifiedCache::get`], found by the request's one `Authorization` value as sent
    /// (`raw`) for the same terms (`offer`'s service, required capabilities and prices, what
    /// [`key`] binds). The map hashes `raw` with SipHash under a random per-process key, so
    /// which stored value a lookup compares against cannot be steered either.
    pub(crate) fn get_raw(
        &self,
        raw: &[u8],
        offer: &Offer,
        now: u64,
        revocations: &dyn Revocations,
        keys: &KeyRing,
    ) -> Option<Arc<Verified>> {
        let entries = self.raw.read().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(raw)?.iter().find(|e| e.is_for(offer))?;
        still_valid(&entry.verified, now, revocations, keys).then(|| entry.verified.clone())
    }

    /// Remembers a fully verified credential.
    pub(crate) fn insert(&self, key: CacheKey, verified: Arc<Verified>) {
        room(&self.entries).insert(key, verified);
    }

    /// Remembers a verified credential by its raw `Authorization` value, for `offer`'s terms
    /// (beside the other terms it was verified for, up to [`TERMS_PER_CREDENTIAL`]).
    pub(crate) fn insert_raw(&self, raw: &[u8], offer: &Offer, verified: Arc<Verified>) {
        let entry = RawEntry {
            service: offer.service.clone(),
            required_capabilities: offer.required_capabilities.clone(),
            price: offer.price,
            base_price: offer.base_price,
            verified,
        };
        let mut entries = room(&self.raw);
        let Some(terms) = entries.get_mut(raw) else {
            entries.insert(raw.into(), vec![entry]);
            return;
        };
        terms.retain(|e| !e.is_for(offer));
        if terms.len() >= TERMS_PER_CREDENTIAL {
            terms.remove(0);
        }
        terms.push(entry);
    }
}

/// Whether a cached verification still holds at `now`: not expired, none of its tokens revoked
/// or of an epoch `keys` no longer holds.
fn still_valid(
    verified: &Verified,
    now: u64,
    revocations: &dyn Revocations,
    keys: &KeyRing,
) -> bool {
    let token = &verified.token;
    let gone = |id: &TokenId| revocations.is_revoked(id) || !keys.holds(token_epoch(id));
    !(token.valid_until.is_some_and(|until| now >= until)
        || gone(&token.identifier.token_id)
        || verified.others.iter().any(gone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use l402_core::identifier::Identifier;
    use l402_core::token_status::TokenStatus;
    use l402_core::{PaymentHash, TokenId};

    fn verified(id: u8, valid_until: Option<u64>) -> Verified {
        let token = VerifiedToken {
            identifier: Identifier {
                payment_hash: PaymentHash([7; 32]),
                token_id: TokenId([id; 32]),
            },
            checked_caveats: Default::default(),
            valid_until,
        };
        Verified::new("svc", token)
    }

    #[test]
    fn the_status_value_is_the_core_one_for_every_second_and_token_memo_or_not() {
        let expiring = verified(9, Some(1_000));
        let expected = |now| TokenStatus::at(TokenId([9; 32]), Some(1_000), now).header_value();
        // The same second twice (the memo), the next one, an earlier one, and past expiry.
        for now in [400, 400, 401, 399, 1_000, 1_500] {
            assert_eq!(
                expiring.status_header(now),
                expected(now).as_str(),
                "at {now}"
            );
        }
        // Two tokens answered in turn on one thread, in one second: each gets its own value.
        let other = verified(8, Some(2_000));
        let other_expected = TokenStatus::at(TokenId([8; 32]), Some(2_000), 400).header_value();
        for _ in 0..2 {
            assert_eq!(expiring.status_header(400), expected(400).as_str());
            assert_eq!(other.status_header(400), other_expected.as_str());
        }
        let forever = verified(9, None);
        let expected = TokenStatus::at(TokenId([9; 32]), None, 5).header_value();
        assert_eq!(forever.status_header(5), expected.as_str());
    }
}
