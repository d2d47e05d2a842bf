//! The LND tier: [`LndRest`] against real LND nodes on btcd regtest, run by
//! `scripts/tiers/lnd.sh`, which builds and starts everything, sets the `L402_LND_*` variables
//! and runs it with `--ignored`. It is `#[ignore]`d (a plain `cargo test` has no LND to talk
//! to); run without its variables it fails, naming the first one missing.
//!
//! One test, in phases that share the network, each run over LND's REST API ([`LndRest`]) and
//! over gRPC ([`LndGrpc`]): (a) the backend conformance suite with bob selling (invoice
//! macaroon) and alice paying (admin macaroon); typed errors for a wrong macaroon, a wrong
//! certificate, a closed port and an unaffordable payment; (b) the full L402 flow, HTTP and
//! gRPC, through the real `l402 serve` binary with bob as its backend; (c) bob stopped mid-run:
//! new challenges get 503 + Retry-After, a paid token keeps working, and the proxy recovers by
//! itself when bob is back.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use l402_core::PaymentHash;
use l402_core::client::PaidToken;
use l402_lightning::lnd::{CredentialSource, LndConfig, LndGrpc, LndRest};
use l402_lightning::{
    BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, Network, PayOptions,
    conformance,
};
use l402_testkit::require_env;
use tonic::metadata::MetadataMap;

/// Which LND API a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Rest,
    Grpc,
}

/// Where the tier's nodes are.
struct Env {
    alice_rest: String,
    alice_grpc: String,
    alice_cert: PathBuf,
    alice_macaroon: PathBuf,
    bob_rest: String,
    bob_grpc: String,
    bob_cert: PathBuf,
    bob_macaroon: PathBuf,
    bob_invoice_macaroon: PathBuf,
    ctl: PathBuf,
    dir: PathBuf,
}

impl Env {
    /// The tier's variables; panics naming the first one missing.
    fn from_env() -> Self {
        let var = |name: &str| require_env(name, "scripts/tiers/lnd.sh");
        Self {
            alice_rest: var("L402_LND_ALICE_REST"),
            alice_grpc: var("L402_LND_ALICE_GRPC"),
            alice_cert: var("L402_LND_ALICE_TLS_CERT").into(),
            alice_macaroon: var("L402_LND_ALICE_MACAROON").into(),
            bob_rest: var("L402_LND_BOB_REST"),
            bob_grpc: var("L402_LND_BOB_GRPC"),
            bob_cert: var("L402_LND_BOB_TLS_CERT").into(),
            bob_macaroon: var("L402_LND_BOB_MACAROON").into(),
            bob_invoice_macaroon: var("L402_LND_BOB_INVOICE_MACAROON").into(),
            ctl: var("L402_LND_CTL").into(),
            dir: var("L402_LND_DIR").into(),
        }
    }

    fn lnd(
        &self,
        api: Api,
        address: &str,
        cert: &Path,
        macaroon: &Path,
    ) -> Arc<dyn LightningBackend> {
        let config = LndConfig::new(
            address,
            Some(CredentialSource::Path(cert.to_path_buf())),
            CredentialSource::Path(macaroon.to_path_buf()),
        );
        match api {
            Api::Rest => Arc::new(LndRest::new(config).expect("LndRest::new")),
            Api::Grpc => Arc::new(LndGrpc::new(config).expect("LndGrpc::new")),
        }
    }

    fn alice_address(&self, api: Api) -> &str {
        match api {
            Api::Rest => &self.alice_rest,
            Api::Grpc => &self.alice_grpc,
        }
    }

    fn bob_address(&self, api: Api) -> &str {
        match api {
            Api::Rest => &self.bob_rest,
            Api::Grpc => &self.bob_grpc,
        }
    }

    fn alice(&self, api: Api) -> Arc<dyn LightningBackend> {
        self.lnd(
            api,
            self.alice_address(api),
            &self.alice_cert,
            &self.alice_macaroon,
        )
    }

    fn bob_admin(&self, api: Api) -> Arc<dyn LightningBackend> {
        self.lnd(
            api,
            self.bob_address(api),
            &self.bob_cert,
            &self.bob_macaroon,
        )
    }

    fn bob_seller(&self, api: Api) -> Arc<dyn LightningBackend> {
        self.lnd(
            api,
            self.bob_address(api),
            &self.bob_cert,
            &self.bob_invoice_macaroon,
        )
    }

    /// `lnd-ctl.sh DIR <args>`, bounded.
    fn ctl(&self, args: &[&str]) {
        let out = Command::new("timeout")
            .arg("150")
            .arg(&self.ctl)
            .arg(&self.dir)
            .args(args)
            .output()
            .expect("running lnd-ctl.sh");
        assert!(
            out.status.success(),
            "lnd-ctl.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn step(api: Api, name: &str, started: Instant) {
    println!(
        "PASS {api:?}: {name} ({:.1}s)",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs real LND nodes: scripts/tiers/lnd.sh runs it with --ignored"]
async fn lnd_tier() {
    let env = Env::from_env();
    // A process-wide rustls provider, in case the build enables reqwest's `rustls-no-provider`.
    let _ = rustls::crypto::ring::default_provider().install_default();

    for api in [Api::Rest, Api::Grpc] {
        conformance_suite(&env, api).await;
        typed_errors(&env, api).await;
        l402_flow_and_restart(&env, api).await;
    }
}

/// (a) The shared conformance suite: bob sells with an invoice macaroon, alice pays.
async fn conformance_suite(env: &Env, api: Api) {
    let t = Instant::now();
    let (seller, payer) = (env.bob_seller(api), env.alice(api));
    // Amountless invoices (AddInvoice with value 0) and pay_amount (SendPaymentV2 amt_msat)
    // included.
    let results = conformance::run_all(
        &*seller,
        &*payer,
        Network::Regtest,
        conformance::Supports::ALL,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for (name, outcome) in &results {
        println!("  conformance {name}: {outcome:?}");
        assert_eq!(*outcome, conformance::Outcome::Passed, "{name} was skipped");
    }
    // getinfo (admin) and the invoice-macaroon fallback agree on the identity.
    let admin = env.bob_admin(api).node_info().await.unwrap();
    let seller_info = seller.node_info().await.unwrap();
    assert_eq!(admin.alias, "bob");
    assert_eq!(admin.pubkey_hex, seller_info.pubkey_hex);
    assert_eq!(seller_info.network, Network::Regtest);
    step(
        api,
        "conformance suite (seller bob/invoice.macaroon, payer alice/admin.macaroon)",
        t,
    );
}

/// Typed errors against the real nodes.
async fn typed_errors(env: &Env, api: Api) {
    let t = Instant::now();
    let opts = PayOptions {
        max_fee: Msat::from_sat(10),
        timeout: Duration::from_secs(30),
    };
    let bob = env.bob_seller(api);
    let invoice = bob
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(5),
            memo: "l402 tier: errors".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();

    // An invoice macaroon cannot pay.
    assert_eq!(
        bob.pay_invoice(&invoice.bolt11, opts).await.unwrap_err(),
        BackendError::Unauthorized
    );
    // Alice's node does not know bob's macaroon.
    let wrong_mac = env.lnd(
        api,
        env.alice_address(api),
        &env.alice_cert,
        &env.bob_invoice_macaroon,
    );
    assert_eq!(
        wrong_mac.node_info().await.unwrap_err(),
        BackendError::Unauthorized
    );
    // Bob's REST with alice's certificate pinned: refused at the TLS layer, with a hint.
    let wrong_cert = env.lnd(
        api,
        env.bob_address(api),
        &env.alice_cert,
        &env.bob_macaroon,
    );
    match wrong_cert.node_info().await.unwrap_err() {
        BackendError::Unreachable { detail, .. } => {
            assert!(detail.contains("pinned tls.cert"), "{detail}")
        }
        other => panic!("wrong certificate gave {other:?}"),
    }
    // A closed port: unreachable, transient, naming the address.
    let port = free_port();
    let closed = env.lnd(
        api,
        &format!("https://127.0.0.1:{port}"),
        &env.bob_cert,
        &env.bob_macaroon,
    );
    let err = closed.node_info().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    // More than alice's channel holds.
    let big = bob
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(5_000_000),
            memo: "l402 tier: too big".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let err = env
        .alice(api)
        .pay_invoice(&big.bolt11, opts)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::InsufficientBalance | BackendError::NoRoute
        ),
        "{err:?}"
    );
    println!("  unaffordable payment: {err:?}");
    // The small invoice is still payable by alice, and then settled at bob.
    let paid = env
        .alice(api)
        .pay_invoice(&invoice.bolt11, opts)
        .await
        .unwrap();
    assert!(paid.preimage.pays(&invoice.payment_hash));
    assert!(matches!(
        bob.invoice_state(&invoice.payment_hash).await.unwrap(),
        InvoiceState::Settled { .. }
    ));
    step(
        api,
        "typed errors (macaroon, certificate, closed port, balance)",
        t,
    );
}

/// Checks the challenge with the client's request flow and pays it from alice, retrying for
/// `max_wait` while alice's channel to bob comes back.
async fn pay_challenge(
    alice: &dyn LightningBackend,
    challenge: &Challenge,
    max_wait: Duration,
) -> PaidToken {
    Payer::new(alice)
        .retry_for(max_wait)
        .pay(challenge)
        .await
        .token
}

/// (b) `l402 serve` in front of the sample API with bob as its backend, paid by alice; then
/// (c) bob stopped and restarted under it.
async fn l402_flow_and_restart(env: &Env, api: Api) {
    let t = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (sample, _task) = l402_sample::spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("l402.toml");
    std::fs::write(
        &config,
        format!(
            r#"[listen]
addr = "127.0.0.1:{port}"

[backend]
kind = "lnd"

[backend.lnd]
address = "{grpc}"
{rest}
tls_cert_path = "{cert}"
{mac}

[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://{sample}"
price_sat = 3
memo = "l402 lnd tier: weather"

[[services]]
name = "greeter"
path_prefix = "/helloworld.Greeter"
upstream = "h2c://{sample}"
price_sat = 1
"#,
            grpc = env.bob_grpc,
            // Without rest_address the proxy talks gRPC to bob.
            rest = match api {
                Api::Rest => format!("rest_address = \"{}\"", env.bob_rest),
                Api::Grpc => String::new(),
            },
            cert = env.bob_cert.display(),
            // REST run: the macaroon as hex from the environment; gRPC run: from its file.
            mac = match api {
                Api::Rest => "macaroon = { env = \"L402_TEST_BOB_MACAROON_HEX\" }".to_owned(),
                Api::Grpc => format!("macaroon_path = \"{}\"", env.bob_invoice_macaroon.display()),
            },
        ),
    )
    .unwrap();
    let mut command = l402().command(["serve", "--config"]);
    command
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env(
            "L402_TEST_BOB_MACAROON_HEX",
            hex::encode(std::fs::read(&env.bob_invoice_macaroon).unwrap()),
        )
        .env("RUST_LOG", "info");
    let mut serve = ChildGuard::spawn(&mut command, &dir.path().join("serve.log"));
    let base = format!("http://127.0.0.1:{port}");
    wait_for_status(
        &format!("{base}/readyz"),
        200,
        Duration::from_secs(60),
        Some(&mut serve),
    )
    .await;
    let alice = env.alice(api);
    let bob = env.bob_admin(api);

    // HTTP: 402 → the client's checks → alice pays bob → 200, and the token is reused.
    let url = format!("{base}/api/weather?city=Paris");
    let r = http_client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 402);
    let challenge = Challenge::of_response(&r);
    let body: serde_json::Value = r.json().await.unwrap();
    let invoice = l402_core::invoice::parse_bolt11(body["invoice"].as_str().unwrap()).unwrap();
    assert_eq!(invoice.amount, Some(Msat::from_sat(3)));
    assert_eq!(
        invoice.description.as_deref(),
        Some("l402 lnd tier: weather")
    );
    assert_eq!(
        invoice.payee_pubkey_hex,
        bob.node_info().await.unwrap().pubkey_hex,
        "the proxy's invoice is bob's"
    );
    let token = pay_challenge(&*alice, &challenge, Duration::from_secs(5)).await;
    let r = get_with(&url, &token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["city"],
        "Paris"
    );
    assert_eq!(
        get_with(&format!("{base}/api/weather?city=Oslo"), &token)
            .await
            .status(),
        200
    );
    assert!(matches!(
        bob.invoice_state(&invoice.payment_hash).await.unwrap(),
        InvoiceState::Settled { .. }
    ));
    step(
        api,
        "L402 over HTTP: 402 → alice pays bob's invoice → 200",
        t,
    );

    // The same with the `l402 fetch` CLI paying from alice (client `[wallet] kind = "lnd"`).
    let t = Instant::now();
    let client_dir = dir.path().join("client");
    std::fs::create_dir_all(&client_dir).unwrap();
    let client_config = client_dir.join("client.toml");
    std::fs::write(
        &client_config,
        format!(
            "[wallet]\nkind = \"lnd\"\n[wallet.lnd]\n{}\ntls_cert_path = \"{}\"\nmacaroon_path = \"{}\"\n",
            match api {
                Api::Rest => format!("rest_address = \"{}\"", env.alice_rest),
                Api::Grpc => format!("address = \"{}\"", env.alice_grpc),
            },
            env.alice_cert.display(),
            env.alice_macaroon.display(),
        ),
    )
    .unwrap();
    let fetch = |city: &str| {
        l402()
            .command([
                "fetch",
                "--json",
                &format!("{base}/api/weather?city={city}"),
            ])
            .env("L402_CLIENT_CONFIG", &client_config)
            .env("L402_DATA_DIR", &client_dir)
            .output()
            .unwrap()
    };
    let out = fetch("Lima");
    assert!(
        out.status.success(),
        "l402 fetch failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 200);
    assert_eq!(json["paid"]["amount_sat"], 3, "{json}");
    let paid_hash = PaymentHash::from_hex(json["paid"]["payment_hash"].as_str().unwrap()).unwrap();
    assert!(matches!(
        bob.invoice_state(&paid_hash).await.unwrap(),
        InvoiceState::Settled { .. }
    ));
    let out = fetch("Quito");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["status"].as_u64(), json["reused_token"].as_bool()),
        (Some(200), Some(true)),
        "{json}"
    );
    step(
        api,
        "l402 fetch pays bob from alice (real LND), then reuses the token",
        t,
    );

    // `l402 wallet balance` reads alice's channel balance; `l402 doctor --config` finds bob's
    // invoice macaroon enough, and flags his admin macaroon as more than a seller needs.
    let t = Instant::now();
    let out = l402()
        .command(["wallet", "balance", "--json"])
        .env("L402_CLIENT_CONFIG", &client_config)
        .env("L402_DATA_DIR", &client_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let balance: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(balance["kind"], "lnd", "{balance}");
    assert!(
        balance["spendable_msat"]
            .as_u64()
            .is_some_and(|m| m > 3_000),
        "{balance}"
    );
    let doctor = |config: &Path, macaroon: &Path| {
        let out = l402()
            .command(["doctor", "--json", "--config"])
            .arg(config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env(
                "L402_TEST_BOB_MACAROON_HEX",
                hex::encode(std::fs::read(macaroon).unwrap()),
            )
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let status = |name: &str| {
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .map(|c| c["status"].as_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("no {name} in {report}"))
        };
        (
            status("backend"),
            status("backend permissions"),
            report.clone(),
        )
    };
    let (backend, permissions, report) = doctor(&config, &env.bob_invoice_macaroon);
    assert_eq!(
        (backend.as_str(), permissions.as_str()),
        ("pass", "pass"),
        "{report}"
    );
    let admin_config = dir.path().join("l402-admin.toml");
    std::fs::write(
        &admin_config,
        std::fs::read_to_string(&config).unwrap().replace(
            &env.bob_invoice_macaroon.display().to_string(),
            &env.bob_macaroon.display().to_string(),
        ),
    )
    .unwrap();
    let (backend, permissions, report) = doctor(&admin_config, &env.bob_macaroon);
    assert_eq!(
        (backend.as_str(), permissions.as_str()),
        ("pass", "warn"),
        "{report}"
    );
    step(
        api,
        "wallet balance (alice) and doctor: invoice macaroon enough, admin flagged",
        t,
    );

    // gRPC through the proxy: payment required as a gRPC error, pay, retry with `macaroon`.
    let t = Instant::now();
    let channel = tonic::transport::Endpoint::from_shared(base.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = l402_sample::greeter::say_hello(channel.clone(), "agent", MetadataMap::new())
        .await
        .unwrap_err();
    assert_eq!(status.message(), "payment required");
    let grpc_token = pay_challenge(&*alice, &grpc_challenge(&status), Duration::from_secs(5)).await;
    assert_eq!(
        paid_say_hello(channel, &grpc_token).await,
        "Hello, agent! (paid with L402)"
    );
    step(
        api,
        "L402 over gRPC (Greeter): payment required → pay → reply",
        t,
    );

    // (c) Bob down: fast 503 + Retry-After for new challenges, paid tokens still served.
    let t = Instant::now();
    env.ctl(&["stop", "bob"]);
    assert_backend_down(&base, &url, &token, Duration::from_secs(10)).await;
    serve.assert_running();
    step(
        api,
        "bob stopped: 503 + Retry-After, paid token still 200, /readyz 503",
        t,
    );

    // Bob back: the proxy recovers by itself (it never exited), and a new purchase works.
    let t = Instant::now();
    env.ctl(&["start", "bob"]);
    wait_for_status(
        &format!("{base}/readyz"),
        200,
        Duration::from_secs(90),
        Some(&mut serve),
    )
    .await;
    let fresh = Payer::new(&*alice)
        .retry_for(Duration::from_secs(90))
        .buy(&url)
        .await
        .token;
    assert_eq!(get_with(&url, &fresh).await.status(), 200);
    assert_eq!(get_with(&url, &token).await.status(), 200);
    serve.assert_running();
    step(
        api,
        "bob restarted: /readyz 200, new 402 paid → 200, same proxy process",
        t,
    );

    // SIGTERM drains and exits 0.
    assert_eq!(
        serve.terminate(Duration::from_secs(15)),
        Some(0),
        "l402 serve ignored SIGTERM or failed; log:\n{}",
        serve.log()
    );
}
