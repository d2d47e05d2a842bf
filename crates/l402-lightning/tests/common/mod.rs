//! Fixtures shared by the integration tests.

#![allow(dead_code)]

use std::any::Any;
use std::sync::Arc;

use l402_lightning::LightningBackend;
use l402_lightning::conformance::{ConformanceFailure, Outcome};
use l402_lightning::dev::http::{DevWalletServer, serve_loopback};
use l402_lightning::dev::{DevWallet, DevWalletClient, generate_access_token};

/// A seller, a payer, and whatever must stay alive while they are used.
pub struct Fixture {
    pub seller: Arc<dyn LightningBackend>,
    pub payer: Arc<dyn LightningBackend>,
    /// Whether the seller streams settlements.
    pub seller_streams: bool,
    pub guards: Vec<Box<dyn Any + Send>>,
}

pub use l402_testkit::wallet::open_dev_wallet as open_wallet;

/// A dev wallet in a temporary directory, served over HTTP on loopback with a fresh token.
pub struct ServedWallet {
    pub dir: tempfile::TempDir,
    pub wallet: Arc<DevWallet>,
    pub token: String,
    pub server: DevWalletServer,
}

/// Opens a dev wallet in a new temporary directory and serves it on a free loopback port.
pub async fn served_wallet() -> ServedWallet {
    let dir = tempfile::tempdir().unwrap();
    let wallet = open_wallet(dir.path());
    let token = generate_access_token();
    let server = serve_loopback(wallet.clone(), token.clone(), 0)
        .await
        .unwrap();
    ServedWallet {
        dir,
        wallet,
        token,
        server,
    }
}

impl ServedWallet {
    /// The directory (keep it alive), the wallet, the token and the server.
    pub fn into_parts(self) -> (tempfile::TempDir, Arc<DevWallet>, String, DevWalletServer) {
        (self.dir, self.wallet, self.token, self.server)
    }

    /// An HTTP client of the server with the right token.
    pub fn client(&self) -> DevWalletClient {
        DevWalletClient::new(self.server.url(), self.token.clone()).unwrap()
    }
}

/// One dev wallet is both seller and payer.
pub async fn dev_same_wallet() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let wallet = open_wallet(dir.path());
    Fixture {
        seller: wallet.clone(),
        payer: wallet,
        seller_streams: true,
        guards: vec![Box::new(dir)],
    }
}

/// Two dev wallet values opened on one data directory: the seller hears about the payer's
/// payments only through the shared ledger file.
pub async fn dev_two_wallets_one_ledger() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let seller = open_wallet(dir.path());
    let payer = open_wallet(dir.path());
    Fixture {
        seller,
        payer,
        seller_streams: true,
        guards: vec![Box::new(dir)],
    }
}

/// Seller and payer are HTTP clients of one dev wallet server on loopback.
pub async fn http_clients() -> Fixture {
    let served = served_wallet().await;
    let client = Arc::new(served.client());
    Fixture {
        seller: client.clone(),
        payer: client,
        seller_streams: false,
        guards: vec![Box::new(served.server), Box::new(served.dir)],
    }
}

/// The seller is the wallet behind the server, the payer an HTTP client of that server (the
/// `l402 serve` + `l402 fetch` arrangement).
pub async fn wallet_seller_http_payer() -> Fixture {
    let served = served_wallet().await;
    let client = Arc::new(served.client());
    Fixture {
        seller: served.wallet,
        payer: client,
        seller_streams: true,
        guards: vec![Box::new(served.server), Box::new(served.dir)],
    }
}

pub fn passed(r: Result<Outcome, ConformanceFailure>) {
    match r {
        Ok(Outcome::Passed) => {}
        Ok(other) => panic!("expected Passed, got {other:?}"),
        Err(e) => panic!("{e}"),
    }
}

/// One `#[tokio::test]` per conformance check, against the fixture `$setup` builds.
#[macro_export]
macro_rules! conformance_tests {
    ($setup:path) => {
        use l402_lightning::Network;
        use l402_lightning::conformance as c;
        use $crate::common::passed;

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn node_info_reports_network() {
            let f = $setup().await;
            passed(c::node_info_reports_network(&*f.seller, Network::Regtest).await);
            passed(c::node_info_reports_network(&*f.payer, Network::Regtest).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn create_invoice_is_open() {
            let f = $setup().await;
            passed(c::create_invoice_is_open(&*f.seller).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pay_settles_invoice() {
            let f = $setup().await;
            passed(c::pay_settles_invoice(&*f.seller, &*f.payer).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pay_twice_is_already_paid() {
            let f = $setup().await;
            passed(c::pay_twice_is_already_paid(&*f.seller, &*f.payer).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn expired_invoice_is_refused() {
            let f = $setup().await;
            passed(c::expired_invoice_is_refused(&*f.seller, &*f.payer).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn settlement_stream_delivers() {
            let f = $setup().await;
            let outcome = c::settlement_stream_delivers(&*f.seller, &*f.payer).await;
            if f.seller_streams {
                passed(outcome);
            } else {
                assert!(matches!(outcome, Ok(c::Outcome::Skipped(_))), "{outcome:?}");
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn payment_state_after_success() {
            let f = $setup().await;
            passed(c::payment_state_after_success(&*f.seller, &*f.payer).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn unknown_hashes_are_reported() {
            let f = $setup().await;
            passed(c::unknown_hashes_are_reported(&*f.seller, &*f.payer).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn invalid_invoice_is_rejected() {
            let f = $setup().await;
            passed(c::invalid_invoice_is_rejected(&*f.payer).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn amountless_invoice_is_open() {
            let f = $setup().await;
            passed(c::amountless_invoice_is_open(&*f.seller, c::Supports::ALL).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pay_amount_settles_amountless_invoice() {
            let f = $setup().await;
            passed(
                c::pay_amount_settles_amountless_invoice(&*f.seller, &*f.payer, c::Supports::ALL)
                    .await,
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pay_amount_checks_the_named_amount() {
            let f = $setup().await;
            passed(
                c::pay_amount_checks_the_named_amount(&*f.seller, &*f.payer, c::Supports::ALL)
                    .await,
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pay_amount_refuses_zero() {
            let f = $setup().await;
            passed(c::pay_amount_refuses_zero(&*f.seller, &*f.payer, c::Supports::ALL).await);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn run_all_passes() {
            let f = $setup().await;
            let outcomes = c::run_all(&*f.seller, &*f.payer, Network::Regtest, c::Supports::ALL)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(outcomes.len(), 15);
            let skipped: Vec<_> = outcomes
                .iter()
                .filter(|(_, o)| *o != c::Outcome::Passed)
                .collect();
            if f.seller_streams {
                assert!(skipped.is_empty(), "{skipped:?}");
            } else {
                assert_eq!(skipped.len(), 1, "{skipped:?}");
            }
        }
    };
}
