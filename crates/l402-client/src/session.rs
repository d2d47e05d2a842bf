//! Paying the HTTP `Payment` scheme's Lightning **session** intent: prepaid, metered access.
//!
//! * **Open**: a `402` whose session challenge the preference picks ([`crate::mpp::choose`]) is
//!   checked ([`crate::mpp::session_plan`]), its deposit paid through the ordinary payment
//!   path (budget, journal, spend ledger, receipt), an amountless return invoice created with
//!   the client's wallet, the session stored for the URL's path, and the request sent again
//!   with the `open` credential.
//! * **Spend**: later requests to the scope carry the `bearer` credential (like a held token).
//! * **Top up**: a `402` `insufficient-balance` to a bearer request carries a fresh session
//!   challenge: its deposit is checked and paid like the first, the `topUp` credential sent,
//!   then the request once more as bearer. At most one top-up per request.
//! * **Close**: [`L402Client::close_sessions`] or [`L402Client::close_session`] send `close`;
//!   the seller refunds the balance to the return invoice. The refund the seller announces is
//!   recorded, and the client's wallet is asked whether it arrived: only a refund it saw
//!   arrive is taken off the budget's spending (at the session's opening time), so deposits,
//!   usage and refunds add up in the store (`l402_store::HeldSession`) while no seller can
//!   raise a buyer's budget by claiming a refund.
//!
//! Sessions are kept per exact path (origin and path, no query), not per token scope: the
//! paths behind one token scope may be different services, and a seller answers a session
//! sent to another service's path as unknown. A seller answering `session-closed` or
//! `session-not-found` to a held session ends it on the client too (recorded closed, with no
//! refund), and the request goes on unpaid, as a first request would.

use l402_core::client::StopReason;
use l402_core::{Msat, PaymentHash};
use l402_lightning::{CreateInvoice, InvoiceState};
use l402_mpp::Challenge;
use l402_mpp::problem::ProblemType;
use l402_mpp::session::{bearer_credential, close_credential, open_credential, top_up_credential};
use l402_store::{HeldSession, SessionClosing};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};

use crate::blocking::on_store;
use crate::client::L402Client;
use crate::error::ClientError;
use crate::execute::PaidResponse;
use crate::mpp::session_plan;
use crate::request::RequestSpec;
use crate::scope::{Place, Target};

/// The response header a metered seller reports a session's balance in:
/// `balance_msat=N, reserved_msat=M` (the balance after this request's reservation).
pub const SESSION_STATUS_HEADER: &str = "l402-session";

/// How long the return invoice stays payable (a session may stay open that long).
const RETURN_INVOICE_EXPIRY_SECS: u64 = 30 * 24 * 3600;

/// What a request did with a `Payment` session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUse {
    /// The session id (the opening deposit's payment hash).
    pub session_id: PaymentHash,
    /// The scope the session is held for (the origin and path it was opened at).
    pub scope: String,
    /// True when this request opened the session (and paid its deposit).
    pub opened: bool,
    /// True when this request topped the session up (and paid a fresh deposit).
    pub topped_up: bool,
    /// Every deposit paid into the session so far (invoice amounts).
    pub deposit: Msat,
    /// The balance after this request's reservation, as the seller reported it.
    pub balance: Option<Msat>,
    /// What this request reserved, as the seller reported it (it is billed at most that).
    pub reserved: Option<Msat>,
}

/// A closed session: what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedSession {
    /// The session id.
    pub session_id: PaymentHash,
    /// The scope it was held for (the origin and path it was opened at).
    pub scope: String,
    /// How many deposits were paid (the opening one and each top-up).
    pub deposits: u32,
    /// What the deposits paid together.
    pub deposit: Msat,
    /// The refund the seller announced; `None` when the seller no longer knew the session.
    pub refund: Option<Msat>,
    /// The seller's word on the refund (`succeeded`, `failed`, `skipped`), or why the session
    /// ended without one (`gone`: the seller had closed or forgotten it).
    pub refund_status: Option<String>,
    /// What the client's wallet saw arrive on the return invoice (`None` when it could not
    /// tell, or nothing arrived).
    pub refund_received: Option<Msat>,
    /// The seller's `Payment-Receipt` for the close, if readable.
    pub receipt: Option<l402_mpp::Receipt>,
}

impl ClosedSession {
    /// What the session's usage cost: the deposits less the announced refund (a refund that
    /// failed is still owed by the seller, and counted as not spent here; see
    /// [`refund_received`](Self::refund_received) for what arrived).
    pub fn spent(&self) -> Option<Msat> {
        self.refund
            .map(|r| Msat(self.deposit.0.saturating_sub(r.0)))
    }
}

/// Whether a bearer request topped its session up.
enum TopUp {
    /// Not yet: an `insufficient-balance` may be answered with one top-up.
    NotYet,
    /// Done (with the receipt of the deposit it paid; none when another request's top-up was
    /// reused): a further `insufficient-balance` ends the request.
    Done(Option<l402_store::Receipt>),
}

/// A session the client holds or held, without its secret (the deposit preimage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id.
    pub session_id: PaymentHash,
    /// The scope it is held for (the origin and path it was opened at).
    pub scope: String,
    /// The method and URL of the request that opened it (top-ups and the close go there).
    pub method: String,
    /// The opening request's URL.
    pub url: String,
    /// How many deposits were paid.
    pub deposits: u32,
    /// What the deposits paid together.
    pub deposit: Msat,
    /// The balance the seller last reported.
    pub balance: Option<Msat>,
    /// When it was opened, Unix seconds.
    pub opened_at: u64,
    /// When it was closed, Unix seconds; `None` while open.
    pub closed_at: Option<u64>,
    /// The refund the seller announced on close.
    pub refund: Option<Msat>,
    /// The seller's word on the refund, or `gone`.
    pub refund_status: Option<String>,
    /// What the wallet saw arrive on the return invoice.
    pub refund_received: Option<Msat>,
}

impl From<&HeldSession> for SessionInfo {
    fn from(s: &HeldSession) -> Self {
        Self {
            session_id: s.session_id,
            scope: s.scope.clone(),
            method: s.method.clone(),
            url: s.url.clone(),
            deposits: s.deposits,
            deposit: s.deposit,
            balance: s.balance,
            opened_at: s.opened_at,
            closed_at: s.closed_at,
            refund: s.refund,
            refund_status: s.refund_status.clone(),
            refund_received: s.refund_received,
        }
    }
}

/// How a bearer request ended.
enum Spent {
    /// The seller served it (or answered something other than a payment request).
    Served(Box<PaidResponse>),
    /// The seller no longer knows the session: it was ended here; go on unpaid.
    Gone,
}

impl L402Client {
    /// The open session held for `place` (kept per exact path: see the module docs), with its
    /// target (whose scope is that path).
    pub(crate) async fn session_for(
        &self,
        place: &Place,
    ) -> Result<Option<(Target, HeldSession)>, ClientError> {
        let cache = &self.inner.token_cache;
        let Err(generation) = cache.session_absent(&place.exact) else {
            return Ok(None);
        };
        self.held_session_for(place.session_target(), Some(generation))
            .await
    }

    /// The open session held for `url`'s scope, read from the store (never from the cache:
    /// what decides whether to pay a deposit).
    async fn session_in_store(
        &self,
        url: &Url,
    ) -> Result<Option<(Target, HeldSession)>, ClientError> {
        let target = session_target(url, self.inner.scope_rule)?;
        self.held_session_for(target, None).await
    }

    /// The store's open session for `target`'s scope; with `remember` (the cache's generation
    /// when the lookup began), its absence is remembered.
    async fn held_session_for(
        &self,
        target: Target,
        remember: Option<u64>,
    ) -> Result<Option<(Target, HeldSession)>, ClientError> {
        let cache = &self.inner.token_cache;
        let scope = target.scope.clone();
        let found = on_store(&self.inner.store, move |s| {
            s.held_sessions().open_for(&scope)
        })
        .await?;
        if let (None, Some(generation)) = (&found, remember) {
            cache.note_no_session(generation, target.scope.clone());
        }
        Ok(found.map(|held| (target, held)))
    }

    /// Sends `spec` with the held session's `bearer` credential, topping the session up once
    /// if the seller asks. `None` when the seller no longer knows the session (ended here).
    pub(crate) async fn spend_session(
        &self,
        target: &Target,
        spec: &RequestSpec,
        held: HeldSession,
    ) -> Result<Option<PaidResponse>, ClientError> {
        match self.bearer(target, spec, held, TopUp::NotYet).await? {
            Spent::Served(paid) => Ok(Some(*paid)),
            Spent::Gone => Ok(None),
        }
    }

    /// One bearer request; on `insufficient-balance` a top-up and one more, unless this
    /// request already topped up.
    async fn bearer(
        &self,
        target: &Target,
        spec: &RequestSpec,
        held: HeldSession,
        top_up: TopUp,
    ) -> Result<Spent, ClientError> {
        self.check_destination(&spec.url)?;
        let challenge = stored_challenge(&held)?;
        let credential = bearer_credential(&challenge, &held.session_id, &held.preimage);
        let response = self
            .send_authorized(spec, &credential.to_authorization())
            .await?;
        if response.status() != StatusCode::PAYMENT_REQUIRED {
            let receipt = match top_up {
                TopUp::NotYet => None,
                TopUp::Done(receipt) => receipt,
            };
            let session = self
                .note_balance(&held, &response, false, receipt.is_some())
                .await;
            return Ok(Spent::Served(Box::new(served(response, receipt, session))));
        }
        let values = www_authenticate(&response);
        let problem = problem_type(response).await;
        if problem == Some(ProblemType::InsufficientBalance.uri()) {
            if matches!(top_up, TopUp::Done(_)) {
                tracing::warn!(session = %held.session_id, "the seller still wants a top-up after one");
                return Err(ClientError::Refused(StopReason::StillRequiredAfterPayment));
            }
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let Some(fresh) = first_session_challenge(&values) else {
                return Err(ClientError::BadPaymentChallenge(
                    "insufficient-balance without a session challenge to top up with".into(),
                ));
            };
            let (held, receipt) = self.top_up(target, spec, held, fresh).await?;
            return Box::pin(self.bearer(target, spec, held, TopUp::Done(receipt))).await;
        }
        tracing::info!(session = %held.session_id, problem = ?problem, "the seller no longer accepts the session; ending it");
        self.end_gone(&held).await?;
        Ok(Spent::Gone)
    }

    /// Pays the deposit of `fresh` (a top-up challenge), sends the `topUp` credential, and
    /// returns the session with the deposit added, and the deposit's receipt. One top-up per
    /// session at a time: a request that finds the session topped up by another meanwhile
    /// pays nothing and returns it (without a receipt).
    async fn top_up(
        &self,
        target: &Target,
        spec: &RequestSpec,
        held: HeldSession,
        fresh: Challenge,
    ) -> Result<(HeldSession, Option<l402_store::Receipt>), ClientError> {
        let (plan, _) = session_plan(&fresh, &self.policy().await?)?;
        if !self.inner.auto_pay {
            return Err(ClientError::PaymentRequired {
                amount: plan.amount,
                scope: target.scope.clone(),
                payment_hash: plan.payment_hash,
            });
        }
        let turn = self.inner.locks.lock(&target.scope).await;
        let id = held.session_id;
        let now_held = on_store(&self.inner.store, move |s| s.held_sessions().get(&id)).await?;
        match now_held {
            Some(now) if now.closed_at.is_none() && now.deposits > held.deposits => {
                tracing::debug!(session = %id, "reusing a top-up paid meanwhile");
                return Ok((now, None));
            }
            Some(now) if now.closed_at.is_none() => {}
            _ => {
                return Err(ClientError::InvalidRequest(format!(
                    "the session {id} was closed meanwhile"
                )));
            }
        }
        self.resolve_before_paying(target).await?;
        let (paid, receipt) = self.pay(target, spec.url.as_str(), &plan).await?;
        let (id, amount, now) = (held.session_id, plan.amount, self.now());
        on_store(&self.inner.store, move |s| {
            s.held_sessions().add_deposit(&id, amount, now)
        })
        .await?;
        let credential = top_up_credential(&fresh, &held.session_id, &paid.preimage);
        let answer = self
            .send_authorized(spec, &credential.to_authorization())
            .await?;
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        if status != StatusCode::OK || body["status"] != "ok" {
            tracing::warn!(session = %held.session_id, %status, %body, "the seller did not confirm the top-up");
            return Err(ClientError::Refused(StopReason::StillRequiredAfterPayment));
        }
        drop(turn);
        tracing::info!(session = %held.session_id, amount = %amount, "session topped up");
        let mut held = held;
        held.deposits += 1;
        held.deposit = Msat(held.deposit.0.saturating_add(amount.0));
        Ok((held, Some(receipt)))
    }

    /// Opens a session with `challenge` (a session challenge of the 402 that `spec` got, for
    /// `target`): checks it, creates the return invoice, pays the deposit, keeps the session,
    /// and sends `spec` again with the `open` credential. Another request that opened a
    /// session for the scope meanwhile is reused instead.
    pub(crate) async fn open_session(
        &self,
        spec: RequestSpec,
        challenge: Challenge,
    ) -> Result<PaidResponse, ClientError> {
        let target = &session_target(&spec.url, self.inner.scope_rule)?;
        let (plan, _) = session_plan(&challenge, &self.policy().await?)?;
        if !self.inner.auto_pay {
            return Err(ClientError::PaymentRequired {
                amount: plan.amount,
                scope: target.scope.clone(),
                payment_hash: plan.payment_hash,
            });
        }
        let turn = self.inner.locks.lock(&target.scope).await;
        if let Some((there, held)) = self.session_in_store(&spec.url).await? {
            drop(turn);
            tracing::debug!(scope = %there.scope, "reusing a session opened meanwhile");
            return match self.spend_session(&there, &spec, held).await? {
                Some(paid) => Ok(paid),
                None => Err(ClientError::Refused(StopReason::StillRequiredAfterPayment)),
            };
        }
        self.resolve_before_paying(target).await?;
        // The return invoice first: a wallet that cannot make one pays nothing.
        let wallet = self.inner.wallet.get().await?;
        let refund_to = wallet
            .create_invoice(CreateInvoice {
                amount: Msat(0),
                memo: format!("l402 session refund {}", plan.payment_hash),
                expiry_secs: RETURN_INVOICE_EXPIRY_SECS,
            })
            .await
            .map_err(ClientError::Wallet)?;
        let (paid, receipt) = self.pay(target, spec.url.as_str(), &plan).await?;
        let now = self.now();
        let header = challenge
            .to_header()
            .map_err(|e| ClientError::Internal(format!("the session challenge: {e}")))?;
        let held = HeldSession {
            session_id: plan.payment_hash,
            scope: target.scope.clone(),
            origin: target.origin.clone(),
            domain: target.domain.clone(),
            url: spec.url.to_string(),
            method: spec.method.to_string(),
            challenge: header,
            preimage: paid.preimage.clone(),
            return_invoice: refund_to.bolt11.clone(),
            return_hash: refund_to.payment_hash,
            deposits: 1,
            deposit: plan.amount,
            balance: None,
            opened_at: now,
            updated_at: now,
            closed_at: None,
            refund: None,
            refund_status: None,
            refund_received: None,
        };
        let kept = held.clone();
        on_store(&self.inner.store, move |s| s.held_sessions().put(&kept)).await?;
        self.inner.token_cache.clear();
        drop(turn);
        tracing::info!(session = %held.session_id, scope = %held.scope, deposit = %held.deposit, "session opened");
        let credential = open_credential(&challenge, &paid.preimage, &refund_to.bolt11);
        let response = self
            .send_authorized(&spec, &credential.to_authorization())
            .await?;
        if response.status() == StatusCode::PAYMENT_REQUIRED {
            let problem = problem_type(response).await;
            tracing::warn!(session = %held.session_id, problem = ?problem, "the seller refused to open the paid session");
            self.end_gone(&held).await?;
            return Err(ClientError::Refused(StopReason::StillRequiredAfterPayment));
        }
        let session = self.note_balance(&held, &response, true, false).await;
        Ok(served(response, Some(receipt), session))
    }

    /// The open sessions, oldest first; with `closed`, the latest `limit` sessions, open or
    /// closed, newest first.
    pub async fn sessions(
        &self,
        closed: bool,
        limit: usize,
    ) -> Result<Vec<SessionInfo>, ClientError> {
        let held = on_store(&self.inner.store, move |s| {
            if closed {
                s.held_sessions().list(limit)
            } else {
                s.held_sessions().list_open()
            }
        })
        .await?;
        Ok(held.iter().map(SessionInfo::from).collect())
    }

    /// Closes every open session the client holds (see [`close_session`](Self::close_session));
    /// the first error stops it (the sessions not yet closed stay open).
    pub async fn close_sessions(&self) -> Result<Vec<ClosedSession>, ClientError> {
        let open = on_store(&self.inner.store, |s| s.held_sessions().list_open()).await?;
        let mut closed = Vec::with_capacity(open.len());
        for held in open {
            closed.push(self.close_held(held).await?);
        }
        Ok(closed)
    }

    /// Closes the open sessions unused for at least `idle` (no request, top-up or opening in
    /// that time), as [`close_session`](Self::close_session) does. A session that cannot be
    /// closed now (the seller unreachable, say) is logged and stays open, to be tried again.
    pub async fn close_idle_sessions(
        &self,
        idle: std::time::Duration,
    ) -> Result<Vec<ClosedSession>, ClientError> {
        let open = on_store(&self.inner.store, |s| s.held_sessions().list_open()).await?;
        let now = self.now();
        let mut closed = Vec::new();
        for held in open {
            if held.updated_at.saturating_add(idle.as_secs()) > now {
                continue;
            }
            let id = held.session_id;
            match self.close_held(held).await {
                Ok(c) => closed.push(c),
                Err(error) => {
                    tracing::warn!(session = %id, %error, "cannot close an idle session; will try again")
                }
            }
        }
        Ok(closed)
    }

    /// Closes the session `session_id`: sends the `close` credential to the request that
    /// opened it, records the refund the seller announces and what the client's wallet saw
    /// arrive, and ends the session here. A session the seller no longer knows is ended with
    /// no refund. [`ClientError::InvalidRequest`] when no open session has this id.
    pub async fn close_session(
        &self,
        session_id: &PaymentHash,
    ) -> Result<ClosedSession, ClientError> {
        let id = *session_id;
        let held = on_store(&self.inner.store, move |s| s.held_sessions().get(&id)).await?;
        match held {
            Some(held) if held.closed_at.is_none() => self.close_held(held).await,
            _ => Err(ClientError::InvalidRequest(format!(
                "no open session {session_id}"
            ))),
        }
    }

    /// Sends `close` for `held` and records the outcome.
    async fn close_held(&self, held: HeldSession) -> Result<ClosedSession, ClientError> {
        let url = Url::parse(&held.url)
            .map_err(|e| ClientError::Internal(format!("the session's URL: {e}")))?;
        self.check_destination(&url)?;
        let method = http::Method::from_bytes(held.method.as_bytes())
            .map_err(|e| ClientError::Internal(format!("the session's method: {e}")))?;
        let spec = RequestSpec::new(method, held.url.as_str())?;
        let challenge = stored_challenge(&held)?;
        let credential = close_credential(&challenge, &held.session_id, &held.preimage);
        let response = self
            .send_authorized(&spec, &credential.to_authorization())
            .await?;
        let status = response.status();
        if status == StatusCode::PAYMENT_REQUIRED {
            let problem = problem_type(response).await;
            tracing::info!(session = %held.session_id, problem = ?problem, "the seller no longer knows the session");
            let closing = self.end_gone(&held).await?;
            return Ok(closed(&held, closing, None));
        }
        let receipt = payment_receipt(&response);
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() || body["status"] != "closed" {
            return Err(ClientError::Internal(format!(
                "the seller answered the close of {} with {status}: {body}",
                held.session_id
            )));
        }
        let refund = body["refundMsat"].as_u64().map(Msat);
        let refund_status = body["refundStatus"].as_str().map(str::to_owned);
        let refund_received = match refund {
            Some(r) if r.0 > 0 => self.refund_received(&held).await,
            _ => None,
        };
        let closing = SessionClosing {
            at: self.now(),
            refund,
            refund_status,
            refund_received,
        };
        let (id, stored) = (held.session_id, closing.clone());
        on_store(&self.inner.store, move |s| {
            s.held_sessions().close(&id, &stored)
        })
        .await?;
        tracing::info!(session = %held.session_id, refund = ?closing.refund, status = ?closing.refund_status, received = ?closing.refund_received, "session closed");
        Ok(closed(&held, closing, receipt))
    }

    /// What the client's wallet received on the session's return invoice, if it can tell.
    async fn refund_received(&self, held: &HeldSession) -> Option<Msat> {
        let wallet = self.inner.wallet.get().await.ok()?;
        match wallet.invoice_state(&held.return_hash).await {
            Ok(InvoiceState::Settled {
                amount_received, ..
            }) => Some(amount_received),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(session = %held.session_id, %error, "cannot ask the wallet about the refund");
                None
            }
        }
    }

    /// Ends a session the seller no longer accepts: closed here, no refund recorded.
    async fn end_gone(&self, held: &HeldSession) -> Result<SessionClosing, ClientError> {
        let closing = SessionClosing {
            at: self.now(),
            refund: None,
            refund_status: Some("gone".into()),
            refund_received: None,
        };
        let (id, stored) = (held.session_id, closing.clone());
        on_store(&self.inner.store, move |s| {
            s.held_sessions().close(&id, &stored)
        })
        .await?;
        Ok(closing)
    }

    /// Reads the `L402-Session` header of an answer to a session request, keeps the balance,
    /// and says what the request did with the session.
    async fn note_balance(
        &self,
        held: &HeldSession,
        response: &reqwest::Response,
        opened: bool,
        topped_up: bool,
    ) -> SessionUse {
        let (balance, reserved) = response
            .headers()
            .get(SESSION_STATUS_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(parse_session_status)
            .unwrap_or_default();
        if let Some(balance) = balance {
            let (id, now) = (held.session_id, self.now());
            let written = on_store(&self.inner.store, move |s| {
                s.held_sessions().record_balance(&id, balance, now)
            })
            .await;
            if let Err(error) = written {
                tracing::warn!(session = %held.session_id, %error, "cannot record the session's balance");
            }
        }
        SessionUse {
            session_id: held.session_id,
            scope: held.scope.clone(),
            opened,
            topped_up,
            deposit: held.deposit,
            balance,
            reserved,
        }
    }

    /// Sends one attempt of `spec` with `authorization` as its (sensitive) `Authorization`.
    async fn send_authorized(
        &self,
        spec: &RequestSpec,
        authorization: &str,
    ) -> Result<reqwest::Response, ClientError> {
        let mut value = HeaderValue::from_str(authorization)
            .map_err(|_| ClientError::Internal("the credential is not a header value".into()))?;
        value.set_sensitive(true);
        let mut spec = spec.clone();
        spec.headers.insert(AUTHORIZATION, value);
        self.send(&spec, None).await
    }
}

/// Where a session for `url` is kept: its exact path (the scope of everything the session
/// pays: journal, receipts, the held session).
fn session_target(url: &Url, rule: crate::scope::ScopeRule) -> Result<Target, ClientError> {
    Ok(Place::of(url, rule)
        .map_err(|e| ClientError::InvalidRequest(e.to_string()))?
        .session_target())
}

/// The final answer of a session request.
fn served(
    response: reqwest::Response,
    payment: Option<l402_store::Receipt>,
    session: SessionUse,
) -> PaidResponse {
    let payment_receipt = payment_receipt(&response);
    PaidResponse {
        response,
        payment,
        reused_token: false,
        token_status: None,
        payment_receipt,
        session: Some(session),
    }
}

/// A session's closing, as returned to the caller.
fn closed(
    held: &HeldSession,
    closing: SessionClosing,
    receipt: Option<l402_mpp::Receipt>,
) -> ClosedSession {
    ClosedSession {
        session_id: held.session_id,
        scope: held.scope.clone(),
        deposits: held.deposits,
        deposit: held.deposit,
        refund: closing.refund,
        refund_status: closing.refund_status,
        refund_received: closing.refund_received,
        receipt,
    }
}

/// The session's opening challenge, as stored.
fn stored_challenge(held: &HeldSession) -> Result<Challenge, ClientError> {
    Challenge::parse_list(&held.challenge)
        .ok()
        .and_then(|mut list| (!list.is_empty()).then(|| list.remove(0)))
        .ok_or_else(|| ClientError::Internal("the stored session challenge does not parse".into()))
}

/// The first Lightning session challenge among `values` (a top-up is answered whatever the
/// preference says about L402: the session is already paid for with `Payment`).
fn first_session_challenge(values: &[&str]) -> Option<Challenge> {
    Challenge::parse_list(&values.join(", "))
        .ok()?
        .into_iter()
        .find(|c| {
            c.method.eq_ignore_ascii_case(l402_mpp::METHOD_LIGHTNING)
                && c.intent.eq_ignore_ascii_case(l402_mpp::INTENT_SESSION)
        })
}

/// The `WWW-Authenticate` values of `response`.
fn www_authenticate(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The problem type of a `problem+json` answer (the body is read).
async fn problem_type(response: reqwest::Response) -> Option<&'static str> {
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(l402_mpp::problem::CONTENT_TYPE));
    if !is_problem {
        return None;
    }
    let body: serde_json::Value = response.json().await.ok()?;
    let kind = body["type"].as_str()?;
    [
        ProblemType::InsufficientBalance,
        ProblemType::SessionClosed,
        ProblemType::SessionNotFound,
        ProblemType::ChallengeExpired,
        ProblemType::InvalidReturnInvoice,
        ProblemType::LightningInvalidPreimage,
        ProblemType::LightningMalformedCredential,
        ProblemType::MalformedCredential,
        ProblemType::InvalidChallenge,
        ProblemType::VerificationFailed,
        ProblemType::PaymentRequired,
    ]
    .into_iter()
    .map(ProblemType::uri)
    .find(|uri| *uri == kind)
}

/// The `Payment-Receipt` of `response`, if readable.
fn payment_receipt(response: &reqwest::Response) -> Option<l402_mpp::Receipt> {
    response
        .headers()
        .get(l402_mpp::RECEIPT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| l402_mpp::Receipt::from_header(v).ok())
}

/// Reads `balance_msat=N, reserved_msat=M` (either may be missing; unknown keys are skipped).
pub fn parse_session_status(value: &str) -> (Option<Msat>, Option<Msat>) {
    let mut out = (None, None);
    for part in value.split(',') {
        let Some((key, number)) = part.trim().split_once('=') else {
            continue;
        };
        let Ok(number) = number.trim().parse::<u64>() else {
            continue;
        };
        match key.trim() {
            "balance_msat" => out.0 = Some(Msat(number)),
            "reserved_msat" => out.1 = Some(Msat(number)),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_status_header_reads() {
        assert_eq!(
            parse_session_status("balance_msat=136000, reserved_msat=64000"),
            (Some(Msat(136_000)), Some(Msat(64_000)))
        );
        assert_eq!(
            parse_session_status("reserved_msat=5, other=x"),
            (None, Some(Msat(5)))
        );
        assert_eq!(parse_session_status("balance_msat=-1"), (None, None));
    }

    #[test]
    fn a_closed_session_spent_its_deposits_less_the_refund() {
        let closed = ClosedSession {
            session_id: PaymentHash([1; 32]),
            scope: "s".into(),
            deposits: 2,
            deposit: Msat(400_000),
            refund: Some(Msat(150_000)),
            refund_status: Some("succeeded".into()),
            refund_received: None,
            receipt: None,
        };
        assert_eq!(closed.spent(), Some(Msat(250_000)));
        assert_eq!(
            ClosedSession {
                refund: None,
                ..closed
            }
            .spent(),
            None
        );
    }
}
