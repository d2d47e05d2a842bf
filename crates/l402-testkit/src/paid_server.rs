//! An in-process paid HTTP seller on loopback that answers real L402 challenges (invoices
//! from a dev wallet, macaroons from `l402_core`'s minter, verification with
//! `verify_credential`), and a wallet wrapper that counts payment attempts.
//!
//! A mock of `l402 serve` for buyer-side tests: the seller's own behaviour is proven by the
//! end-to-end tests of `l402-cli` against the real binary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use l402_core::caveat::ServiceTier;
use l402_core::challenge::challenge_header_values;
use l402_core::credential::{CredentialHeaders, parse_credential};
use l402_core::env::{FixedClock, Rng};
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::mint::{MintRequest, Minter, ServiceGrant};
use l402_core::satisfier::CaveatFailure;
use l402_core::verify::{NoRevocations, RequestContext, TokenError, verify_credential};
use l402_core::{Msat, PaymentHash};
use l402_lightning::dev::DevWallet;
use l402_lightning::{
    BackendError, CreateInvoice, LightningBackend, PayOptions, PaymentResult, PaymentState,
};

use crate::hooked::{Hooked, WalletHook};
use crate::wallet::open_dev_wallet;

/// Unique-enough random bytes for token ids and master keys in tests.
pub struct TestRng;

impl Rng for TestRng {
    fn fill(&mut self, buf: &mut [u8]) {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let mut x = COUNTER.fetch_add(1, Ordering::Relaxed)
            ^ u64::from(std::process::id()).rotate_left(32)
            ^ crate::now_unix().rotate_left(17);
        for b in buf {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
}

/// How the paid server behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The price of every service.
    pub price: Msat,
    /// Token lifetime; `None` mints tokens without expiry.
    pub lifetime_secs: Option<u64>,
    /// Answer every request with a challenge, even with a valid token.
    pub always_402: bool,
    /// Capabilities every token is minted with.
    pub capabilities: Vec<String>,
    /// Emit only the legacy `LSAT` challenge.
    pub lsat_only: bool,
    /// Invoice expiry, seconds.
    pub invoice_expiry_secs: u64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            price: Msat::from_sat(10),
            lifetime_secs: None,
            always_402: false,
            capabilities: vec!["read".into(), "write".into()],
            lsat_only: false,
            invoice_expiry_secs: 3600,
        }
    }
}

struct ServerState {
    wallet: Arc<DevWallet>,
    minter: RwLock<Minter>,
    options: ServerOptions,
    challenges: AtomicUsize,
    paid_requests: AtomicUsize,
    always_402: AtomicBool,
}

/// A paid HTTP server on 127.0.0.1. Every path is a paid resource of the service named by its
/// first segment, except `/free`. A path whose second segment is `read` or `write` requires that
/// capability. A valid token gets `200 paid:<path>:<body length>`; a token lacking a capability
/// gets 403; anything else gets a fresh 402 challenge.
pub struct PaidServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The port.
    pub port: u16,
    /// The seller's (and, in most tests, the buyer's) dev wallet.
    pub wallet: Arc<DevWallet>,
    /// The wallet's data directory.
    pub wallet_dir: PathBuf,
    state: Arc<ServerState>,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

impl PaidServer {
    /// Starts a server with its own dev wallet in a fresh directory.
    pub async fn start(options: ServerOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let wallet_dir = dir.path().join("wallet");
        let wallet = open_dev_wallet(&wallet_dir);
        Self::start_with(options, wallet, wallet_dir, dir).await
    }

    /// Starts a server whose seller wallet lives in `wallet_dir` (shared with other processes).
    pub async fn start_in(options: ServerOptions, wallet_dir: &Path) -> Self {
        let wallet = open_dev_wallet(wallet_dir);
        Self::start_with(
            options,
            wallet,
            wallet_dir.to_owned(),
            tempfile::tempdir().unwrap(),
        )
        .await
    }

    async fn start_with(
        options: ServerOptions,
        wallet: Arc<DevWallet>,
        wallet_dir: PathBuf,
        dir: tempfile::TempDir,
    ) -> Self {
        let state = Arc::new(ServerState {
            wallet: wallet.clone(),
            minter: RwLock::new(new_minter()),
            always_402: AtomicBool::new(options.always_402),
            options,
            challenges: AtomicUsize::new(0),
            paid_requests: AtomicUsize::new(0),
        });
        let (port, task) =
            serve_on_loopback(Router::new().fallback(handle).with_state(state.clone())).await;
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            wallet,
            wallet_dir,
            state,
            _dir: dir,
            _task: task,
        }
    }

    /// `<base>/<path>`.
    pub fn at(&self, path: &str) -> String {
        format!("{}/{}", self.url, path.trim_start_matches('/'))
    }

    /// How many challenges (402s) the server sent.
    pub fn challenges(&self) -> usize {
        self.state.challenges.load(Ordering::SeqCst)
    }

    /// How many requests a valid token let through.
    pub fn paid_requests(&self) -> usize {
        self.state.paid_requests.load(Ordering::SeqCst)
    }

    /// Forgets every key: every token minted so far stops verifying (a server restart without
    /// persistent keys, as far as clients can tell).
    pub fn rotate_keys(&self) {
        *self.state.minter.write().unwrap() = new_minter();
    }

    /// Turns "always answer with a challenge" on or off.
    pub fn set_always_402(&self, on: bool) {
        self.state.always_402.store(on, Ordering::SeqCst);
    }
}

/// Serves `app` on an ephemeral 127.0.0.1 port until the runtime ends: the port and the task.
pub async fn serve_on_loopback(app: Router) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (port, task)
}

fn new_minter() -> Minter {
    Minter::new(KeyRing::new(1, &MasterKey::generate(&mut TestRng)))
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if path == "/free" {
        return (StatusCode::OK, "free").into_response();
    }
    let mut segments = path.trim_start_matches('/').split('/');
    let service = segments.next().unwrap_or_default().to_owned();
    let required: Vec<String> = match segments.next() {
        Some(cap @ ("read" | "write")) => vec![cap.to_owned()],
        _ => Vec::new(),
    };
    let authorization: Vec<&str> = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let credential = parse_credential(&CredentialHeaders {
        authorization,
        ..CredentialHeaders::default()
    });
    if let Ok(cred) = credential
        && !state.always_402.load(Ordering::SeqCst)
    {
        let verdict = {
            let minter = state.minter.read().unwrap();
            verify_credential(
                &cred,
                minter.keys(),
                &NoRevocations,
                &RequestContext {
                    service: &service,
                    required_capabilities: &required,
                    price: l402_core::Msat(0),
                    base_price: l402_core::Msat(0),
                    now_unix: crate::now_unix(),
                    custom: &[],
                },
            )
        };
        match verdict {
            Ok(_) => {
                state.paid_requests.fetch_add(1, Ordering::SeqCst);
                return (StatusCode::OK, format!("paid:{path}:{}", body.len())).into_response();
            }
            Err(TokenError::Caveat(CaveatFailure::MissingCapability { capability })) => {
                return (
                    StatusCode::FORBIDDEN,
                    format!("missing capability {capability}"),
                )
                    .into_response();
            }
            Err(_) => {}
        }
    }
    challenge(&state, &service).await
}

async fn challenge(state: &ServerState, service: &str) -> Response {
    let invoice = state
        .wallet
        .create_invoice(CreateInvoice {
            amount: state.options.price,
            memo: format!("L402 {service}"),
            expiry_secs: state.options.invoice_expiry_secs,
        })
        .await
        .unwrap();
    let mac = state
        .minter
        .read()
        .unwrap()
        .mint(
            &MintRequest {
                payment_hash: invoice.payment_hash,
                grants: vec![ServiceGrant {
                    service: ServiceTier {
                        name: service.to_owned(),
                        tier: 0,
                    },
                    capabilities: state.options.capabilities.clone(),
                    lifetime_secs: state.options.lifetime_secs,
                }],
                extra_caveats: Vec::new(),
            },
            &FixedClock(crate::now_unix()),
            &mut TestRng,
        )
        .unwrap();
    state.challenges.fetch_add(1, Ordering::SeqCst);
    let [lsat, l402] = challenge_header_values(&mac.encode_v2(), &invoice.bolt11);
    let mut response = (StatusCode::PAYMENT_REQUIRED, "payment required").into_response();
    let h = response.headers_mut();
    h.append(header::WWW_AUTHENTICATE, lsat.parse().unwrap());
    if !state.options.lsat_only {
        h.append(header::WWW_AUTHENTICATE, l402.parse().unwrap());
    }
    response
}

/// Counts payment attempts and payment-state lookups of the wallet it wraps.
#[derive(Default)]
pub struct Counts {
    /// `pay_invoice` calls.
    pub pay_calls: AtomicUsize,
    /// `payment_state` calls.
    pub state_calls: AtomicUsize,
}

#[async_trait]
impl WalletHook for Counts {
    async fn pay_invoice(
        &self,
        inner: &dyn LightningBackend,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        self.pay_calls.fetch_add(1, Ordering::SeqCst);
        inner.pay_invoice(bolt11, opts).await
    }
    async fn payment_state(
        &self,
        inner: &dyn LightningBackend,
        hash: &PaymentHash,
    ) -> Result<PaymentState, BackendError> {
        self.state_calls.fetch_add(1, Ordering::SeqCst);
        inner.payment_state(hash).await
    }
}

/// A wallet that forwards to another and counts payment attempts.
pub type CountingWallet = Hooked<Counts>;

impl Hooked<Counts> {
    /// Counts the calls to `inner`.
    pub fn counting(inner: Arc<dyn LightningBackend>) -> Arc<Self> {
        Hooked::new(inner, Counts::default())
    }

    /// How many payments were attempted.
    pub fn pays(&self) -> usize {
        self.hook.pay_calls.load(Ordering::SeqCst)
    }
}
