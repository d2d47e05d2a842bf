//! # `axum_paywall`: the L402 paywall inside your own axum app
//!
//! One free route and one paid route. The paid route is guarded by
//! [`L402Layer`] with a [`FixedPrice`] offer; invoices come from the embedded dev wallet
//! (regtest, no node needed), which lives in a temporary directory and is deleted on exit.
//!
//! ```text
//! cargo run -p l402-examples --example axum_paywall                 # serve on 127.0.0.1:3402
//! cargo run -p l402-examples --example axum_paywall -- --addr 127.0.0.1:0
//! cargo run -p l402-examples --example axum_paywall -- --self-test  # pay itself once, exit
//! ```
//!
//! What it shows:
//!
//! * `route_layer(L402Layer::new(paywall, FixedPrice(offer)))` on a sub-router guards only the
//!   routes of that sub-router; `merge` it with the free routes.
//! * An unpaid request gets `402 Payment Required` with two `WWW-Authenticate` challenges
//!   (`LSAT …` then `L402 macaroon="…", invoice="…"`), exactly as Aperture sends them.
//! * A paid request (`Authorization: L402 <macaroon>:<preimage>`) is verified in memory, with no
//!   database and no Lightning call, and the handler receives the verified token as a
//!   [`VerifiedToken`] request extension (and as `X-L402-*` headers).
//!
//! While it runs, it prints `curl` commands to walk the flow by hand, paying through the dev
//! wallet's loopback HTTP API. Ctrl-C stops it gracefully. `tests/axum_paywall.rs` includes this
//! file and runs [`self_test`], so the flow is proven by `cargo test`, not just compiled.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Extension;
use axum::routing::get;
use l402_core::Msat;
use l402_core::client::ResponseView;
use l402_core::invoice::Network;
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::verify::VerifiedToken;
use l402_examples::pay_challenge;
use l402_lightning::dev::{self, DevWallet};
use l402_tower::{FixedPrice, L402Layer, Offer, OsRandom, Paywall, RevocationSet};
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Errors of this example, boxed: it is an example, not a library.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// What one call of the paid route costs.
pub const PRICE: Msat = Msat::from_sat(10);

/// The paid route.
pub const PAID_PATH: &str = "/premium/joke";

/// The app: `GET /` is free, `GET /premium/joke` costs [`PRICE`].
pub fn app(paywall: Arc<Paywall>) -> Router {
    let mut offer = Offer::new("jokes", PRICE);
    offer.memo = "axum_paywall example: one joke".into();
    offer.token_lifetime_secs = Some(3600);
    let paid = Router::new()
        .route(PAID_PATH, get(joke))
        .route_layer(L402Layer::new(paywall, FixedPrice(offer)));
    Router::new().route("/", get(index)).merge(paid)
}

async fn index() -> &'static str {
    "free: GET /\npaid (10 sat): GET /premium/joke\n"
}

/// Only reached with a valid token: the layer put the verified token in the extensions.
async fn joke(Extension(token): Extension<VerifiedToken>) -> String {
    format!(
        "Why did the agent pay 10 sat? Because the API asked politely with a 402.\n(token {})\n",
        token.identifier.token_id.to_hex()
    )
}

/// The running example: the app, its dev wallet and the wallet's loopback API.
pub struct Running {
    /// Where the app listens.
    pub addr: SocketAddr,
    /// The dev wallet minting the invoices (and, in the self-test, paying them).
    pub wallet: Arc<DevWallet>,
    /// The dev wallet's loopback HTTP API, so `curl` can pay too.
    pub wallet_api: dev::http::DevWalletServer,
    /// The bearer token of `wallet_api`.
    pub wallet_token: String,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    // Last: the wallet's directory outlives everything that uses it.
    _dir: tempfile::TempDir,
}

/// Starts the app on `addr` (port 0 picks a free port) with a fresh dev wallet and master key.
pub async fn start(addr: SocketAddr) -> Result<Running, BoxError> {
    let dir = tempfile::tempdir()?;
    // Blocking file IO, fine at start-up.
    let wallet = Arc::new(DevWallet::open(dir.path(), Network::Regtest)?);
    // A real deployment loads its master key from disk; a fresh one means old tokens die with
    // the process.
    let keys = KeyRing::new(1, &MasterKey::generate(&mut OsRandom));
    let paywall = Arc::new(Paywall::new(keys, wallet.clone(), RevocationSet::default()));

    let wallet_token = dev::generate_access_token();
    let wallet_api = dev::http::serve_loopback(wallet.clone(), wallet_token.clone(), 0).await?;

    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(paywall))
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(Running {
        addr,
        wallet,
        wallet_api,
        wallet_token,
        shutdown,
        server,
        _dir: dir,
    })
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and stops the wallet API.
    pub async fn shutdown(self) -> Result<(), BoxError> {
        let _ = self.shutdown.send(());
        self.server.await??;
        self.wallet_api.shutdown().await?;
        Ok(())
    }
}

/// Walks the whole flow over real loopback HTTP: free route 200, paid route 402, pay the
/// invoice through the dev wallet (after [`l402_core::client::RequestFlow`] checked it),
/// retry with `Authorization: L402 <macaroon>:<preimage>`, get 200. Returns the paid body.
pub async fn self_test(running: &Running) -> Result<String, BoxError> {
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap();
    let base = format!("http://{}", running.addr);

    let free = http.get(format!("{base}/")).send().await?;
    if free.status() != 200 {
        return Err(format!("free route answered {}", free.status()).into());
    }

    let unpaid = http.get(format!("{base}{PAID_PATH}")).send().await?;
    if unpaid.status() != 402 {
        return Err(format!("unpaid request answered {}, not 402", unpaid.status()).into());
    }
    let challenges: Vec<String> = unpaid
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let challenges: Vec<&str> = challenges.iter().map(String::as_str).collect();
    let view = ResponseView {
        status: 402,
        www_authenticate: &challenges,
        grpc_status: None,
        grpc_message: None,
    };
    let token = pay_challenge(running.wallet.as_ref(), &view, PRICE).await?;

    let [_lsat, l402] = token.authorization_values();
    let paid = http
        .get(format!("{base}{PAID_PATH}"))
        .header(AUTHORIZATION, l402)
        .send()
        .await?;
    let status = paid.status();
    let body = paid.text().await?;
    if status != 200 {
        return Err(format!("paid request answered {status}: {body}").into());
    }
    Ok(body)
}

fn print_usage(running: &Running) {
    let base = format!("http://{}", running.addr);
    let wallet = running.wallet_api.url();
    let token = &running.wallet_token;
    println!("axum_paywall listening on {base} (dev wallet, regtest, in a temporary directory)");
    println!();
    println!("  free:   curl -i {base}/");
    println!("  paid:   curl -i {base}{PAID_PATH}");
    println!("          -> 402 with WWW-Authenticate: L402 macaroon=\"<M>\", invoice=\"<I>\"");
    println!("  pay <I> with the dev wallet's loopback API:");
    println!(
        "          curl -s -X POST {wallet}/v1/payments -H 'Authorization: Bearer {token}' \\"
    );
    println!("            -H 'Content-Type: application/json' \\");
    println!("            -d '{{\"bolt11\":\"<I>\",\"max_fee_msat\":0,\"timeout_ms\":10000}}'");
    println!("          -> {{\"preimage\":\"<P>\",...}}");
    println!("  retry:  curl -i {base}{PAID_PATH} -H 'Authorization: L402 <M>:<P>'");
    println!();
    println!("Ctrl-C to stop.");
}

/// `--addr HOST:PORT` (default 127.0.0.1:3402; the self-test picks a free port).
fn parse_args() -> Result<(SocketAddr, bool), BoxError> {
    let mut addr: Option<SocketAddr> = None;
    let mut self_test = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--self-test" => self_test = true,
            "--addr" => addr = Some(args.next().ok_or("--addr needs HOST:PORT")?.parse()?),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let default = if self_test {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3402"
    };
    Ok((addr.unwrap_or(default.parse()?), self_test))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (addr, self_test_mode) = parse_args()?;
    let running = start(addr).await?;
    if self_test_mode {
        let body = self_test(&running).await?;
        println!(
            "self-test passed: 402 challenge, paid {PRICE} through the dev wallet, retried, 200:\n{body}"
        );
        return running.shutdown().await;
    }
    print_usage(&running);
    tokio::signal::ctrl_c().await?;
    println!("shutting down");
    running.shutdown().await
}
