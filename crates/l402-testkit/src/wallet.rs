//! Dev wallets in temporary directories, and paying one challenge.
//!
//! The dev wallet has no balance to fund: every payment it makes of one of its own invoices
//! (or of an invoice of a wallet sharing its data directory) succeeds.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use l402_core::client::{Decision, PaidToken, PayPolicy, PaymentPlan, RequestFlow, ResponseView};
use l402_lightning::dev::DevWallet;
use l402_lightning::{LightningBackend, Msat, Network, PayOptions};

/// A regtest dev wallet in its own temporary directory (removed on drop).
pub struct TestWallet {
    /// The wallet.
    pub wallet: Arc<DevWallet>,
    dir: tempfile::TempDir,
}

impl TestWallet {
    /// A fresh wallet.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let wallet = open_dev_wallet(dir.path());
        Self { wallet, dir }
    }

    /// Its data directory (where the ledger lives).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Another handle on the same ledger (another "process" of the same wallet).
    pub fn reopen(&self) -> Arc<DevWallet> {
        open_dev_wallet(self.dir.path())
    }
}

impl Default for TestWallet {
    fn default() -> Self {
        Self::new()
    }
}

/// The regtest dev wallet whose data directory is `dir` (created if needed).
pub fn open_dev_wallet(dir: &Path) -> Arc<DevWallet> {
    Arc::new(
        DevWallet::open(dir, Network::Regtest)
            .unwrap_or_else(|e| panic!("opening a dev wallet in {}: {e}", dir.display())),
    )
}

/// A payment-required answer: the status it came with, its `WWW-Authenticate` values, and for
/// gRPC its status code and message.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// The HTTP status (402, or 200 for a gRPC Trailers-Only answer).
    pub status: u16,
    /// Every `WWW-Authenticate` value.
    pub www_authenticate: Vec<String>,
    /// The gRPC status code and message, for gRPC answers.
    pub grpc: Option<(u32, String)>,
}

impl Challenge {
    /// A 402 with these `WWW-Authenticate` values.
    pub fn http(www_authenticate: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            status: 402,
            www_authenticate: www_authenticate.into_iter().map(Into::into).collect(),
            grpc: None,
        }
    }

    /// A gRPC payment-required status (`code`, `message`) with these `www-authenticate` values.
    pub fn grpc(
        code: u32,
        message: &str,
        www_authenticate: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            status: 200,
            www_authenticate: www_authenticate.into_iter().map(Into::into).collect(),
            grpc: Some((code, message.to_owned())),
        }
    }

    /// The challenge of a `reqwest` response (its status and `WWW-Authenticate` values).
    #[cfg(feature = "http")]
    pub fn of_response(response: &reqwest::Response) -> Self {
        let values = response
            .headers()
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().expect("an ASCII WWW-Authenticate").to_owned());
        Self {
            status: response.status().as_u16(),
            ..Self::http(values)
        }
    }
}

/// A paid challenge: the token and the plan the client's checks accepted.
pub struct Paid {
    /// The token (macaroon and preimage).
    pub token: PaidToken,
    /// What was paid.
    pub plan: Box<PaymentPlan>,
}

impl Paid {
    /// The `Authorization` header value (`L402 <macaroon>:<preimage>`).
    pub fn authorization(&self) -> String {
        authorization(&self.token)
    }
}

/// The `Authorization` header value of `token` (`L402 <macaroon>:<preimage>`).
pub fn authorization(token: &PaidToken) -> String {
    let [_, l402] = token.authorization_values();
    l402
}

/// Pays one challenge through a wallet, after the client's own checks (hash, network, amount,
/// expiry), as `l402 fetch` would.
pub struct Payer<'a> {
    wallet: &'a dyn LightningBackend,
    network: Network,
    max_amount: Msat,
    options: PayOptions,
    retry_for: Duration,
}

impl<'a> Payer<'a> {
    /// Pays through `wallet` on regtest, at most 1 000 sat plus 10 sat of fee, 30 s per try,
    /// no retries.
    pub fn new(wallet: &'a dyn LightningBackend) -> Self {
        Self {
            wallet,
            network: Network::Regtest,
            max_amount: Msat::from_sat(1_000),
            options: PayOptions {
                max_fee: Msat::from_sat(10),
                timeout: Duration::from_secs(30),
            },
            retry_for: Duration::ZERO,
        }
    }

    /// The network invoices must be on.
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// The largest amount paid.
    pub fn max_amount(mut self, max: Msat) -> Self {
        self.max_amount = max;
        self
    }

    /// Fee limit and timeout per payment attempt.
    pub fn options(mut self, options: PayOptions) -> Self {
        self.options = options;
        self
    }

    /// Retries a failing payment every 2 s for this long (a channel coming back).
    pub fn retry_for(mut self, limit: Duration) -> Self {
        self.retry_for = limit;
        self
    }

    /// Checks and pays `challenge`; panics when it is not payable or the wallet fails.
    pub async fn pay(&self, challenge: &Challenge) -> Paid {
        let refs: Vec<&str> = challenge
            .www_authenticate
            .iter()
            .map(String::as_str)
            .collect();
        let mut flow = RequestFlow::new(
            PayPolicy {
                network: self.network,
                max_amount: self.max_amount,
                now_unix: crate::now_unix(),
            },
            false,
        );
        let view = ResponseView {
            status: challenge.status,
            www_authenticate: &refs,
            grpc_status: challenge.grpc.as_ref().map(|g| g.0),
            grpc_message: challenge.grpc.as_ref().map(|g| g.1.as_str()),
        };
        let plan = match flow.on_response(&view) {
            Decision::Pay { plan, .. } => plan,
            other => panic!("not a payable challenge ({other:?}): {challenge:?}"),
        };
        let start = Instant::now();
        let paid = loop {
            match self
                .wallet
                .pay_invoice(&plan.challenge.invoice, self.options)
                .await
            {
                Ok(paid) => break paid,
                Err(e) if start.elapsed() < self.retry_for => {
                    println!("  payment not through yet ({e}); retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Err(e) => panic!("the wallet could not pay the challenge: {e:?}"),
            }
        };
        let token = flow
            .on_paid(paid.preimage)
            .expect("the preimage completes the token");
        Paid { token, plan }
    }

    /// `GET url`, expecting a 402; pays it.
    #[cfg(feature = "http")]
    pub async fn buy(&self, url: &str) -> Paid {
        let response = crate::wait::http_client()
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert_eq!(response.status(), 402, "expected a challenge from {url}");
        self.pay(&Challenge::of_response(&response)).await
    }
}

/// `GET url` with `token` in the `Authorization` header.
#[cfg(feature = "http")]
pub async fn get_with(url: &str, token: &PaidToken) -> reqwest::Response {
    crate::wait::http_client()
        .get(url)
        .header("authorization", authorization(token))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Payments the dev wallet's ledger in `wallet_dir` records as succeeded (across every process
/// sharing it).
pub fn ledger_payments(wallet_dir: &Path) -> usize {
    let path = wallet_dir.join(l402_lightning::dev::LEDGER_FILE_NAME);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading the ledger {}: {e}", path.display()));
    let ledger: serde_json::Value = serde_json::from_str(&text).expect("the ledger is JSON");
    ledger["payments"].as_object().map_or(0, |m| {
        m.values()
            .filter(|p| p["outcome"]["outcome"] == "succeeded")
            .count()
    })
}

/// Asserts `r` is a 402 challenge and returns the BOLT11 invoice its JSON body carries.
#[cfg(feature = "http")]
pub async fn challenged_invoice(r: reqwest::Response) -> l402_core::invoice::ParsedInvoice {
    assert_eq!(r.status(), 402, "expected a challenge");
    let body: serde_json::Value = r.json().await.expect("a JSON challenge body");
    let invoice = body["invoice"]
        .as_str()
        .expect("the challenge body names its invoice");
    l402_core::invoice::parse_bolt11(invoice).expect("a valid BOLT11 invoice")
}
