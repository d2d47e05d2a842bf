//! `L402GrpcLayer` against the real `l402 serve` binary (zero-config: it sells
//! `helloworld.Greeter/SayHello` for 1 sat over h2c): the first call pays and gets the
//! greeting, the next reuses the token, a refused token is replaced by exactly one payment,
//! over budget is `RESOURCE_EXHAUSTED` with nothing paid, and a body too large to replay gets the
//! server's payment-required answer unchanged.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{ChildGuard, serve, wait_for};
use l402_client::grpc::L402GrpcLayer;
use l402_client::{Budget, L402Client};
use l402_core::Msat;
use l402_core::challenge::Scheme;
use l402_core::credential::single_authorization_value;
use l402_core::identifier::Identifier;
use l402_core::invoice::Network;
use l402_core::macaroon::{Macaroon, RootKey};
use l402_core::{Preimage, TokenId};
use l402_lightning::dev::DevWalletClient;
use l402_testkit::paid_server::CountingWallet;
use tonic::Code;
use tonic::metadata::MetadataMap;
use tower::ServiceBuilder;

/// The greeting of a paid call.
const PAID_GREETING: &str = "Hello, agent! (paid with L402)";

/// `l402 serve` on a free loopback port (zero-config), killed on drop.
struct Serve {
    _process: ChildGuard,
    base: String,
    data: PathBuf,
}

impl Serve {
    async fn start(dir: &Path) -> Self {
        let (process, base) = serve(dir, &[]).await;
        let mut serve = Self {
            _process: process,
            base,
            data: dir.join("data"),
        };
        wait_for(&format!("{}/readyz", serve.base), 200, &mut serve._process).await;
        serve
    }

    /// A client paying through the server's dev wallet (counted), storing in `dir`.
    fn client(&self, dir: &Path, budget: Budget) -> (L402Client, Arc<CountingWallet>) {
        let wallet = CountingWallet::counting(Arc::new(
            DevWalletClient::from_data_dir(&self.data).unwrap(),
        ));
        let client = L402Client::builder()
            .wallet(wallet.clone())
            .store_path(dir.join("client.db"))
            .network(Network::Regtest)
            .budget(budget)
            .build()
            .unwrap();
        (client, wallet)
    }

    async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.base.clone())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }
}

/// An `Authorization` value for a well-formed token minted under a key the server never had.
fn forged_token() -> String {
    let preimage = Preimage([7; 32]);
    let id = Identifier {
        payment_hash: preimage.payment_hash(),
        token_id: TokenId([9; 32]),
    };
    let mac = Macaroon::new(&RootKey::new(vec![3; 32]), id.encode().to_vec(), None);
    single_authorization_value(Scheme::L402, &mac.encode_v2(), &preimage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pays_once_then_reuses_the_token_and_replaces_a_refused_one() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path()).await;
    let (client, wallet) = serve.client(dir.path(), Budget::default());
    let channel = ServiceBuilder::new()
        .layer(L402GrpcLayer::try_new(client.clone(), &serve.base).unwrap())
        .service(serve.channel().await);
    let scope = format!("{}/helloworld.Greeter", serve.base);

    // First call: Trailers-Only payment required → pay 1 sat → retried once → greeting.
    let reply = l402_sample::greeter::say_hello(channel.clone(), "agent", MetadataMap::new())
        .await
        .unwrap();
    assert_eq!(reply.into_inner().message, PAID_GREETING);
    assert_eq!(wallet.pays(), 1);
    let receipts = client.receipts(10).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].amount, Msat::from_sat(1));
    assert_eq!(receipts[0].scope, scope);
    let held = client.held_token(&format!("{scope}/SayHello")).await;
    assert_eq!(
        held.unwrap().unwrap().payment_hash,
        receipts[0].payment_hash
    );

    // Second and third calls: the held token, no payment.
    for _ in 0..2 {
        let reply = l402_sample::greeter::say_hello(channel.clone(), "agent", MetadataMap::new())
            .await
            .unwrap();
        assert_eq!(reply.into_inner().message, PAID_GREETING);
    }
    assert_eq!(wallet.pays(), 1);
    assert_eq!(client.receipts(10).await.unwrap().len(), 1);

    // A held token the server refuses: dropped, exactly one new payment, greeting.
    client
        .import_token(&scope, &forged_token(), Some("forged".into()))
        .await
        .unwrap();
    let reply = l402_sample::greeter::say_hello(channel.clone(), "agent", MetadataMap::new())
        .await
        .unwrap();
    assert_eq!(reply.into_inner().message, PAID_GREETING);
    assert_eq!(wallet.pays(), 2);
    let tokens = client.tokens().await.unwrap();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0].label, None, "the forged token was dropped");
    assert_eq!(client.receipts(10).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_budget_is_resource_exhausted_and_pays_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path()).await;
    // 1 sat plus the 10 sat fee cap does not fit in 5 sat a day.
    let budget = Budget {
        daily: Some(Msat::from_sat(5)),
        ..Budget::default()
    };
    let (client, wallet) = serve.client(dir.path(), budget);
    let channel = ServiceBuilder::new()
        .layer(L402GrpcLayer::new(client.clone(), &serve.base))
        .service(serve.channel().await);

    let status = l402_sample::greeter::say_hello(channel, "agent", MetadataMap::new())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .starts_with("l402: would exceed the daily budget by 6 sat"),
        "{}",
        status.message()
    );
    // The server's challenges come along, for a caller that wants to pay by other means.
    assert_eq!(
        status.metadata().get_all("www-authenticate").iter().count(),
        2
    );
    assert_eq!(wallet.pays(), 0);
    assert!(client.receipts(10).await.unwrap().is_empty());
    assert!(client.tokens().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_replay_cap_gets_the_challenge_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path()).await;
    let (client, wallet) = serve.client(dir.path(), Budget::default());
    let channel = ServiceBuilder::new()
        .layer(L402GrpcLayer::new(client.clone(), &serve.base).max_replay_body(4))
        .service(serve.channel().await);
    let status = l402_sample::greeter::say_hello(channel, "agent", MetadataMap::new())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "payment required");
    assert_eq!(wallet.pays(), 0);

    // A bad origin fails every call clearly instead of panicking.
    let bad = ServiceBuilder::new()
        .layer(L402GrpcLayer::new(client, "127.0.0.1:1"))
        .service(serve.channel().await);
    let status = l402_sample::greeter::say_hello(bad, "agent", MetadataMap::new())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("bad gRPC origin"), "{status:?}");
}
