//! [`L402ClientBuilder`]: wallet, store, budget and limits in, [`L402Client`] out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use l402_core::Msat;
use l402_core::invoice::Network;
use l402_lightning::LightningBackend;
use l402_store::Store;

use crate::budget::Budget;
use crate::client::{Inner, L402Client};
use crate::clock::{Clock, SystemClock};
use crate::config;
use crate::error::ClientError;
use crate::redirect::{DEFAULT_MAX_REDIRECTS, DestinationGuard};
use crate::scope::ScopeRule;
use crate::single_flight::ScopeLocks;
use crate::wallet_slot::WalletSlot;

/// Default per-invoice maximum: 1000 sat, as lnget and Aperture's client use.
pub const DEFAULT_MAX_COST: Msat = Msat::from_sat(1000);
/// Default time a payment may take before it is treated as unresolved.
pub const DEFAULT_PAYMENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default timeout of one HTTP exchange.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The environment variable that, set to `1`, makes the client exit with status 137 right after
/// the wallet reports a payment and before anything is stored: the worst moment to crash, for
/// end-to-end tests of crash recovery. Never set it in production.
pub const CRASH_AFTER_PAY_ENV: &str = "L402_CRASH_AFTER_PAY_FOR_TESTS";

/// Where the client's store comes from.
enum StoreSource {
    Default,
    Path(PathBuf),
    Open(Store),
}

/// Builds an [`L402Client`]. Only the wallet is required.
pub struct L402ClientBuilder {
    wallet: Option<WalletSlot>,
    store: StoreSource,
    budget: Budget,
    max_fee: Option<Msat>,
    max_cost: Msat,
    network: Option<Network>,
    payment_timeout: Duration,
    http_timeout: Duration,
    user_agent: String,
    scope_rule: ScopeRule,
    auto_pay: bool,
    prefer: Vec<crate::mpp::PaymentScheme>,
    clock: Arc<dyn Clock + Send + Sync>,
    http: Option<reqwest::Client>,
    trust: l402_tls::Trust,
    crash_after_pay: bool,
    max_redirects: usize,
    guard: Option<Arc<dyn DestinationGuard>>,
    resolver: Option<Arc<dyn reqwest::dns::Resolve>>,
}

impl std::fmt::Debug for L402ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L402ClientBuilder")
            .field("wallet", &self.wallet.is_some())
            .field("budget", &self.budget)
            .field("max_cost", &self.max_cost)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl Default for L402ClientBuilder {
    fn default() -> Self {
        Self {
            wallet: None,
            store: StoreSource::Default,
            budget: Budget::default(),
            max_fee: None,
            max_cost: DEFAULT_MAX_COST,
            network: None,
            payment_timeout: DEFAULT_PAYMENT_TIMEOUT,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            user_agent: format!("l402-client/{}", env!("CARGO_PKG_VERSION")),
            scope_rule: ScopeRule::default(),
            auto_pay: true,
            prefer: crate::mpp::DEFAULT_PREFERENCE.to_vec(),
            clock: Arc::new(SystemClock),
            http: None,
            trust: l402_tls::Trust::from_env(),
            crash_after_pay: std::env::var(CRASH_AFTER_PAY_ENV).is_ok_and(|v| v == "1"),
            max_redirects: DEFAULT_MAX_REDIRECTS,
            guard: None,
            resolver: None,
        }
    }
}

impl L402ClientBuilder {
    /// The wallet that pays (this or [`lazy_wallet`](Self::lazy_wallet) is required). Any
    /// [`LightningBackend`] works.
    pub fn wallet(mut self, wallet: Arc<dyn LightningBackend>) -> Self {
        self.wallet = Some(WalletSlot::open(wallet));
        self
    }

    /// The wallet that pays, opened by `open` when a payment is first due: free pages, dry
    /// runs and the token, receipt and budget queries work without it. A failure is returned
    /// to that request, before anything is reserved, and the next payment tries again.
    ///
    /// ```
    /// # fn build() -> Result<(), l402_client::ClientError> {
    /// let config = l402_client::ClientConfig::default();
    /// let dir = tempfile::tempdir().unwrap();
    /// let opened_from = config.clone();
    /// let client = l402_client::L402Client::builder()
    ///     .lazy_wallet(move || opened_from.open_wallet())
    ///     .store_path(dir.path().join("client.db"))
    ///     .build()?; // no wallet is running: building still succeeds
    /// # Ok(())
    /// # }
    /// # build().unwrap();
    /// ```
    pub fn lazy_wallet(
        mut self,
        open: impl Fn() -> Result<Arc<dyn LightningBackend>, ClientError> + Send + Sync + 'static,
    ) -> Self {
        self.wallet = Some(WalletSlot::lazy(Box::new(open)));
        self
    }

    /// An open store (tokens, journal, receipts, spend ledger).
    pub fn store(mut self, store: Store) -> Self {
        self.store = StoreSource::Open(store);
        self
    }

    /// The store's file, opened (and created) by [`build`](Self::build). Without this or
    /// [`store`](Self::store), the default data directory's `client.db` is used.
    pub fn store_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.store = StoreSource::Path(path.into());
        self
    }

    /// The spending limits (default: [`Budget::default`]).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// The routing-fee cap per payment; overrides [`Budget::max_fee`].
    pub fn max_fee(mut self, max_fee: Msat) -> Self {
        self.max_fee = Some(max_fee);
        self
    }

    /// The most one invoice may ask (fee excluded); larger invoices are refused before any
    /// budget check (default [`DEFAULT_MAX_COST`]).
    pub fn max_cost(mut self, max_cost: Msat) -> Self {
        self.max_cost = max_cost;
        self
    }

    /// The wallet's network; invoices for other networks are refused. Without it, the wallet is
    /// asked (once, at the first challenge).
    pub fn network(mut self, network: Network) -> Self {
        self.network = Some(network);
        self
    }

    /// Which payment schemes to answer, most preferred first (default
    /// [`DEFAULT_PREFERENCE`](crate::mpp::DEFAULT_PREFERENCE): L402, then `Payment`). A `402`
    /// offering both is answered in the first listed scheme; a scheme not listed is never paid.
    /// With `Payment` listed, every request carries
    /// `Accept-Payment: lightning/charge, lightning/session`.
    pub fn prefer(mut self, schemes: Vec<crate::mpp::PaymentScheme>) -> Self {
        self.prefer = schemes;
        self
    }

    /// How long one payment may take (default 60 s).
    pub fn payment_timeout(mut self, timeout: Duration) -> Self {
        self.payment_timeout = timeout;
        self
    }

    /// How long one HTTP exchange may take (default 30 s). Ignored with
    /// [`http_client`](Self::http_client).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// The `User-Agent`. Ignored with [`http_client`](Self::http_client).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Which requests share a token (default [`ScopeRule::FirstPathSegment`]).
    pub fn scope_rule(mut self, rule: ScopeRule) -> Self {
        self.scope_rule = rule;
        self
    }

    /// Whether to pay challenges automatically (default true). When off, a challenge ends the
    /// request with [`ClientError::PaymentRequired`].
    pub fn auto_pay(mut self, auto_pay: bool) -> Self {
        self.auto_pay = auto_pay;
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// A ready `reqwest::Client` (proxies, custom TLS roots, ...). Build it with
    /// `redirect(reqwest::redirect::Policy::none())`: the L402 client follows redirects itself
    /// ([`max_redirects`](Self::max_redirects)), checking each hop. A client that follows
    /// redirects on its own hides the hops from those checks; the 402 is still judged (lists,
    /// budget, token scope) by the origin that answered it, and retried there.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// How many redirect hops one request follows (default [`DEFAULT_MAX_REDIRECTS`]; 0 returns
    /// redirects as they are, like curl without `-L`). Each hop is checked before anything is
    /// sent to it: a host the budget's domain lists refuse ends the request with
    /// [`ClientError::RedirectRefused`], and so do more hops than this. A token is only ever
    /// sent to the origin it was bought from; `Authorization`, `Proxy-Authorization` and
    /// `Cookie` headers of the request are dropped on a hop to another origin.
    pub fn max_redirects(mut self, hops: usize) -> Self {
        self.max_redirects = hops;
        self
    }

    /// A check run before anything is sent to a URL, the first one and every redirect hop
    /// (e.g. refusing private addresses). A refusal ends the request with
    /// [`ClientError::DestinationRefused`].
    pub fn destination_guard(mut self, guard: Arc<dyn DestinationGuard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The DNS resolver of the built-in HTTP client (default: the system's). The connection
    /// goes to the addresses it returns, so a resolver that refuses some addresses is a check
    /// DNS rebinding cannot get around. Ignored with [`http_client`](Self::http_client).
    pub fn dns_resolver(mut self, resolver: Arc<dyn reqwest::dns::Resolve>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// How the built-in HTTP client verifies HTTPS servers (default:
    /// [`Trust::from_env`](l402_tls::Trust::from_env), the web PKI roots or the CA bundle named
    /// by `SSL_CERT_FILE`). Ignored with [`http_client`](Self::http_client).
    pub fn trust(mut self, trust: l402_tls::Trust) -> Self {
        self.trust = trust;
        self
    }

    /// Test hook: exit the process with status 137 right after the wallet reports a payment,
    /// before anything is stored (also enabled by [`CRASH_AFTER_PAY_ENV`]`=1`).
    pub fn crash_after_pay_for_tests(mut self, crash: bool) -> Self {
        self.crash_after_pay = crash;
        self
    }

    /// Builds the client. Opens the store if needed (blocking file IO: call at startup or from
    /// `spawn_blocking`).
    pub fn build(self) -> Result<L402Client, ClientError> {
        let wallet = self.wallet.ok_or_else(|| {
            ClientError::Build("no wallet: call .wallet(...) or .lazy_wallet(...)".into())
        })?;
        let store = match self.store {
            StoreSource::Open(store) => store,
            StoreSource::Path(path) => Store::open(path)?,
            StoreSource::Default => {
                Store::open(l402_core::dirs::data_dir().join(config::STORE_FILE))?
            }
        };
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut builder = l402_tls::reqwest_builder(&self.trust)
                    .map_err(|e| ClientError::Build(format!("TLS configuration: {e}")))?
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(self.http_timeout)
                    .connect_timeout(self.http_timeout.min(Duration::from_secs(10)))
                    .user_agent(self.user_agent);
                if let Some(resolver) = self.resolver {
                    builder = builder.dns_resolver(resolver);
                }
                builder
                    .build()
                    .map_err(|e| ClientError::Build(format!("HTTP client: {e}")))?
            }
        };
        let mut budget = self.budget;
        if let Some(max_fee) = self.max_fee {
            budget.max_fee = max_fee;
        }
        Ok(L402Client::from_inner(Inner {
            http,
            wallet,
            store,
            budget,
            max_cost: self.max_cost,
            configured_network: self.network,
            network: tokio::sync::OnceCell::new(),
            payment_timeout: self.payment_timeout,
            scope_rule: self.scope_rule,
            auto_pay: self.auto_pay,
            prefer: self.prefer,
            clock: self.clock,
            locks: ScopeLocks::default(),
            token_cache: Default::default(),
            recovered: tokio::sync::Mutex::new(false),
            crash_after_pay: self.crash_after_pay,
            max_redirects: self.max_redirects,
            guard: self.guard,
        }))
    }
}
