//! How long an exchange opened with a token may last: a WebSocket or another upgraded
//! connection, a server-sent event stream, any long response body. The paywall checks a token
//! once, when the request arrives; a [`TokenLease`] (a request extension on every paid request)
//! says when what that request opened must stop: when the token expires (its
//! `<service>_valid_until`) or is revoked, plus a grace period. The proxy ends the stream then
//! (`l402_server::StreamDeadline`).
//!
//! Revocations are seen when the [`RevocationSet`] changes: at once for an in-process
//! [`RevocationSet::revoke`], within the owner's refresh interval for `l402 revoke` (the seller
//! re-reads the store every 2 s). A retired key epoch (`l402 keys retire`) is seen when the
//! paywall's [`SharedKeyRing`] is replaced without it, on the same refresh. Expiry is read from the injected [`Clock`] and waited for
//! with tokio's timer.

use std::sync::Arc;
use std::time::Duration;

use l402_core::TokenId;
use l402_core::env::Clock;
use l402_core::keys::token_epoch;
use l402_core::verify::{Revocations, VerifiedToken};
use tokio::sync::watch;

use crate::revocations::RevocationSet;
use crate::shared_keys::SharedKeyRing;

/// The default [`PaywallSettings::stream_grace`](crate::PaywallSettings::stream_grace): long
/// enough for a frame in flight to arrive, short enough that a revoked token stops soon.
pub const DEFAULT_STREAM_GRACE: Duration = Duration::from_secs(10);

/// Why a lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseEnd {
    /// The token's `<service>_valid_until` passed.
    Expired,
    /// The token was revoked.
    Revoked,
    /// The key epoch the token was minted under was retired.
    Retired,
}

impl LeaseEnd {
    /// `"expired"`, `"revoked"` or `"retired"`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Retired => "retired",
        }
    }
}

/// The time a paid request's token leaves to what the request opened (see the module docs).
/// Cheap to clone.
#[derive(Clone)]
pub struct TokenLease {
    token_id: TokenId,
    valid_until: Option<u64>,
    grace: Duration,
    revocations: RevocationSet,
    keys: Option<SharedKeyRing>,
    clock: Arc<dyn Clock + Send + Sync>,
}

impl std::fmt::Debug for TokenLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenLease")
            .field("token_id", &self.token_id.to_hex())
            .field("valid_until", &self.valid_until)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl TokenLease {
    /// The lease of `token`: it ends `grace` after the token expires (by `clock`) or shows up in
    /// `revocations`.
    pub fn new(
        token: &VerifiedToken,
        revocations: RevocationSet,
        clock: Arc<dyn Clock + Send + Sync>,
        grace: Duration,
    ) -> Self {
        Self {
            token_id: token.identifier.token_id,
            valid_until: token.valid_until,
            grace,
            revocations,
            keys: None,
            clock,
        }
    }

    /// Also ends the lease when `keys` no longer hold the token's key epoch (it was retired).
    pub fn with_keys(mut self, keys: SharedKeyRing) -> Self {
        self.keys = Some(keys);
        self
    }

    /// When the token expires, Unix seconds (`None`: never).
    pub fn valid_until(&self) -> Option<u64> {
        self.valid_until
    }

    /// How long a stream may outlive its token.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Why the token no longer holds now, if it does not.
    pub fn check(&self) -> Option<LeaseEnd> {
        if self.revocations.is_revoked(&self.token_id) {
            return Some(LeaseEnd::Revoked);
        }
        if let Some(keys) = &self.keys
            && !keys.snapshot().keys().holds(token_epoch(&self.token_id))
        {
            return Some(LeaseEnd::Retired);
        }
        let now = self.clock.now_unix();
        self.valid_until
            .is_some_and(|until| now >= until)
            .then_some(LeaseEnd::Expired)
    }

    /// Resolves when what the request opened must stop: the grace period after the token
    /// expired or was revoked. Never resolves for a token that never expires and is never
    /// revoked.
    pub async fn ended(self) -> LeaseEnd {
        // Subscribed before the first check, so a revocation between the check and the wait
        // still wakes it.
        let mut changes = self.revocations.subscribe();
        let mut key_changes = self.keys.as_ref().map(SharedKeyRing::subscribe);
        let reason = loop {
            if let Some(reason) = self.check() {
                break reason;
            }
            let until_expiry = self
                .valid_until
                .map(|until| Duration::from_secs(until.saturating_sub(self.clock.now_unix())));
            tokio::select! {
                // The sender lives in the set this lease holds: it cannot close first.
                _ = changes.changed() => {}
                () = changed_or_never(key_changes.as_mut()) => {}
                () = sleep_or_never(until_expiry) => {}
            }
        };
        tokio::time::sleep(self.grace).await;
        reason
    }
}

/// Waits for the next change `changes` announces, or forever when there is no ring to watch.
async fn changed_or_never(changes: Option<&mut watch::Receiver<()>>) {
    match changes {
        // The sender lives in the ring this lease holds: it cannot close first.
        Some(changes) => {
            let _ = changes.changed().await;
        }
        None => std::future::pending().await,
    }
}

/// Sleeps for `limit`, or forever when there is none.
async fn sleep_or_never(limit: Option<Duration>) {
    match limit {
        Some(limit) => tokio::time::sleep(limit).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use l402_core::identifier::Identifier;
    use l402_core::{PaymentHash, TokenId};
    use tokio::time::Instant;

    /// Wall-clock seconds that follow tokio's (paused) clock, so no test waits for real.
    struct TokioClock {
        base: u64,
        start: Instant,
    }

    impl Clock for TokioClock {
        fn now_unix(&self) -> u64 {
            self.base + self.start.elapsed().as_secs()
        }
    }

    const BASE: u64 = 1_000_000;

    fn lease(valid_for: Option<u64>, revocations: &RevocationSet) -> TokenLease {
        let token = VerifiedToken {
            identifier: Identifier {
                payment_hash: PaymentHash([1; 32]),
                token_id: TokenId([2; 32]),
            },
            checked_caveats: Default::default(),
            valid_until: valid_for.map(|secs| BASE + secs),
        };
        let clock = Arc::new(TokioClock {
            base: BASE,
            start: Instant::now(),
        });
        TokenLease::new(&token, revocations.clone(), clock, Duration::from_secs(3))
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_ends_its_grace_after_the_token_expires() {
        let start = Instant::now();
        let ended = lease(Some(5), &RevocationSet::default()).ended().await;
        assert_eq!(ended, LeaseEnd::Expired);
        assert_eq!(start.elapsed().as_secs(), 5 + 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_ends_its_grace_after_the_token_is_revoked() {
        let revocations = RevocationSet::default();
        let start = Instant::now();
        let ended = tokio::spawn(lease(Some(3600), &revocations).ended());
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Other tokens' revocations and a reload with the same set do not end it.
        revocations.revoke(TokenId([9; 32]));
        revocations.replace_all(std::iter::once(TokenId([9; 32])).collect());
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(!ended.is_finished());
        revocations.replace_all([TokenId([9; 32]), TokenId([2; 32])].into_iter().collect());
        assert_eq!(ended.await.unwrap(), LeaseEnd::Revoked);
        assert_eq!(start.elapsed().as_secs(), 12 + 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_ends_its_grace_after_its_key_epoch_is_retired() {
        use l402_core::keys::{KeyRing, MasterKey};
        let ring = |current: u32, others: &[u32]| {
            let mut keys = KeyRing::new(current, &MasterKey::from_bytes([current as u8; 32]));
            for &epoch in others {
                keys.insert(epoch, &MasterKey::from_bytes([epoch as u8; 32]));
            }
            keys
        };
        let shared = SharedKeyRing::new(ring(1, &[]));
        let mut id = [7u8; 32];
        id[..4].copy_from_slice(&1u32.to_be_bytes());
        let token = VerifiedToken {
            identifier: Identifier {
                payment_hash: PaymentHash([1; 32]),
                token_id: TokenId(id),
            },
            checked_caveats: Default::default(),
            valid_until: None,
        };
        let clock = Arc::new(TokioClock {
            base: BASE,
            start: Instant::now(),
        });
        let l = TokenLease::new(
            &token,
            RevocationSet::default(),
            clock,
            Duration::from_secs(3),
        )
        .with_keys(shared.clone());
        let start = Instant::now();
        let ended = tokio::spawn(l.ended());
        tokio::time::sleep(Duration::from_secs(5)).await;
        // A rotation that keeps epoch 1 does not end it.
        shared.replace(ring(2, &[1]));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!ended.is_finished());
        let mut retired = ring(2, &[1]);
        retired.retire(1);
        shared.replace(retired);
        let ended = tokio::time::timeout(Duration::from_secs(60), ended)
            .await
            .expect("the lease ends once the epoch is retired");
        assert_eq!(ended.unwrap(), LeaseEnd::Retired);
        assert_eq!(start.elapsed().as_secs(), 10 + 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_without_expiry_or_revocation_never_ends() {
        let forever = lease(None, &RevocationSet::default()).ended();
        let waited = tokio::time::timeout(Duration::from_secs(365 * 86_400), forever).await;
        assert!(waited.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn an_already_revoked_token_ends_after_the_grace_only() {
        let revocations = RevocationSet::from_ids([TokenId([2; 32])]);
        let start = Instant::now();
        let l = lease(Some(3600), &revocations);
        assert_eq!(l.check(), Some(LeaseEnd::Revoked));
        assert_eq!(l.ended().await, LeaseEnd::Revoked);
        assert_eq!(start.elapsed().as_secs(), 3);
    }
}
