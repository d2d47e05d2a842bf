//! One logical request: send (with the scope's token if one is held), and on a challenge drive
//! `l402_core`'s decision machine: pay once within the budget, retry, or stop.

use l402_core::PaymentHash;
use l402_core::client::{Decision, PaidToken, PayPolicy, PaymentPlan, RequestFlow, ResponseView};
use l402_core::invoice::Network;
use l402_core::token_status::TOKEN_STATUS_HEADER;
use l402_store::{Receipt, ReportedStatus, TokenRecord};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};

use crate::blocking::on_store;
use crate::client::L402Client;
use crate::error::ClientError;
use crate::request::{IntoRequestSpec, RequestSpec};
use crate::scope::{Place, Target};
use crate::token::{is_expired, status_changed};

/// The final response of a request, and what it cost.
#[derive(Debug)]
pub struct PaidResponse {
    /// The server's final response (body not yet read).
    pub response: reqwest::Response,
    /// The receipt, when this request made a payment.
    pub payment: Option<Receipt>,
    /// True when the response was obtained with a token already held (no payment by this
    /// request).
    pub reused_token: bool,
    /// What the server said about the token this request carried (its `L402-Token` header),
    /// also kept with the held token; `None` without a token or without the header.
    pub token_status: Option<ReportedStatus>,
    /// The server's `Payment-Receipt`, when this request paid a `Payment` (MPP) charge or
    /// used a `Payment` session and the answer carried a readable one.
    pub payment_receipt: Option<l402_mpp::Receipt>,
    /// What this request did with a `Payment` session (opened, spent from, topped up), when
    /// it used one.
    pub session: Option<crate::session::SessionUse>,
}

impl L402Client {
    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<PaidResponse, ClientError> {
        self.execute(RequestSpec::get(url)?).await
    }

    /// Sends a request, paying the server's L402 challenge if there is one.
    ///
    /// * A token held for the URL's scope is sent first (unless its caveats say it expired).
    /// * On a challenge, the invoice is checked (payment hash matches the macaroon, network,
    ///   expiry, amount ≤ `max_cost`), then the budget, and only then paid; the payment is
    ///   journaled before the wallet is called.
    /// * Concurrent requests for one scope pay once: each waits its turn and reuses a token
    ///   stored meanwhile.
    /// * A held token the server refuses is dropped, and leads to exactly one fresh payment; a
    ///   server that still wants payment after that ends with
    ///   [`StopReason::StillRequiredAfterPayment`](l402_core::client::StopReason).
    ///
    /// The request is sent with the body bytes of `spec` on every attempt.
    pub async fn execute(
        &self,
        request: impl IntoRequestSpec,
    ) -> Result<PaidResponse, ClientError> {
        let spec = request.into_request_spec()?;
        let place = self.place_of(&spec.url)?;
        // A session held for the scope is spent first (like a held token).
        if let Some((target, held)) = self.session_for(&place).await?
            && let Some(paid) = Box::pin(self.spend_session(&target, &spec, held)).await?
        {
            return Ok(paid);
        }
        let mut hop = self.send_following(spec, None, Some(place)).await?;
        let mut flow: Option<RequestFlow> = None;
        let mut payment: Option<Receipt> = None;
        // Whether this request already switched to a token another request paid for; it does
        // so at most once, so a refused token can never make it loop.
        let mut adopted = false;
        loop {
            // Not a challenge, and none is being answered: the usual answer goes straight back.
            if flow.is_none() && !may_be_a_challenge(&hop.response) {
                break;
            }
            let headers = ChallengeHeaders::of(&hop.response);
            let values: Vec<&str> = headers
                .www_authenticate
                .iter()
                .map(String::as_str)
                .collect();
            let view = ResponseView {
                status: hop.response.status().as_u16(),
                www_authenticate: &values,
                grpc_status: headers.grpc_status,
                grpc_message: headers.grpc_message.as_deref(),
            };
            if flow.is_none() && !view.is_payment_required() {
                break;
            }
            if flow.is_none()
                && hop.response.status() == reqwest::StatusCode::PAYMENT_REQUIRED
                && let Some(offered) = crate::mpp::choose(&self.inner.prefer, &values)
            {
                return match offered {
                    crate::mpp::Offered::Charge(charge) => {
                        Box::pin(self.pay_charge(&hop.target, hop.spec, charge)).await
                    }
                    crate::mpp::Offered::Session(session) => {
                        Box::pin(self.open_session(hop.spec, session)).await
                    }
                };
            }
            if flow.is_none() {
                self.check_l402_allowed()?;
            }
            let decision = match &mut flow {
                Some(f) => f.on_response(&view),
                None => {
                    let mut f = RequestFlow::new(self.policy().await?, hop.sent.is_some());
                    let decision = f.on_response(&view);
                    flow = Some(f);
                    decision
                }
            };
            let (plan, drop_cached) = match decision {
                Decision::Done => break,
                Decision::Stop(reason) => return Err(ClientError::Refused(reason)),
                Decision::Pay { plan, drop_cached } => (plan, drop_cached),
            };
            // The challenge is judged, paid and retried where it came from: the origin that
            // answered 402 (after any redirects), never the first URL's.
            let refused = hop
                .sent
                .as_ref()
                .map(|t| (t.payment_hash, t.macaroon.as_slice()));
            // Boxed, as the other paying paths above: a request with a held token never goes
            // there, and should not carry their state in its own future.
            let obtained = Box::pin(self.answer_challenge(
                &mut hop.target,
                &hop.exact,
                hop.spec.url.as_str(),
                &plan,
                drop_cached,
                refused,
                !adopted,
            ))
            .await?;
            let there = hop.spec;
            match obtained {
                Obtained::Adopted(fresh) => {
                    adopted = true;
                    hop = Box::pin(self.send_following(there, Some(fresh), None)).await?;
                    flow = Some(RequestFlow::new(self.policy().await?, true));
                }
                Obtained::Paid(token, receipt) => {
                    if let Some(f) = flow.as_mut() {
                        // Moves the decision machine past the payment, so a further challenge
                        // stops instead of paying again. `pay` already checked the preimage.
                        f.on_paid(token.preimage.clone())?;
                    }
                    payment = Some(receipt);
                    hop = Box::pin(self.send_following(there, Some(token), None)).await?;
                }
            }
        }
        let token_status = match &hop.sent {
            Some(sent) => self.note_status(&hop.response, sent).await,
            None => None,
        };
        Ok(PaidResponse {
            response: hop.response,
            reused_token: payment.is_none() && hop.sent.is_some(),
            payment,
            token_status,
            payment_receipt: None,
            session: None,
        })
    }

    /// Reads the `L402-Token` header of the answer to a request that carried `sent` and keeps
    /// what it says with the held token (a store write only when it says something new: see
    /// [`status_changed`]). A store failure is logged, not returned: the answer is already here.
    async fn note_status(
        &self,
        response: &reqwest::Response,
        sent: &TokenRecord,
    ) -> Option<ReportedStatus> {
        let header = response.headers().get(TOKEN_STATUS_HEADER);
        let status = self
            .inner
            .token_cache
            .reported_status(header, sent, self.now())?;
        if status_changed(sent.status.as_ref(), &status) {
            let (scope, hash) = (sent.scope.clone(), sent.payment_hash);
            let written = on_store(&self.inner.store, move |s| {
                s.tokens().record_status(&scope, &hash, &status)
            })
            .await;
            self.inner.token_cache.clear();
            if let Err(error) = written {
                tracing::warn!(scope = %sent.scope, %error, "cannot record the token's status");
            }
        }
        Some(status)
    }

    /// Sends `spec`, following redirects by hand up to the configured number of hops. Before
    /// each hop: the destination guard, and (for redirect targets) the domain lists. Each hop
    /// carries only a token of its own origin: `token` (just paid or adopted) when the hop is
    /// its origin, else the one held for the hop's URL. `place`, when known, is `spec`'s.
    async fn send_following(
        &self,
        mut spec: RequestSpec,
        token: Option<TokenRecord>,
        mut place: Option<Place>,
    ) -> Result<Hop, ClientError> {
        let mut hops = 0;
        loop {
            self.check_destination(&spec.url)?;
            let here = match place.take() {
                Some(place) => place,
                None => self.place_of(&spec.url)?,
            };
            let (mut target, mut exact, mut sent) = match &token {
                Some(t) if t.origin == here.target.origin => {
                    let Place { mut target, exact } = here;
                    target.scope = t.scope.clone();
                    (target, exact, Some(t.clone()))
                }
                _ => self.token_at(here).await?,
            };
            let response = self.send(&spec, sent.as_ref()).await?;
            // A caller's HTTP client that followed redirects by itself: the answer is judged
            // by where it came from, and not followed further.
            let followed_by_itself = response.url() != &spec.url;
            if followed_by_itself {
                spec.url = response.url().clone();
                (target, exact, _) = self.token_for(&spec.url).await?;
                let origin = spec.url.origin().ascii_serialization();
                sent = sent.filter(|t| t.origin == origin);
            }
            let next = if followed_by_itself || self.inner.max_redirects == 0 {
                None
            } else {
                crate::redirect::next_hop(
                    &spec,
                    response.status(),
                    crate::redirect::location(&response),
                )?
            };
            let Some(next) = next else {
                return Ok(Hop {
                    response,
                    spec,
                    target,
                    exact,
                    sent,
                });
            };
            hops += 1;
            let refuse = |reason: String| ClientError::RedirectRefused {
                from: spec.url.to_string(),
                to: next.url.to_string(),
                reason,
            };
            if hops > self.inner.max_redirects {
                return Err(refuse(format!(
                    "more than {} redirects",
                    self.inner.max_redirects
                )));
            }
            let host = next.url.host_str().unwrap_or_default();
            crate::budget::check_domain(&self.inner.budget, host)
                .map_err(|e| refuse(e.to_string()))?;
            tracing::debug!(from = %spec.url, to = %next.url, "following a redirect");
            spec = next;
        }
    }

    /// The destination guard's verdict on `url`.
    pub(crate) fn check_destination(&self, url: &Url) -> Result<(), ClientError> {
        match &self.inner.guard {
            Some(guard) => guard
                .check(url)
                .map_err(|reason| ClientError::DestinationRefused {
                    url: url.to_string(),
                    reason,
                }),
            None => Ok(()),
        }
    }

    /// Where `url` goes and its exact-path scope, under this client's scope rule.
    pub(crate) fn place_of(&self, url: &Url) -> Result<Place, ClientError> {
        Place::of(url, self.inner.scope_rule)
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))
    }

    /// The target of `url`, its exact-path scope, and the token to send there (see
    /// [`token_at`](Self::token_at)).
    async fn token_for(
        &self,
        url: &Url,
    ) -> Result<(Target, String, Option<TokenRecord>), ClientError> {
        self.token_at(self.place_of(url)?).await
    }

    /// The target of `place`, its exact-path scope, and the token to send there: a token
    /// learned for this exact path (because the broader scope holds another service's token)
    /// takes precedence over the scope's, and then `target.scope` is the exact path.
    async fn token_at(
        &self,
        place: Place,
    ) -> Result<(Target, String, Option<TokenRecord>), ClientError> {
        let found = self.cached_usable_token_at(&place).await?;
        let Place { mut target, exact } = place;
        let token = match found {
            Some((scope, token)) => {
                target.scope = scope;
                Some(token)
            }
            None => None,
        };
        Ok((target, exact, token))
    }

    /// Answers a decision to pay `plan` for `url`: drops the refused token (`refused`: its
    /// payment hash and macaroon, when `drop_cached`) or, when it is another service's token
    /// behind the same scope, keeps it and moves `target.scope` to the exact path; then takes
    /// the scope's single-flight turn, resolves journal leftovers, reuses a token another request
    /// stored meanwhile (when `may_adopt`), or pays within the budget.
    #[allow(clippy::too_many_arguments)]
    async fn answer_challenge(
        &self,
        target: &mut Target,
        exact: &str,
        url: &str,
        plan: &PaymentPlan,
        drop_cached: bool,
        refused: Option<(PaymentHash, &[u8])>,
        may_adopt: bool,
    ) -> Result<Obtained, ClientError> {
        // The held token is for another service behind the same scope (its `services` caveat
        // differs from the new challenge's): keep it, and learn a token for this exact path
        // instead of evicting the other service's token.
        if drop_cached
            && let Some((_, macaroon)) = refused
            && target.scope != exact
            && crate::token::other_service(macaroon, &plan.challenge.macaroon)
        {
            tracing::info!(scope = %exact, "the held token is for another service; scoping a new one to this path");
            target.scope = exact.to_owned();
        } else if drop_cached && let Some((hash, _)) = refused {
            tracing::info!(scope = %target.scope, "the server refused the held token; dropping it");
            let scope = target.scope.clone();
            on_store(&self.inner.store, move |s| {
                s.tokens().remove_if(&scope, &hash)
            })
            .await?;
        }
        let turn = self.inner.locks.lock(&target.scope).await;
        self.resolve_before_paying(target).await?;
        // A token was refused (dropped above) or is missing, and the journal may have just
        // stored a recovered one: what this client cached may be stale from here on (the
        // adoption below reads the store itself).
        self.inner.token_cache.clear();
        if may_adopt
            && let Some(fresh) = self.usable_token(&target.scope).await?
            && refused.map(|(hash, _)| hash) != Some(fresh.payment_hash)
        {
            drop(turn);
            tracing::debug!(scope = %target.scope, "reusing a token paid for meanwhile");
            return Ok(Obtained::Adopted(fresh));
        }
        if !self.inner.auto_pay {
            return Err(ClientError::PaymentRequired {
                amount: plan.amount,
                scope: target.scope.clone(),
                payment_hash: plan.payment_hash,
            });
        }
        let paid = self.pay(target, url, plan).await;
        self.inner.token_cache.clear();
        let (token, receipt) = paid?;
        drop(turn);
        Ok(Obtained::Paid(token, receipt))
    }

    /// The token held for `scope`, unless its caveats say it expired (then it is dropped).
    pub(crate) async fn usable_token(
        &self,
        scope: &str,
    ) -> Result<Option<TokenRecord>, ClientError> {
        Ok(self
            .usable_token_in(vec![scope.to_owned()])
            .await?
            .map(|(_, token)| token))
    }

    /// [`usable_token_in`](Self::usable_token_in) of `place`'s token scopes, answered from the
    /// token cache when an earlier request found an unexpired token for the same exact path
    /// (which decides the scopes) within the cache's TTL.
    async fn cached_usable_token_at(
        &self,
        place: &Place,
    ) -> Result<Option<(String, TokenRecord)>, ClientError> {
        let cache = &self.inner.token_cache;
        let generation = match cache.get(&place.exact) {
            Ok(found) if !is_expired(&found.1, self.now()) => return Ok(Some(found)),
            // Expired: the store lookup drops it.
            Ok(_) => cache.clear(),
            Err(generation) => generation,
        };
        let found = self.usable_token_in(place.token_scopes()).await?;
        if let Some(found) = &found {
            cache.insert(generation, place.exact.clone(), found.clone());
        }
        Ok(found)
    }

    /// The first usable token among `scopes`, in order, with the scope it is held under; one
    /// store round trip for all of them. Expired tokens met on the way are dropped.
    pub(crate) async fn usable_token_in(
        &self,
        scopes: Vec<String>,
    ) -> Result<Option<(String, TokenRecord)>, ClientError> {
        let now = self.now();
        on_store(&self.inner.store, move |s| {
            for scope in scopes {
                let Some(t) = s.tokens().get(&scope)? else {
                    continue;
                };
                if is_expired(&t, now) {
                    s.tokens().remove_if(&scope, &t.payment_hash)?;
                    continue;
                }
                return Ok(Some((scope, t)));
            }
            Ok(None)
        })
        .await
    }

    /// What the decision machine may pay: the wallet's network, `max_cost`, now.
    pub(crate) async fn policy(&self) -> Result<PayPolicy, ClientError> {
        Ok(PayPolicy {
            network: self.network().await?,
            max_amount: self.inner.max_cost,
            now_unix: self.now(),
        })
    }

    /// The configured network, or the wallet's (asked once).
    async fn network(&self) -> Result<Network, ClientError> {
        if let Some(n) = self.inner.configured_network {
            return Ok(n);
        }
        self.inner
            .network
            .get_or_try_init(|| async {
                self.inner
                    .wallet
                    .get()
                    .await?
                    .node_info()
                    .await
                    .map(|info| info.network)
                    .map_err(ClientError::Wallet)
            })
            .await
            .copied()
    }

    /// Sends one attempt, with `token` as the `Authorization` header when given.
    pub(crate) async fn send(
        &self,
        spec: &RequestSpec,
        token: Option<&TokenRecord>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut headers = spec.headers.clone();
        if let Some(accept) = crate::mpp::accept_payment(&self.inner.prefer)
            && !headers.contains_key(l402_mpp::ACCEPT_PAYMENT_HEADER)
        {
            headers.insert(
                l402_mpp::ACCEPT_PAYMENT_HEADER,
                HeaderValue::from_static(accept),
            );
        }
        if let Some(t) = token {
            headers.insert(AUTHORIZATION, self.inner.token_cache.authorization(t)?);
        }
        // Through `RequestBuilder`, which also turns a URL's `user:password@` into Basic
        // credentials (a bare `reqwest::Request` would leave them in the URL).
        let mut req = self
            .inner
            .http
            .request(spec.method.clone(), spec.url.clone())
            .headers(headers);
        if let Some(body) = &spec.body {
            req = req.body(body.clone());
        }
        Ok(req.send().await?)
    }
}

/// Where a request landed after its redirects.
struct Hop {
    /// The answer of the last hop.
    response: reqwest::Response,
    /// The last hop's request (where a payment is retried).
    spec: RequestSpec,
    /// The last hop's target: its origin, domain, and the scope its token lives under.
    target: Target,
    /// The last hop's exact-path scope.
    exact: String,
    /// The token the last hop carried.
    sent: Option<TokenRecord>,
}

/// How [`L402Client::answer_challenge`] answered a challenge.
enum Obtained {
    /// Another request stored a token for the scope meanwhile: retry with it; nothing was paid.
    Adopted(TokenRecord),
    /// Paid: the new (stored) token and the receipt.
    Paid(TokenRecord, Receipt),
}

/// A token held for a scope, for transports that attach the credential themselves (the gRPC
/// layer sends it as `macaroon` metadata, [`PaidToken::grpc_metadata_value`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldToken {
    /// The scope key it is stored under.
    pub scope: String,
    /// The payment hash it was bought with (what identifies it in the store).
    pub payment_hash: PaymentHash,
    /// The macaroon and its preimage.
    pub token: PaidToken,
}

impl From<TokenRecord> for HeldToken {
    fn from(t: TokenRecord) -> Self {
        Self {
            scope: t.scope,
            payment_hash: t.payment_hash,
            token: PaidToken {
                macaroon: t.macaroon,
                preimage: t.preimage,
            },
        }
    }
}

/// What [`L402Client::pay_challenge`] obtained.
#[derive(Debug, Clone)]
pub struct ChallengePaid {
    /// The token to retry with, stored for its scope.
    pub token: HeldToken,
    /// The receipt of the payment; `None` when another request paid for the scope meanwhile
    /// and its token is reused (nothing was paid).
    pub receipt: Option<Receipt>,
}

impl L402Client {
    /// The token a request to `url` would carry now: the one held for its exact path (learned
    /// when the broader scope holds another service's token), else the one held for its scope.
    /// Expired tokens are dropped, not returned. For transports other than the built-in HTTP
    /// client (the gRPC layer), which attach the credential themselves.
    pub async fn held_token(&self, url: &str) -> Result<Option<HeldToken>, ClientError> {
        let url = parse_url(url)?;
        let (_, _, token) = self.token_for(&url).await?;
        Ok(token.map(HeldToken::from))
    }

    /// One `Authorization` value presenting the tokens held for each of `urls` together, for
    /// a request that spans services of one server (see
    /// [`combined_authorization_value`](crate::token::combined_authorization_value) for the
    /// form and what servers do with it). Each URL's token is found as
    /// [`held_token`](Self::held_token) finds it; URLs sharing a token add it once; URLs with
    /// none add nothing. `None` when no URL has a token. Send it yourself (e.g. with
    /// `reqwest`); [`execute`](Self::execute) sends only the one token of its URL's scope.
    pub async fn combined_authorization(
        &self,
        urls: &[&str],
    ) -> Result<Option<String>, ClientError> {
        let mut tokens: Vec<TokenRecord> = Vec::new();
        for url in urls {
            let (_, _, token) = self.token_for(&parse_url(url)?).await?;
            if let Some(t) = token
                && !tokens
                    .iter()
                    .any(|held| held.payment_hash == t.payment_hash)
            {
                tokens.push(t);
            }
        }
        if tokens.is_empty() {
            return Ok(None);
        }
        crate::token::combined_authorization_value(&tokens).map(Some)
    }

    /// Pays the L402 challenge in `response`, an answer from `url` that asks for payment (HTTP
    /// 402, or gRPC `grpc-status` 13/2 with "payment required"), through the payment path of
    /// [`execute`](Self::execute): the invoice checks, the budget, the journal entry before the
    /// wallet call, the token and receipt stored after it, one payment per scope at a time
    /// (a token another request stored meanwhile is returned instead, with no receipt).
    ///
    /// `sent` is the token the request carried ([`held_token`](Self::held_token)), if any: a
    /// challenge in answer to it means the server refused it, and it is dropped (or kept, when
    /// the challenge is for another service behind the same scope; the new token is then
    /// scoped to the exact path). Retry once with the returned token; a server that still
    /// asks for payment must not be paid again.
    ///
    /// Errors as [`execute`](Self::execute): [`ClientError::Budget`] (nothing paid),
    /// [`ClientError::Refused`], [`ClientError::PaymentFailed`], [`ClientError::PaymentPending`],
    /// [`ClientError::PaymentRequired`] with automatic payment off; and
    /// [`ClientError::InvalidRequest`] when `response` does not ask for payment.
    pub async fn pay_challenge(
        &self,
        url: &str,
        response: &ResponseView<'_>,
        sent: Option<&HeldToken>,
    ) -> Result<ChallengePaid, ClientError> {
        if !response.is_payment_required() {
            return Err(ClientError::InvalidRequest(
                "the response does not ask for payment".into(),
            ));
        }
        self.check_l402_allowed()?;
        let url = parse_url(url)?;
        let mut target = Target::of(&url, self.inner.scope_rule)
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let exact = target.exact_path_scope(&url);
        if let Some(t) = sent {
            // Where the refused token lives (the scope, or the exact path).
            target.scope = t.scope.clone();
        }
        let mut flow = RequestFlow::new(self.policy().await?, sent.is_some());
        let (plan, drop_cached) = match flow.on_response(response) {
            Decision::Pay { plan, drop_cached } => (plan, drop_cached),
            Decision::Stop(reason) => return Err(ClientError::Refused(reason)),
            Decision::Done => {
                return Err(ClientError::Internal(
                    "the decision machine found nothing to pay".into(),
                ));
            }
        };
        let refused = sent.map(|t| (t.payment_hash, t.token.macaroon.as_slice()));
        let obtained = self
            .answer_challenge(
                &mut target,
                &exact,
                url.as_str(),
                &plan,
                drop_cached,
                refused,
                true,
            )
            .await?;
        match obtained {
            Obtained::Adopted(fresh) => Ok(ChallengePaid {
                token: fresh.into(),
                receipt: None,
            }),
            Obtained::Paid(token, receipt) => {
                flow.on_paid(token.preimage.clone())?;
                Ok(ChallengePaid {
                    token: token.into(),
                    receipt: Some(receipt),
                })
            }
        }
    }
}

/// Parses a request URL.
fn parse_url(url: &str) -> Result<Url, ClientError> {
    Url::parse(url).map_err(|e| ClientError::InvalidRequest(format!("bad URL {url:?}: {e}")))
}

/// Whether `response` may ask for payment ([`ResponseView::is_payment_required`]): a 402, or
/// an answer with a `grpc-status` (a gRPC error can say "payment required"). Anything else
/// cannot, so its headers need no closer look.
fn may_be_a_challenge(response: &reqwest::Response) -> bool {
    response.status() == reqwest::StatusCode::PAYMENT_REQUIRED
        || response.headers().contains_key("grpc-status")
}

/// The response headers the decision needs, owned.
struct ChallengeHeaders {
    www_authenticate: Vec<String>,
    grpc_status: Option<u32>,
    grpc_message: Option<String>,
}

impl ChallengeHeaders {
    fn of(response: &reqwest::Response) -> Self {
        let headers = response.headers();
        Self {
            www_authenticate: headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect(),
            grpc_status: headers
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
            grpc_message: headers
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}
