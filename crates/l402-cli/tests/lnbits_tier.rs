//! The LNbits tier: [`LnbitsBackend`] against a real LNbits (FakeWallet funding source), and the
//! whole L402 flow with `l402 serve` selling through one LNbits wallet and a client paying from
//! another.
//!
//! `scripts/tiers/lnbits.sh` installs and starts LNbits, creates the wallets and runs this file
//! with these variables set:
//!
//! | variable | what |
//! |---|---|
//! | `L402_LNBITS_URL` | the instance, e.g. `http://127.0.0.1:41234` |
//! | `L402_LNBITS_SELLER_INVOICE_KEY` | the seller wallet's invoice/read key |
//! | `L402_LNBITS_SELLER_ADMIN_KEY` | the seller wallet's admin key |
//! | `L402_LNBITS_BUYER_INVOICE_KEY` | the funded buyer wallet's invoice/read key |
//! | `L402_LNBITS_BUYER_ADMIN_KEY` | the buyer wallet's admin key |
//!
//! The tests that need LNbits are `#[ignore]`d (the plain `cargo test` has no LNbits); the tier
//! runs them with `--ignored`. Run without these variables they fail, naming the one missing.
//! `l402_serve_fails_fast_when_lnbits_is_down` needs no LNbits and always runs.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use l402_testkit::require_env;

use l402_core::client::{Decision, PayPolicy, RequestFlow, ResponseView};
use l402_lightning::conformance::{self, Outcome};
use l402_lightning::lnbits::LnbitsBackend;
use l402_lightning::{
    BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, Network, PayOptions,
    PaymentState,
};

/// FakeWallet signs `lnbc…` invoices: LNbits' test mode looks like mainnet.
const FAKE_WALLET_NETWORK: Network = Network::Bitcoin;

const PAY: PayOptions = PayOptions {
    max_fee: Msat::from_sat(10),
    timeout: Duration::from_secs(30),
};

struct Env {
    url: String,
    seller_invoice: String,
    seller_admin: String,
    buyer_invoice: String,
    buyer_admin: String,
}

/// The tier's variables; panics naming the first one missing.
fn env() -> Env {
    let var = |name: &str| require_env(name, "scripts/tiers/lnbits.sh");
    Env {
        url: var("L402_LNBITS_URL"),
        seller_invoice: var("L402_LNBITS_SELLER_INVOICE_KEY"),
        seller_admin: var("L402_LNBITS_SELLER_ADMIN_KEY"),
        buyer_invoice: var("L402_LNBITS_BUYER_INVOICE_KEY"),
        buyer_admin: var("L402_LNBITS_BUYER_ADMIN_KEY"),
    }
}

impl Env {
    /// The seller as `l402 serve` runs it: invoice key only.
    fn seller(&self) -> LnbitsBackend {
        LnbitsBackend::new(&self.url, &self.seller_invoice, None).unwrap()
    }
    fn seller_with_admin(&self) -> LnbitsBackend {
        LnbitsBackend::new(&self.url, &self.seller_invoice, Some(&self.seller_admin)).unwrap()
    }
    fn buyer(&self) -> LnbitsBackend {
        LnbitsBackend::new(&self.url, &self.buyer_invoice, Some(&self.buyer_admin)).unwrap()
    }
}

async fn invoice(backend: &LnbitsBackend, sats: u64, memo: &str) -> l402_lightning::CreatedInvoice {
    backend
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(sats),
            memo: memo.into(),
            expiry_secs: 600,
        })
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn conformance_suite_passes_on_real_lnbits() {
    let env = env();
    let (seller, buyer) = (env.seller(), env.buyer());
    // The backend neither issues nor pays amountless invoices: it must refuse both.
    let outcomes = conformance::run_all(
        &seller,
        &buyer,
        FAKE_WALLET_NETWORK,
        conformance::Supports::NONE,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for (check, outcome) in &outcomes {
        println!("conformance {check}: {outcome:?}");
    }
    // Every other check runs, the settlement stream (LNbits' websocket) included.
    for (check, outcome) in outcomes {
        if check.starts_with("amountless_") || check.starts_with("pay_amount_") {
            assert!(
                matches!(outcome, Outcome::Skipped(_)),
                "{check}: {outcome:?}"
            );
        } else {
            assert_eq!(outcome, Outcome::Passed, "{check}");
        }
    }
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn node_info_names_the_wallet_and_matches_its_invoices() {
    let env = env();
    let seller = env.seller();
    let info = seller.node_info().await.unwrap();
    assert_eq!(info.alias, "LNbits wallet seller");
    assert_eq!(info.network, FAKE_WALLET_NETWORK);
    let created = invoice(&seller, 3, "identity").await;
    let parsed = l402_core::invoice::parse_bolt11(&created.bolt11).unwrap();
    assert_eq!(parsed.payee_pubkey_hex, info.pubkey_hex);
    assert!(created.bolt11.starts_with("lnbc30n1"), "{}", created.bolt11);
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn paying_needs_the_admin_key() {
    let env = env();
    let created = invoice(&env.seller(), 4, "admin key").await;
    // No admin key at all: refused before any request.
    let invoice_key_only = LnbitsBackend::new(&env.url, &env.buyer_invoice, None).unwrap();
    assert!(!invoice_key_only.can_pay());
    assert_eq!(
        invoice_key_only.pay_invoice(&created.bolt11, PAY).await,
        Err(BackendError::Unauthorized)
    );
    // The invoice key passed as the admin key: LNbits answers 403.
    let mislabeled =
        LnbitsBackend::new(&env.url, &env.buyer_invoice, Some(&env.buyer_invoice)).unwrap();
    assert_eq!(
        mislabeled.pay_invoice(&created.bolt11, PAY).await,
        Err(BackendError::Unauthorized)
    );
    // Nothing was paid.
    assert_eq!(
        env.seller().invoice_state(&created.payment_hash).await,
        Ok(InvoiceState::Open)
    );
    assert_eq!(
        env.buyer().payment_state(&created.payment_hash).await,
        Ok(PaymentState::Unknown)
    );
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn unknown_key_is_unauthorized() {
    let env = env();
    let stranger = LnbitsBackend::new(&env.url, "0123456789abcdef0123456789abcdef", None).unwrap();
    assert_eq!(stranger.node_info().await, Err(BackendError::Unauthorized));
    assert_eq!(
        stranger
            .create_invoice(CreateInvoice {
                amount: Msat::from_sat(1),
                memo: "x".into(),
                expiry_secs: 60,
            })
            .await,
        Err(BackendError::Unauthorized)
    );
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn insufficient_balance_and_fee_cap_are_typed() {
    let env = env();
    // The buyer holds 100 000 sat; 500 000 is more than that.
    let big = invoice(&env.seller(), 500_000, "too big").await;
    let generous = PayOptions {
        max_fee: Msat::from_sat(10_000),
        timeout: PAY.timeout,
    };
    assert_eq!(
        env.buyer().pay_invoice(&big.bolt11, generous).await,
        Err(BackendError::InsufficientBalance)
    );
    // LNbits may spend up to its fee reserve (2 sat by default): a 1-sat cap cannot hold.
    let small = invoice(&env.seller(), 5, "fee cap").await;
    let stingy = PayOptions {
        max_fee: Msat::from_sat(1),
        timeout: PAY.timeout,
    };
    assert_eq!(
        env.buyer().pay_invoice(&small.bolt11, stingy).await,
        Err(BackendError::FeeTooHigh)
    );
    assert_eq!(
        env.seller().invoice_state(&small.payment_hash).await,
        Ok(InvoiceState::Open)
    );
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn sub_satoshi_amounts_are_refused_not_rounded() {
    let env = env();
    for amount in [Msat(1_500), Msat(999)] {
        let err = env
            .seller()
            .create_invoice(CreateInvoice {
                amount,
                memo: "sub-sat".into(),
                expiry_secs: 60,
            })
            .await
            .unwrap_err();
        let BackendError::Other(msg) = err else {
            panic!("{amount}: {err:?}")
        };
        assert!(msg.contains("whole number of satoshis"), "{msg}");
    }
    // An amount of 0 asks for an amountless invoice, which LNbits's API cannot issue.
    let err = env
        .seller()
        .create_invoice(CreateInvoice {
            amount: Msat(0),
            memo: "amountless".into(),
            expiry_secs: 60,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Unsupported { backend, .. } if backend == "lnbits"),
        "{err:?}"
    );
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn seller_pays_buyer_both_ways() {
    let env = env();
    // The other direction, with the seller's admin key: the buyer's invoice.
    let back = invoice(&env.buyer(), 1, "refund").await;
    // The seller's balance comes from the other tests' payments; make sure it has some.
    let topup = invoice(&env.seller(), 50, "top-up").await;
    env.buyer().pay_invoice(&topup.bolt11, PAY).await.unwrap();
    let paid = env
        .seller_with_admin()
        .pay_invoice(&back.bolt11, PAY)
        .await
        .unwrap();
    assert!(paid.preimage.pays(&back.payment_hash));
    assert!(matches!(
        env.buyer().invoice_state(&back.payment_hash).await,
        Ok(InvoiceState::Settled { amount_received, .. }) if amount_received == Msat::from_sat(1)
    ));
}

// ---- the L402 flow through `l402 serve` ----

/// Writes a config selling `/api/weather` of `upstream` through LNbits, its key from
/// `L402_TIER_SELLER_KEY`.
fn write_config(
    dir: &std::path::Path,
    lnbits_url: &str,
    upstream: SocketAddr,
    listen: u16,
) -> PathBuf {
    let backend = format!(
        "kind = \"lnbits\"\n[backend.lnbits]\nurl = \"{lnbits_url}\"\n\
         api_key = {{ env = \"L402_TIER_SELLER_KEY\" }}"
    );
    write_weather_config(
        dir,
        SocketAddr::from(([127, 0, 0, 1], listen)),
        &backend,
        upstream,
    )
}

fn spawn_serve(dir: &std::path::Path, config: &std::path::Path, seller_key: &str) -> ChildGuard {
    let mut command = l402().command(["serve", "--config"]);
    command.arg(config).env("L402_TIER_SELLER_KEY", seller_key);
    ChildGuard::spawn(&mut command, &dir.join("serve.log"))
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn l402_flow_with_lnbits_on_both_sides() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let (sample, _sample_task) = l402_sample::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let port = free_port();
    let config = write_config(dir.path(), &env.url, sample, port);
    let mut serve = spawn_serve(dir.path(), &config, &env.seller_invoice);
    let base = format!("http://127.0.0.1:{port}");
    let http = http_client();

    // Ready means the proxy listens and its backend (LNbits) answers.
    wait_for_status(
        &format!("{base}/readyz"),
        200,
        Duration::from_secs(30),
        Some(&mut serve),
    )
    .await;

    // 1. No credential: 402 with an LNbits invoice.
    let url = format!("{base}/api/weather?city=Paris");
    let first = http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 402, "log:\n{}", serve.log());
    let challenges: Vec<String> = first
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let views: Vec<&str> = challenges.iter().map(String::as_str).collect();

    // 2. The client checks the invoice (hash, network, amount, expiry) before paying.
    let mut flow = RequestFlow::new(
        PayPolicy {
            network: env.buyer().node_info().await.unwrap().network,
            max_amount: Msat::from_sat(10),
            now_unix: now_unix(),
        },
        false,
    );
    let view = ResponseView {
        status: 402,
        www_authenticate: &views,
        grpc_status: None,
        grpc_message: None,
    };
    let Decision::Pay { plan, .. } = flow.on_response(&view) else {
        panic!("not a payable challenge: {challenges:?}")
    };
    assert_eq!(plan.amount, Msat::from_sat(2));
    assert_eq!(plan.invoice.network, FAKE_WALLET_NETWORK);
    let seller = env.seller();
    assert_eq!(
        seller.invoice_state(&plan.payment_hash).await,
        Ok(InvoiceState::Open),
        "the challenge's invoice is the seller wallet's"
    );

    // 3. The buyer's LNbits wallet pays it.
    let paid = env
        .buyer()
        .pay_invoice(&plan.challenge.invoice, PAY)
        .await
        .unwrap();
    let token = flow.on_paid(paid.preimage).unwrap();
    assert!(matches!(
        seller.invoice_state(&plan.payment_hash).await,
        Ok(InvoiceState::Settled { amount_received, .. }) if amount_received == Msat::from_sat(2)
    ));

    // 4. Retried with the credential: 200 from the sample API, twice (the token is reusable).
    for _ in 0..2 {
        let [_, l402] = token.authorization_values();
        let ok = http
            .get(&url)
            .header("authorization", l402)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "log:\n{}", serve.log());
        let body = ok.text().await.unwrap();
        assert!(body.contains("Paris"), "{body}");
    }
    // A forged preimage is refused.
    let forged = l402_core::client::PaidToken {
        macaroon: token.macaroon.clone(),
        preimage: l402_core::Preimage([7; 32]),
    };
    let [_, bad] = forged.authorization_values();
    let refused = http
        .get(&url)
        .header("authorization", bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 402);
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn l402_serve_warns_when_given_the_admin_key() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &env.url,
        SocketAddr::from(([127, 0, 0, 1], 9)),
        port,
    );
    let mut serve = spawn_serve(dir.path(), &config, &env.seller_admin);
    wait_for_status(
        &format!("http://127.0.0.1:{port}/readyz"),
        200,
        Duration::from_secs(30),
        Some(&mut serve),
    )
    .await;
    let log = serve.log();
    assert!(
        log.contains("api_key is the wallet's admin key"),
        "no warning in:\n{log}"
    );
    assert!(!log.contains(&env.seller_admin), "the key leaked:\n{log}");
}

#[tokio::test]
#[ignore = "needs a real LNbits: scripts/tiers/lnbits.sh runs it with --ignored"]
async fn l402_serve_fails_fast_on_a_bad_lnbits_key() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &env.url,
        SocketAddr::from(([127, 0, 0, 1], 9)),
        free_port(),
    );
    let mut serve = spawn_serve(dir.path(), &config, "not-a-key-of-this-lnbits");
    let start = Instant::now();
    // A serve still running 15 s after start with a bad key fails here.
    let status = serve.wait_exit(Duration::from_secs(15));
    let log = serve.log();
    println!(
        "l402 serve with a bad key exited with {status} after {:?}:\n{log}",
        start.elapsed()
    );
    assert_eq!(status.code(), Some(2), "{log}");
    for needle in [
        "lnbits backend",
        env.url.as_str(),
        "rejected the API key",
        "[backend.lnbits] api_key",
        "invoice/read key",
    ] {
        assert!(log.contains(needle), "{needle:?} missing from:\n{log}");
    }
    assert!(
        !log.contains("not-a-key-of-this-lnbits"),
        "the key leaked:\n{log}"
    );
}

/// Needs no LNbits (the URL is dead): runs in the plain `cargo test`.
#[tokio::test]
async fn l402_serve_fails_fast_when_lnbits_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let config = write_config(
        dir.path(),
        &dead,
        SocketAddr::from(([127, 0, 0, 1], 9)),
        free_port(),
    );
    let mut serve = spawn_serve(dir.path(), &config, "whatever");
    let status = serve.wait_exit(Duration::from_secs(15));
    let log = serve.log();
    assert_ne!(status.code(), Some(0), "{log}");
    for needle in [
        "lnbits backend",
        dead.as_str(),
        "unreachable",
        "is LNbits running",
    ] {
        assert!(log.contains(needle), "{needle:?} missing from:\n{log}");
    }
}
