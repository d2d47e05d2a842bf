//! [`L402Client`]: the handle, and its token, receipt and budget queries.

use std::sync::Arc;
use std::time::Duration;

use l402_core::Msat;
use l402_core::invoice::Network;
use l402_core::mint::Attenuation;
use l402_store::{Receipt, Store};
use reqwest::Url;

use crate::blocking::on_store;
use crate::budget::{Budget, BudgetStatus, WindowStatus, spend_query};
use crate::builder::L402ClientBuilder;
use crate::clock::Clock;
use crate::error::ClientError;
use crate::scope::{ScopeRule, Target};
use crate::single_flight::ScopeLocks;
use crate::token::{self, TokenInfo};
use crate::wallet_slot::WalletSlot;

/// An HTTP client that pays L402 challenges within a budget. Cheap to clone; clones share the
/// store, the wallet and the single-flight locks.
#[derive(Clone)]
pub struct L402Client {
    pub(crate) inner: Arc<Inner>,
}

/// Everything a client holds.
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) wallet: WalletSlot,
    pub(crate) store: Store,
    pub(crate) budget: Budget,
    pub(crate) max_cost: Msat,
    pub(crate) configured_network: Option<Network>,
    pub(crate) network: tokio::sync::OnceCell<Network>,
    pub(crate) payment_timeout: Duration,
    pub(crate) scope_rule: ScopeRule,
    pub(crate) auto_pay: bool,
    /// Which scheme to answer when a 402 offers several, most preferred first.
    pub(crate) prefer: Vec<crate::mpp::PaymentScheme>,
    pub(crate) clock: Arc<dyn Clock + Send + Sync>,
    pub(crate) locks: ScopeLocks,
    /// Whether the journal's leftovers were resolved once (see `recover`).
    pub(crate) recovered: tokio::sync::Mutex<bool>,
    pub(crate) crash_after_pay: bool,
    /// Redirect hops followed per request (0: redirects are returned as they are).
    pub(crate) max_redirects: usize,
    /// Checked before anything is sent to a URL.
    pub(crate) guard: Option<Arc<dyn crate::DestinationGuard>>,
    /// Tokens found by recent requests (see [`crate::token_cache`]).
    pub(crate) token_cache: crate::token_cache::TokenCache,
}

impl std::fmt::Debug for L402Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L402Client")
            .field("store", &self.inner.store)
            .field("budget", &self.inner.budget)
            .field("max_cost", &self.inner.max_cost)
            .field("scope_rule", &self.inner.scope_rule)
            .field("auto_pay", &self.inner.auto_pay)
            .finish_non_exhaustive()
    }
}

impl L402Client {
    /// A builder; only the wallet is required.
    pub fn builder() -> L402ClientBuilder {
        L402ClientBuilder::default()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.inner.clock.now_unix()
    }

    /// The HTTP client requests go through, e.g. to build a `reqwest::Request` for
    /// [`execute`](Self::execute).
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The budget in force.
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// The per-invoice maximum.
    pub fn max_cost(&self) -> Msat {
        self.inner.max_cost
    }

    /// Where `url` goes: origin, scope key and host (see [`ScopeRule`]).
    pub fn target_of(&self, url: &str) -> Result<Target, ClientError> {
        let url = Url::parse(url)
            .map_err(|e| ClientError::InvalidRequest(format!("bad URL {url:?}: {e}")))?;
        Target::of(&url, self.inner.scope_rule)
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))
    }

    /// The latest `limit` receipts, newest first.
    pub async fn receipts(&self, limit: usize) -> Result<Vec<Receipt>, ClientError> {
        on_store(&self.inner.store, move |s| s.receipts().list(limit)).await
    }

    /// Every held token, without secrets.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, ClientError> {
        let tokens = on_store(&self.inner.store, |s| s.tokens().list()).await?;
        Ok(tokens.iter().map(TokenInfo::from).collect())
    }

    /// Forgets the token of `scope` (a scope key as listed by [`tokens`](Self::tokens), or any
    /// URL of that scope). Returns whether one was held.
    pub async fn remove_token(&self, scope: &str) -> Result<bool, ClientError> {
        let scope = self.scope_key(scope);
        let removed = on_store(&self.inner.store, move |s| s.tokens().remove(&scope)).await;
        self.inner.token_cache.clear();
        removed
    }

    /// Spending in each window against the budget, with what remains.
    pub async fn budget_status(&self) -> Result<BudgetStatus, ClientError> {
        let now = self.now();
        let budget = self.inner.budget.clone();
        let domains: Vec<String> = budget.per_domain.keys().cloned().collect();
        let (totals, per_domain) = on_store(&self.inner.store, move |s| {
            let totals = s.spend().totals(&spend_query(now, None))?;
            let mut per_domain = Vec::new();
            for d in domains {
                let t = s.spend().totals(&spend_query(now, Some(&d)))?;
                per_domain.push((d, t.domain));
            }
            Ok((totals, per_domain))
        })
        .await?;
        Ok(BudgetStatus {
            hourly: WindowStatus::new(totals.hour, budget.hourly),
            daily: WindowStatus::new(totals.day, budget.daily),
            total: WindowStatus::new(totals.total, budget.total),
            per_domain: per_domain
                .into_iter()
                .map(|(d, spent)| {
                    let limit = budget.per_domain.get(&d).copied();
                    (d, WindowStatus::new(spent, limit))
                })
                .collect(),
            max_per_request: budget.max_per_request,
            max_fee: budget.max_fee,
        })
    }

    /// An `Authorization` value for a narrowed copy of the token held for `scope` (a scope key
    /// or any URL of that scope), to hand to a sub-agent. The held token is not changed.
    pub async fn attenuate(
        &self,
        scope: &str,
        attenuation: &Attenuation,
    ) -> Result<String, ClientError> {
        let key = self.scope_key(scope);
        let lookup = key.clone();
        let held = on_store(&self.inner.store, move |s| s.tokens().get(&lookup))
            .await?
            .ok_or(ClientError::NoToken(key))?;
        token::attenuate(&held, attenuation)
    }

    /// Stores a token someone handed over (an `Authorization` value such as
    /// [`attenuate`](Self::attenuate) returns) for the scope of `url`, so requests there use it.
    /// Replaces any token held for that scope.
    pub async fn import_token(
        &self,
        url: &str,
        authorization: &str,
        label: Option<String>,
    ) -> Result<TokenInfo, ClientError> {
        let target = self.target_of(url)?;
        let record = token::import(
            authorization,
            target.scope,
            target.origin,
            label,
            self.now(),
        )?;
        let info = TokenInfo::from(&record);
        on_store(&self.inner.store, move |s| s.tokens().put(&record)).await?;
        self.inner.token_cache.clear();
        Ok(info)
    }

    /// A scope key from a scope key or URL: a URL maps through the scope rule; anything that is
    /// not a URL is taken as given.
    fn scope_key(&self, scope_or_url: &str) -> String {
        self.target_of(scope_or_url)
            .map(|t| t.scope)
            .unwrap_or_else(|_| scope_or_url.to_owned())
    }
}
