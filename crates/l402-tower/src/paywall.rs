//! The paywall's decisions: verify a paid request in memory, or mint a fresh challenge.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use http::request::Parts;
use l402_backend::{CreateInvoice, LightningBackend};
use l402_core::challenge::challenge_header_values;
use l402_core::credential::{CredentialError, CredentialHeaders, parse_credential};
use l402_core::env::Clock;
use l402_core::identifier::Identifier;
use l402_core::verify::{TokenError, VerifiedToken, verify_credential_all};
use l402_core::{Msat, PaymentHash, TokenId};

use crate::challenge_limit::{OUTSTANDING_WINDOW_SECS, OutstandingChallenges};
use crate::client::{DEFAULT_IPV6_PREFIX_LEN, client_key};
use crate::forwarded::{GRPC_METADATA_MACAROON, MACAROON};
use crate::freebies::Freebies;
use crate::lease::{DEFAULT_STREAM_GRACE, TokenLease};
use crate::mpp::{Mpp, MppSettings, MppVerdict};
use crate::offer::Offer;
use crate::outcome::{Counters, PaywallStats};
use crate::rate_limit::{RateLimiter, Subject};
use crate::response::ChallengeError;
use crate::revocations::RevocationSet;
use crate::session::SessionLedger;
use crate::shared_keys::SharedKeyRing;
use crate::system::{OsRandom, SystemClock};
use crate::verified_cache::{self, Verified, VerifiedCache};
use l402_mpp::session::SessionError;

/// Tunables of the paywall.
#[derive(Debug, Clone)]
pub struct PaywallSettings {
    /// Longest wait for the Lightning backend to create an invoice before answering 503.
    pub invoice_timeout: Duration,
    /// The `Retry-After` seconds sent with a 503.
    pub retry_after_secs: u32,
    /// The most unpaid challenges one client (an IP, an IPv6 /64) may hold at once; beyond it,
    /// `429 Too Many Requests` until one is paid or expires (see
    /// [`OutstandingChallenges`](crate::OutstandingChallenges)). `None` lifts the cap.
    /// Default 64.
    pub max_unpaid_challenges_per_client: Option<u32>,
    /// The IPv6 prefix length clients are counted by (the cap, rate limits, freebies; see
    /// [`client_key`](crate::client_key)). Default 64.
    pub ipv6_prefix_len: u8,
    /// How long a stream opened with a token (a WebSocket, a server-sent event stream, a long
    /// response body) may outlive the token's expiry or revocation (see [`TokenLease`]).
    /// Default [`DEFAULT_STREAM_GRACE`].
    pub stream_grace: Duration,
    /// A `Link` header value every payment-required answer carries, pointing buyers at what
    /// the seller publishes (e.g. `</.well-known/l402.json>; rel="l402-manifest"`). Default
    /// none.
    pub manifest_link: Option<http::HeaderValue>,
}

impl Default for PaywallSettings {
    fn default() -> Self {
        Self {
            invoice_timeout: Duration::from_secs(5),
            retry_after_secs: 5,
            max_unpaid_challenges_per_client: Some(64),
            ipv6_prefix_len: DEFAULT_IPV6_PREFIX_LEN,
            stream_grace: DEFAULT_STREAM_GRACE,
            manifest_link: None,
        }
    }
}

/// What the paywall decided about a request, before any IO.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Let it through with no token (price zero or a freebie).
    Free,
    /// A valid token paid for it.
    Paid(Arc<Verified>),
    /// No valid token: answer with a challenge. The error says why.
    Challenge(TokenError),
}

/// A freshly minted challenge.
#[derive(Debug, Clone)]
pub struct MintedChallenge {
    /// The two `WWW-Authenticate` values, `LSAT` then `L402`.
    pub header_values: [String; 2],
    /// The BOLT11 invoice.
    pub bolt11: String,
    /// Its payment hash.
    pub payment_hash: PaymentHash,
    /// The new token's id.
    pub token_id: TokenId,
    /// The price.
    pub amount: Msat,
}

/// Every challenge minted for one unpaid request: the L402 pair and the `Payment` one, as the
/// offer's [`Protocols`](crate::Protocols) ask (each on its own invoice).
#[derive(Debug, Clone, Default)]
pub struct Challenges {
    /// The L402 challenge, if the offer sells L402.
    pub l402: Option<MintedChallenge>,
    /// The `WWW-Authenticate: Payment …` value, if the offer sells MPP and the paywall has
    /// [`MppSettings`].
    pub payment: Option<String>,
}

/// Called after each challenge is minted, e.g. to record it for a dashboard. Must not block:
/// hand the record to a channel and return.
pub type ChallengeObserver = Arc<dyn Fn(&Offer, &MintedChallenge) + Send + Sync>;

/// What the paywall learns while it runs: freebies given, challenges outstanding, rate-limit
/// buckets, verified credentials and counters. Kept across a reconfiguration
/// ([`Paywall::sharing_state_with`]), so a reload neither forgets a flood nor hands out
/// freebies again.
#[derive(Debug, Default)]
struct RunState {
    freebies: Freebies,
    unpaid: OutstandingChallenges,
    rate_limits: RateLimiter,
    verified: VerifiedCache,
    counters: Counters,
}

/// Shared paywall state: keys, backend, revocations and freebies.
pub struct Paywall {
    keys: SharedKeyRing,
    backend: Arc<dyn LightningBackend>,
    revocations: RevocationSet,
    state: Arc<RunState>,
    clock: Arc<dyn Clock + Send + Sync>,
    settings: PaywallSettings,
    observer: Option<ChallengeObserver>,
    mpp: Option<Mpp>,
    sessions: Option<Arc<dyn SessionLedger>>,
}

impl std::fmt::Debug for Paywall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paywall")
            .field("keys", &self.keys)
            .field("revoked", &self.revocations.len())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Paywall {
    /// A paywall minting with `keys` (a `KeyRing`, or a [`SharedKeyRing`] its owner replaces
    /// when keys rotate) and creating invoices on `backend`.
    pub fn new(
        keys: impl Into<SharedKeyRing>,
        backend: Arc<dyn LightningBackend>,
        revocations: RevocationSet,
    ) -> Self {
        Self {
            keys: keys.into(),
            backend,
            revocations,
            state: Arc::default(),
            clock: Arc::new(SystemClock),
            settings: PaywallSettings::default(),
            observer: None,
            mpp: None,
            sessions: None,
        }
    }

    /// Shares what `previous` learned while running (freebies given, outstanding challenges,
    /// rate-limit buckets, verified credentials, counters): build the paywall of a new
    /// configuration with this so a reload forgets nothing a client could exploit.
    pub fn sharing_state_with(mut self, previous: &Paywall) -> Self {
        self.state = Arc::clone(&previous.state);
        self
    }

    /// Replaces the settings.
    pub fn with_settings(mut self, settings: PaywallSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Sells the `Payment` scheme (Lightning charge) to offers whose
    /// [`Protocols`](crate::Protocols) include it.
    pub fn with_mpp(mut self, settings: MppSettings) -> Self {
        self.mpp = Some(Mpp::new(settings));
        self
    }

    /// Sells metered offers ([`Offer::metering`]), keeping their balances in `ledger`.
    pub fn with_sessions(mut self, ledger: Arc<dyn SessionLedger>) -> Self {
        self.sessions = Some(ledger);
        self
    }

    /// The ledger of metered balances, if the paywall sells metered offers.
    pub fn sessions(&self) -> Option<&Arc<dyn SessionLedger>> {
        self.sessions.as_ref()
    }

    /// Whether the paywall can sell the `Payment` scheme.
    pub fn sells_mpp(&self) -> bool {
        self.mpp.is_some()
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// Calls `observer` after each minted challenge.
    pub fn with_observer(mut self, observer: ChallengeObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Unix seconds now, by the paywall's clock.
    pub fn now_unix(&self) -> u64 {
        self.clock.now_unix()
    }

    /// The settings.
    pub fn settings(&self) -> &PaywallSettings {
        &self.settings
    }

    /// The revocation set the paid path reads.
    pub fn revocations(&self) -> &RevocationSet {
        &self.revocations
    }

    /// Its counters since it was built (verified-cache hits and misses, failed
    /// verifications).
    pub fn stats(&self) -> PaywallStats {
        self.state.counters.snapshot()
    }

    /// The Lightning backend.
    pub fn backend(&self) -> &Arc<dyn LightningBackend> {
        &self.backend
    }

    /// The lease of a verified token: when what its request opened must stop.
    pub fn lease(&self, token: &VerifiedToken) -> TokenLease {
        TokenLease::new(
            token,
            self.revocations.clone(),
            self.clock.clone(),
            self.settings.stream_grace,
        )
        .with_keys(self.keys.clone())
    }

    /// The `L402-Token` response header value for a paid request's token, now (see
    /// [`l402_core::token_status`]).
    pub fn token_status(&self, verified: &Verified) -> http::HeaderValue {
        verified.status_header(self.clock.now_unix())
    }

    /// Decides about a request with no IO: verifies its credential against `offer` (its
    /// service, required capabilities and price).
    pub fn authorize(&self, parts: &Parts, offer: &Offer) -> Verdict {
        if offer.price == Msat(0) {
            return Verdict::Free;
        }
        let now = self.clock.now_unix();
        let minter = self.keys.snapshot();
        // The common case, a token presented again in the one `Authorization` header it was
        // verified from, is found by the header's bytes: no decoding, no hashing.
        let raw = single_authorization(&parts.headers);
        if let Some(raw) = raw
            && let Some(hit) =
                self.state
                    .verified
                    .get_raw(raw, offer, now, &self.revocations, minter.keys())
        {
            self.state.counters.cache_hit();
            return Verdict::Paid(hit);
        }
        let header = |name: &HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let headers = CredentialHeaders {
            authorization: parts
                .headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect(),
            grpc_metadata_macaroon: header(&GRPC_METADATA_MACAROON),
            macaroon: header(&MACAROON),
        };
        let result = match parse_credential(&headers) {
            Err(CredentialError::Missing) => Err(TokenError::Missing),
            Err(e) => Err(TokenError::MalformedCredential(e)),
            Ok(credential) => {
                let key = verified_cache::key(offer, &credential);
                if let Some(hit) =
                    self.state
                        .verified
                        .get(&key, now, &self.revocations, minter.keys())
                {
                    // Its first, uncached verification already settled its challenge.
                    self.state.counters.cache_hit();
                    if let Some(raw) = raw {
                        self.state.verified.insert_raw(raw, offer, hit.clone());
                    }
                    return Verdict::Paid(hit);
                }
                self.state.counters.cache_miss();
                let request = offer.request_context(now);
                verify_credential_all(&credential, minter.keys(), &self.revocations, &request)
                    .map(|verified| (key, verified))
            }
        };
        match result {
            Ok((key, credential)) => {
                let verified = Arc::new(Verified::from_credential(&offer.service, credential));
                self.state.verified.insert(key, verified.clone());
                if let Some(raw) = raw {
                    self.state.verified.insert_raw(raw, offer, verified.clone());
                }
                self.settle(offer, &verified);
                Verdict::Paid(verified)
            }
            Err(TokenError::Missing)
                if self.client(offer).is_some_and(|key| {
                    self.state
                        .freebies
                        .take(&offer.service, key, offer.freebies_per_ip)
                }) =>
            {
                Verdict::Free
            }
            Err(e) => {
                if !matches!(e, TokenError::Missing) {
                    self.state.counters.verify_failure();
                }
                Verdict::Challenge(e)
            }
        }
    }

    /// Decides about a request carrying an `Authorization: Payment …` credential, with no IO:
    /// `None` when it carries none or the offer does not sell MPP (the L402 path then
    /// decides). Single use is the caller's next step ([`Paywall::consume`]).
    pub fn authorize_mpp(&self, parts: &Parts, offer: &Offer) -> Option<MppVerdict> {
        let mpp = self.mpp.as_ref().filter(|_| offer.protocols.mpp)?;
        let mut values = parts
            .headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| l402_mpp::Credential::is_payment(v));
        let value = values.next()?;
        if values.next().is_some() {
            self.state.counters.verify_failure();
            return Some(MppVerdict::Refused {
                error: SessionError::Challenge(l402_mpp::ChargeError::Malformed(
                    l402_mpp::credential::CredentialError::Several,
                )),
                challenge_id: None,
            });
        }
        let credential = match l402_mpp::Credential::from_authorization(value) {
            Ok(c) => c,
            Err(e) => {
                self.state.counters.verify_failure();
                return Some(MppVerdict::Refused {
                    error: SessionError::Challenge(l402_mpp::ChargeError::Malformed(e)),
                    challenge_id: None,
                });
            }
        };
        let now = self.clock.now_unix();
        let verdict = match offer.metering {
            Some(_) => mpp
                .verify_session(&credential, offer, now)
                .map(MppVerdict::Session),
            None => mpp
                .verify(&credential, offer, now)
                .map(MppVerdict::Verified)
                .map_err(SessionError::Challenge),
        };
        Some(verdict.unwrap_or_else(|error| {
            self.state.counters.verify_failure();
            MppVerdict::Refused {
                error,
                challenge_id: Some(credential.challenge.id),
            }
        }))
    }

    /// Mints a `Payment` charge challenge (Lightning) for one call inside a request, e.g. an
    /// MCP `tools/call`: a fresh invoice for `offer`'s price, bound to `call`'s scope instead of
    /// the offer's service, under one slot of the client's unpaid-challenge cap. Fails with
    /// [`ChallengeError::Internal`] when the paywall has no [`MppSettings`].
    pub async fn call_challenge(
        &self,
        offer: &Offer,
        call: &crate::CallCharge<'_>,
    ) -> Result<l402_mpp::Challenge, ChallengeError> {
        let mpp = self.mpp.as_ref().ok_or(ChallengeError::Internal(
            "a priced call on a paywall without Payment scheme settings",
        ))?;
        let _slot = self.reserve(offer)?;
        let (invoice, expires) = self.mpp_invoice(offer).await?;
        mpp.charge_challenge(offer, call, &invoice.bolt11, invoice.payment_hash, expires)
            .ok_or(ChallengeError::Internal(
                "cannot write the Payment challenge",
            ))
    }

    /// Verifies a `Payment` charge credential for one call (see [`Paywall::call_challenge`]):
    /// `offer`'s price, `scope`, realm, binding, expiry and preimage; everything but single use,
    /// which is [`Paywall::consume`]'s.
    pub fn verify_call(
        &self,
        credential: &l402_mpp::Credential,
        offer: &Offer,
        scope: &str,
    ) -> Result<l402_mpp::VerifiedCharge, l402_mpp::ChargeError> {
        let Some(mpp) = &self.mpp else {
            return Err(l402_mpp::ChargeError::Unsupported {
                method: credential.challenge.method.clone(),
                intent: credential.challenge.intent.clone(),
            });
        };
        let verified = mpp.verify_scoped(credential, offer, scope, self.clock.now_unix());
        if verified.is_err() {
            self.state.counters.verify_failure();
        }
        verified
    }

    /// Consumes a verified charge in the ledger (on a blocking thread): `Ok(true)` the first
    /// time, `Ok(false)` for a replay. Frees the charge's slot under the unpaid-challenge cap.
    pub async fn consume(
        &self,
        offer: &Offer,
        charge: &l402_mpp::VerifiedCharge,
    ) -> Result<bool, crate::mpp::LedgerError> {
        let Some(mpp) = &self.mpp else {
            return Ok(false);
        };
        let ledger = mpp.ledger.clone();
        let owned = charge.clone();
        let service = offer.service.clone();
        let fresh = tokio::task::spawn_blocking(move || {
            ledger.consume(&owned, &service, owned.expires_unix)
        })
        .await
        .map_err(|e| crate::mpp::LedgerError(Box::new(e)))??;
        if fresh && let Some((key, _)) = self.capped_client(offer) {
            self.state.unpaid.paid(key, &charge.payment_hash);
        }
        Ok(fresh)
    }

    /// A session's deposit or top-up was paid: its challenge no longer counts against the
    /// client.
    pub(crate) fn settle_deposit(&self, offer: &Offer, payment_hash: &PaymentHash) {
        if let Some((key, _)) = self.capped_client(offer) {
            self.state.unpaid.paid(key, payment_hash);
        }
    }

    /// A paid token came back (verified afresh, not from the cache): its challenge no longer
    /// counts against the client.
    fn settle(&self, offer: &Offer, verified: &Verified) {
        if let Some((key, _)) = self.capped_client(offer) {
            self.state
                .unpaid
                .paid(key, &verified.token.identifier.payment_hash);
        }
    }

    /// The key the offer's client is counted under, if its address is known.
    fn client(&self, offer: &Offer) -> Option<std::net::IpAddr> {
        offer
            .client_ip
            .map(|ip| client_key(ip, self.settings.ipv6_prefix_len))
    }

    /// The offer's client key and the unpaid-challenge cap, when both are known and the cap is
    /// on.
    fn capped_client(&self, offer: &Offer) -> Option<(std::net::IpAddr, u32)> {
        self.client(offer)
            .zip(self.settings.max_unpaid_challenges_per_client)
    }

    /// Takes one request from the offer's rate limit (if it has one), counted against the
    /// token when `verdict` is paid, else against the client: `Err` holds the seconds until
    /// the next is allowed (answer 429 with them).
    pub fn admit_request(&self, offer: &Offer, verdict: &Verdict) -> Result<(), u64> {
        let Some(rule) = offer.rate_limit else {
            return Ok(());
        };
        let subject = match verdict {
            Verdict::Paid(verified) => Subject::Token(verified.token.identifier.token_id),
            _ => match self.client(offer) {
                Some(key) => Subject::Client(key),
                None => return Ok(()),
            },
        };
        self.state
            .rate_limits
            .take(rule, subject, self.clock.now_unix())
    }

    /// Creates an invoice (bounded by the invoice timeout) and mints the token it pays for.
    /// The client's slot under the unpaid-challenge cap is held from the start, so concurrent
    /// requests cannot overshoot the cap ([`ChallengeError::TooManyUnpaid`]).
    pub async fn challenge(&self, offer: &Offer) -> Result<MintedChallenge, ChallengeError> {
        let _slot = self.reserve(offer)?;
        self.mint_l402(offer).await
    }

    /// Every challenge the offer's protocols ask for (see [`Challenges`]), under one slot of
    /// the unpaid-challenge cap.
    pub async fn challenges(&self, offer: &Offer) -> Result<Challenges, ChallengeError> {
        let _slot = self.reserve(offer)?;
        let mpp = self.mpp.as_ref().filter(|_| offer.protocols.mpp);
        if !offer.protocols.l402 && mpp.is_none() {
            return Err(ChallengeError::Internal(
                "the offer sells neither L402 nor a configured Payment scheme",
            ));
        }
        if offer.metering.is_some() && self.sessions.is_none() {
            return Err(ChallengeError::Internal(
                "a metered offer on a paywall without a session ledger",
            ));
        }
        let l402 = async {
            match offer.protocols.l402 {
                true => self.mint_l402(offer).await.map(Some),
                false => Ok(None),
            }
        };
        let payment = async {
            let Some(mpp) = mpp else { return Ok(None) };
            let (invoice, expires) = self.mpp_invoice(offer).await?;
            match &offer.metering {
                Some(metering) => mpp.session_header(
                    offer,
                    metering,
                    &invoice.bolt11,
                    invoice.payment_hash,
                    expires,
                ),
                None => mpp.challenge_header(offer, &invoice.bolt11, invoice.payment_hash, expires),
            }
            .map(Some)
            .ok_or(ChallengeError::Internal(
                "cannot write the Payment challenge",
            ))
        };
        let (l402, payment) = tokio::join!(l402, payment);
        Ok(Challenges {
            l402: l402?,
            payment: payment?,
        })
    }

    /// Holds the offer's client's slot under the unpaid-challenge cap.
    fn reserve(
        &self,
        offer: &Offer,
    ) -> Result<Option<crate::challenge_limit::Reservation<'_>>, ChallengeError> {
        Ok(match self.capped_client(offer) {
            Some((key, cap)) => Some(
                self.state
                    .unpaid
                    .reserve(key, self.clock.now_unix(), cap)
                    .map_err(ChallengeError::TooManyUnpaid)?,
            ),
            None => None,
        })
    }

    /// Creates the offer's invoice, bounded by the invoice timeout.
    async fn create_invoice(
        &self,
        offer: &Offer,
    ) -> Result<l402_backend::CreatedInvoice, ChallengeError> {
        let request = CreateInvoice {
            amount: offer.price,
            memo: offer.memo.to_string(),
            expiry_secs: offer.invoice_expiry_secs,
        };
        tokio::time::timeout(
            self.settings.invoice_timeout,
            self.backend.create_invoice(request),
        )
        .await
        .map_err(|_| ChallengeError::Timeout(self.settings.invoice_timeout))?
        .map_err(ChallengeError::Backend)
    }

    /// The invoice of a `Payment` challenge, counted against the offer's client, and when the
    /// challenge expires: no later than the invoice, which was created after that clock read.
    async fn mpp_invoice(
        &self,
        offer: &Offer,
    ) -> Result<(l402_backend::CreatedInvoice, u64), ChallengeError> {
        let now = self.clock.now_unix();
        let invoice = self.create_invoice(offer).await?;
        self.record_unpaid(offer, invoice.payment_hash);
        Ok((invoice, now.saturating_add(offer.invoice_expiry_secs)))
    }

    /// Counts an unpaid invoice against the offer's client.
    fn record_unpaid(&self, offer: &Offer, payment_hash: PaymentHash) {
        if let Some((key, _)) = self.capped_client(offer) {
            let now = self.clock.now_unix();
            let counts_for = offer.invoice_expiry_secs.min(OUTSTANDING_WINDOW_SECS);
            self.state
                .unpaid
                .record(key, payment_hash, now.saturating_add(counts_for), now);
        }
    }

    /// Creates an invoice and mints the L402 token it pays for.
    async fn mint_l402(&self, offer: &Offer) -> Result<MintedChallenge, ChallengeError> {
        let invoice = self.create_invoice(offer).await?;
        let mint = offer.mint_request(invoice.payment_hash);
        let macaroon = self
            .keys
            .snapshot()
            .mint(&mint, self.clock.as_ref(), &mut OsRandom)
            .map_err(ChallengeError::Keys)?;
        let token_id = Identifier::decode(macaroon.identifier())
            .map(|id| id.token_id)
            .map_err(|_| ChallengeError::Internal("minted identifier does not decode"))?;
        let minted = MintedChallenge {
            header_values: challenge_header_values(&macaroon.encode_v2(), &invoice.bolt11),
            bolt11: invoice.bolt11,
            payment_hash: invoice.payment_hash,
            token_id,
            amount: offer.price,
        };
        self.record_unpaid(offer, minted.payment_hash);
        if let Some(observer) = &self.observer {
            observer(offer, &minted);
        }
        Ok(minted)
    }
}

/// The request's `Authorization` value when it is the only one and no other header can carry
/// a macaroon: the bytes the verified cache's first level is keyed on.
fn single_authorization(headers: &http::HeaderMap) -> Option<&[u8]> {
    if crate::forwarded::macaroon_metadata(headers) != (false, false) {
        return None;
    }
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let only = values.next()?;
    values.next().is_none().then_some(only.as_bytes())
}

#[cfg(test)]
mod tests {
    use http::header::AUTHORIZATION;
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::single_authorization;
    use crate::forwarded::{GRPC_METADATA_MACAROON, MACAROON};

    fn headers(pairs: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("host", HeaderValue::from_static("api"));
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_raw_key_is_the_one_authorization_value_with_no_metadata_beside_it() {
        let one = headers(&[(AUTHORIZATION, "L402 mac:pre")]);
        assert_eq!(single_authorization(&one), Some(&b"L402 mac:pre"[..]));
        for refused in [
            headers(&[]),
            headers(&[(AUTHORIZATION, "L402 a:b"), (AUTHORIZATION, "L402 c:d")]),
            headers(&[(AUTHORIZATION, "L402 mac:pre"), (MACAROON, "0201")]),
            headers(&[
                (GRPC_METADATA_MACAROON, "0201"),
                (AUTHORIZATION, "L402 mac:pre"),
            ]),
        ] {
            assert_eq!(single_authorization(&refused), None, "{refused:?}");
        }
    }
}
