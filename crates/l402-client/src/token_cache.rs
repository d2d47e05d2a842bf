//! The tokens a request found in the store, and the scopes where it found no open session,
//! kept in memory for a moment so the next requests to the same place skip the store's
//! blocking hops (the cached-token path's main cost).
//!
//! Only found tokens are kept (an absent token is always looked up again), and only the
//! absence of a session (a session found is always read afresh: its balance moves), each for
//! at most [`TokenCache::TTL`]: another process sharing the store (`l402 tokens remove`, a
//! second agent) is seen within that time. This client's own changes empty the cache: a 402
//! answered, a payment, a session opened, a token removed, imported or its status recorded. A
//! token the cache still holds after another process dropped it is at worst sent once more:
//! the server judges it, and a refusal goes the uncached way (adopting a newer token from the
//! store before ever paying again).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use l402_store::TokenRecord;

/// Found tokens by lookup (keyed by the request's exact-path scope, which decides the scopes
/// asked), with when they were found.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    state: Mutex<State>,
    /// The last token's `Authorization` value (see [`crate::auth_header`]).
    auth_header: crate::auth_header::AuthHeaderMemo,
    /// The last `L402-Token` answer read (see [`crate::status_memo`]).
    status: crate::status_memo::StatusMemo,
}

#[derive(Debug, Default)]
struct State {
    /// Bumped by every [`TokenCache::clear`]: a lookup that began before a clear does not
    /// store what it found.
    generation: u64,
    found: HashMap<String, (String, TokenRecord, Instant)>,
    /// Session scopes where no open session was found, and when.
    no_session: HashMap<String, Instant>,
}

/// The most lookups kept; past it the cache starts over (a client talks to few places).
const MAX_ENTRIES: usize = 1024;

impl TokenCache {
    /// How long a found token is reused without asking the store.
    pub(crate) const TTL: Duration = Duration::from_secs(1);

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What an earlier lookup for the exact-path scope `exact` found, if it is fresh; else the
    /// generation to pass to [`TokenCache::insert`] after asking the store.
    pub(crate) fn get(&self, exact: &str) -> Result<(String, TokenRecord), u64> {
        let state = self.state();
        match state.found.get(exact) {
            Some((scope, token, at)) if at.elapsed() < Self::TTL => {
                Ok((scope.clone(), token.clone()))
            }
            _ => Err(state.generation),
        }
    }

    /// Keeps what the store answered for the exact-path scope `exact`, unless the cache was
    /// cleared since the lookup began (`generation`).
    pub(crate) fn insert(&self, generation: u64, exact: String, found: (String, TokenRecord)) {
        let mut state = self.state();
        if state.generation != generation {
            return;
        }
        if state.found.len() >= MAX_ENTRIES {
            state.found.clear();
        }
        state
            .found
            .insert(exact, (found.0, found.1, Instant::now()));
    }

    /// Whether a recent lookup found no open session for `scope`; else the generation to pass
    /// to [`TokenCache::note_no_session`].
    pub(crate) fn session_absent(&self, scope: &str) -> Result<(), u64> {
        let state = self.state();
        match state.no_session.get(scope) {
            Some(at) if at.elapsed() < Self::TTL => Ok(()),
            _ => Err(state.generation),
        }
    }

    /// Keeps that the store holds no open session for `scope` (unless cleared meanwhile).
    pub(crate) fn note_no_session(&self, generation: u64, scope: String) {
        let mut state = self.state();
        if state.generation != generation {
            return;
        }
        if state.no_session.len() >= MAX_ENTRIES {
            state.no_session.clear();
        }
        state.no_session.insert(scope, Instant::now());
    }

    /// Forgets everything (this client changed a token or opened a session); the new
    /// generation, for a lookup that starts now.
    pub(crate) fn clear(&self) -> u64 {
        self.auth_header.clear();
        let mut state = self.state();
        state.generation += 1;
        state.found.clear();
        state.no_session.clear();
        state.generation
    }
}

impl TokenCache {
    /// The `Authorization` value presenting `token`, kept ready between requests that send it
    /// (forgotten on [`TokenCache::clear`]).
    pub(crate) fn authorization(
        &self,
        token: &TokenRecord,
    ) -> Result<reqwest::header::HeaderValue, crate::error::ClientError> {
        self.auth_header.value(token)
    }

    /// What an answer's `L402-Token` value says about `sent`, read at `now` (the last reading
    /// kept: see [`crate::status_memo`]).
    pub(crate) fn reported_status(
        &self,
        header: Option<&reqwest::header::HeaderValue>,
        sent: &TokenRecord,
        now: u64,
    ) -> Option<l402_store::ReportedStatus> {
        self.status.read(header, sent, now)
    }
}

/// A held token for unit tests: `macaroon` and a preimage (and payment hash) of `n` bytes,
/// scope `http://a/x`.
#[cfg(test)]
pub(crate) fn test_token(macaroon: &[u8], n: u8) -> TokenRecord {
    use l402_core::{Msat, PaymentHash, Preimage};
    TokenRecord {
        scope: "http://a/x".into(),
        origin: "http://a".into(),
        scheme: l402_core::challenge::Scheme::L402,
        macaroon: macaroon.to_vec(),
        preimage: Preimage([n; 32]),
        payment_hash: PaymentHash([n; 32]),
        amount: Msat(1000),
        fee: Msat(0),
        created_at: 0,
        expires_at: None,
        label: None,
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: u8) -> TokenRecord {
        test_token(&[n], n)
    }

    #[test]
    fn a_clear_also_forgets_the_kept_authorization_value() {
        let cache = TokenCache::default();
        cache.authorization(&token(1)).expect("ASCII");
        assert!(!cache.auth_header.is_empty());
        cache.clear();
        assert!(cache.auth_header.is_empty());
    }

    const EXACT: &str = "http://a/x/today";

    #[test]
    fn a_found_token_is_reused_until_cleared_and_a_stale_lookup_is_not_kept() {
        let cache = TokenCache::default();
        let generation = cache.get(EXACT).unwrap_err();
        cache.insert(generation, EXACT.into(), ("http://a/x".into(), token(1)));
        let (scope, found) = cache.get(EXACT).unwrap();
        assert_eq!((scope.as_str(), found.macaroon), ("http://a/x", vec![1]));
        assert!(cache.get("http://a/x/other").is_err());

        // A lookup that began before a clear does not bring its (older) answer back.
        let before = cache.get("http://a/x/other").unwrap_err();
        cache.clear();
        assert!(cache.get(EXACT).is_err());
        cache.insert(before, EXACT.into(), ("http://a/x".into(), token(2)));
        assert!(cache.get(EXACT).is_err());
    }

    #[test]
    fn a_missing_session_is_remembered_until_one_is_opened() {
        let cache = TokenCache::default();
        let generation = cache.session_absent("s").unwrap_err();
        cache.note_no_session(generation, "s".into());
        assert!(cache.session_absent("s").is_ok());
        assert!(cache.session_absent("t").is_err());
        cache.clear();
        assert!(cache.session_absent("s").is_err());
    }
}
