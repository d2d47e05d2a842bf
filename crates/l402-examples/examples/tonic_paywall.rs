//! # `tonic_paywall`: the L402 paywall as a layer of a tonic gRPC server
//!
//! The sample `helloworld.Greeter/SayHello` service behind `Server::builder().layer(L402Layer)`,
//! priced per token with a [`FixedPrice`] offer; invoices come from the embedded dev wallet
//! (regtest, in a temporary directory).
//!
//! ```text
//! cargo run -p l402-examples --example tonic_paywall                 # serve on 127.0.0.1:50402
//! cargo run -p l402-examples --example tonic_paywall -- --addr 127.0.0.1:0
//! cargo run -p l402-examples --example tonic_paywall -- --self-test  # pay itself once, exit
//! ```
//!
//! What it shows:
//!
//! * [`L402Layer`] plugs straight into `tonic::transport::Server::builder().layer(..)`: its
//!   response body (`Either<Full<Bytes>, tonic::body::Body>`) satisfies tonic's bounds, so no
//!   axum router is needed around the gRPC service.
//! * An unpaid call gets the gRPC **Trailers-Only** payment-required answer, as Aperture sends
//!   it: HTTP 200, `grpc-status: 13` (INTERNAL), `grpc-message: payment required`, and the two
//!   challenges (`LSAT …`, `L402 macaroon="…", invoice="…"`) in `www-authenticate` metadata. A
//!   tonic client sees a `Status` with code `Internal` whose metadata holds the challenges.
//! * A paid call carries the `macaroon` metadata: the hex macaroon with a `preimage=<hex>` caveat
//!   added by the client ([`l402_core::client::PaidToken::grpc_metadata_value`]), the form
//!   Aperture's gRPC clients (`lncli`-style) send. The layer verifies it in memory and forwards
//!   the call with `x-l402-*` metadata, which the sample Greeter uses to say it was paid.
//!
//! `tests/tonic_paywall.rs` includes this file and runs [`self_test`], so `cargo test` proves it.

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use l402_core::Msat;
use l402_core::client::ResponseView;
use l402_core::invoice::Network;
use l402_core::keys::{KeyRing, MasterKey};
use l402_examples::pay_challenge;
use l402_lightning::dev::DevWallet;
use l402_sample::greeter::{self, SAY_HELLO_PATH};
use l402_tower::{FixedPrice, L402Layer, Offer, OsRandom, Paywall, RevocationSet};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codegen::{BoxFuture, Context, Poll, Service};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::server::NamedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

/// Errors of this example, boxed: it is an example, not a library.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// What one token costs.
pub const PRICE: Msat = Msat::from_sat(1);

/// The sample Greeter (`l402_sample::greeter::service`, hand-written stubs) as a service tonic's
/// router accepts: tonic routes on [`NamedService::NAME`]; the sample's body type is axum's, so
/// the request body is wrapped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Greeter;

impl NamedService for Greeter {
    const NAME: &'static str = "helloworld.Greeter";
}

impl Service<http::Request<tonic::body::Body>> for Greeter {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        if request.uri().path() != SAY_HELLO_PATH {
            return Box::pin(async {
                Ok(tonic::Status::unimplemented("only SayHello is implemented").into_http())
            });
        }
        call_boxed(greeter::service(), request.map(axum::body::Body::new))
    }
}

/// Calls `service` and boxes its future. Going through a generic function matters:
/// `greeter::service()` names its future only as `impl Send`, and only the `Service` trait's own
/// bound tells the compiler that it is a `Future`.
fn call_boxed<S, R>(mut service: S, request: R) -> BoxFuture<S::Response, S::Error>
where
    S: Service<R>,
    S::Future: Send + 'static,
{
    Box::pin(service.call(request))
}

/// The running example.
pub struct Running {
    /// Where the gRPC server listens (h2c).
    pub addr: SocketAddr,
    /// The dev wallet minting the invoices (and, in the self-test, paying them).
    pub wallet: Arc<DevWallet>,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    // Last: the wallet's directory outlives everything that uses it.
    _dir: tempfile::TempDir,
}

/// Starts the gRPC server on `addr` (port 0 picks a free port) with a fresh dev wallet.
pub async fn start(addr: SocketAddr) -> Result<Running, BoxError> {
    let dir = tempfile::tempdir()?;
    // Blocking file IO, fine at start-up.
    let wallet = Arc::new(DevWallet::open(dir.path(), Network::Regtest)?);
    let keys = KeyRing::new(1, &MasterKey::generate(&mut OsRandom));
    let paywall = Arc::new(Paywall::new(keys, wallet.clone(), RevocationSet::default()));
    let mut offer = Offer::new("greeter", PRICE);
    offer.memo = "tonic_paywall example: greetings".into();
    offer.token_lifetime_secs = Some(3600);

    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder()
            .layer(L402Layer::new(paywall, FixedPrice(offer)))
            .add_service(Greeter)
            .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                let _ = rx.await;
            }),
    );
    Ok(Running {
        addr,
        wallet,
        shutdown,
        server,
        _dir: dir,
    })
}

impl Running {
    /// Stops accepting and lets in-flight calls finish.
    pub async fn shutdown(self) -> Result<(), BoxError> {
        let _ = self.shutdown.send(());
        self.server.await??;
        Ok(())
    }
}

/// Walks the flow over real loopback h2c: an unpaid call fails with `Internal` / "payment
/// required" and the challenges in `www-authenticate` metadata; the invoice is checked by
/// [`l402_core::client::RequestFlow`] and paid through the dev wallet; the retry with `macaroon`
/// metadata gets the greeting. Returns the greeting.
pub async fn self_test(running: &Running) -> Result<String, BoxError> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.addr))?
        .connect()
        .await?;

    let status = match greeter::say_hello(channel.clone(), "agent", MetadataMap::new()).await {
        Ok(reply) => {
            return Err(format!("unpaid call was answered: {:?}", reply.into_inner()).into());
        }
        Err(status) => status,
    };
    if status.code() != tonic::Code::Internal || status.message() != "payment required" {
        return Err(format!("unpaid call failed differently: {status:?}").into());
    }
    let challenges: Vec<&str> = status
        .metadata()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let view = ResponseView {
        status: 200,
        www_authenticate: &challenges,
        grpc_status: u32::try_from(i32::from(status.code())).ok(),
        grpc_message: Some(status.message()),
    };
    let token = pay_challenge(running.wallet.as_ref(), &view, PRICE).await?;

    let value = token
        .grpc_metadata_value()
        .ok_or("the challenge's macaroon does not decode")?;
    let mut metadata = MetadataMap::new();
    metadata.insert("macaroon", MetadataValue::try_from(value.as_str())?);
    let reply = greeter::say_hello(channel, "agent", metadata).await?;
    Ok(reply.into_inner().message)
}

fn print_usage(running: &Running) {
    println!(
        "tonic_paywall: helloworld.Greeter on h2c://{} ({PRICE} per token, dev wallet, regtest)",
        running.addr
    );
    println!("  an unpaid call answers grpc-status 13 \"payment required\" with the challenges");
    println!("  in `www-authenticate` metadata; retry with `macaroon: <hex macaroon + preimage");
    println!("  caveat>` metadata. `--self-test` walks the whole flow. Ctrl-C to stop.");
}

/// `--addr HOST:PORT` (default 127.0.0.1:50402; the self-test picks a free port).
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
        "127.0.0.1:50402"
    };
    Ok((addr.unwrap_or(default.parse()?), self_test))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (addr, self_test_mode) = parse_args()?;
    let running = start(addr).await?;
    if self_test_mode {
        let greeting = self_test(&running).await?;
        println!(
            "self-test passed: payment required (code 13), paid {PRICE} through the dev wallet, retried with macaroon metadata: {greeting}"
        );
        return running.shutdown().await;
    }
    print_usage(&running);
    tokio::signal::ctrl_c().await?;
    println!("shutting down");
    running.shutdown().await
}
