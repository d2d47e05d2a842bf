//! [`NwcBackend`] against a real Nostr relay on loopback (`nostr-relay-builder`'s in-process
//! relay, which uses its own `nostr` 0.44 and talks to ours over WebSocket) and a NIP-47 wallet
//! service on top of the dev wallet (both from `l402_testkit::nwc`).
//!
//! - the shared conformance suite, seller and payer both `NwcBackend` (two connections, two
//!   client keys, one wallet service), with a NIP-04-only wallet and with a NIP-44 wallet;
//! - the wire: responses in the scheme the wallet chose, NIP-47 error codes as typed errors,
//!   unknown connections refused, requests carrying an `expiration`;
//! - time limits: a silent wallet gives `Timeout` within the bound, a dead relay `Unreachable`;
//! - reconnection: the link to the relay is cut (a TCP "cable" between backend and relay) and
//!   restored: calls waiting for the link, and read-only calls in flight, complete; settlements
//!   keep streaming;
//!
//! The whole L402 flow through the
//! `l402 serve` binary with an NWC backend is `crates/l402-cli/tests/serve_nwc.rs`.

#![cfg(all(feature = "nwc", feature = "dev", feature = "conformance"))]

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use l402_lightning::conformance::{self, Outcome};
use l402_lightning::nwc::{Encryption, NwcBackend, NwcConfigError};
use l402_lightning::{
    BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, Network, PayOptions,
};
use l402_testkit::now_unix;
use l402_testkit::nwc::{Mode, NIP04_WALLET, NIP44_WALLET, Service, relay, world};
use nostr::key::Keys;
use nostr::nips::nip47::{ErrorCode, NIP47Error, NostrWalletConnectUri};
use nostr::types::RelayUrl;
use tokio::net::{TcpListener, TcpStream};

const PAY: PayOptions = PayOptions {
    max_fee: Msat::from_sat(10),
    timeout: Duration::from_secs(10),
};

// ---- the relay and the cable ----

/// A TCP forwarder between clients and the relay that can be cut (listener closed, every
/// connection dropped) and restored on the same port.
struct Cable {
    port: u16,
    target: SocketAddr,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Cable {
    async fn start(relay_url: &str) -> Arc<Self> {
        let target: SocketAddr = relay_url.trim_start_matches("ws://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cable = Arc::new(Self {
            port,
            target,
            task: Mutex::new(None),
        });
        cable.serve(listener);
        cable
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let task = tokio::spawn(async move {
            // Connections live in this task's set: aborting the task drops them all.
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    async fn cut(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

async fn run_conformance(mode: Mode, expected: Encryption) {
    let started = Instant::now();
    let w = world(mode).await;
    assert_eq!(w.seller.request_encryption().await.unwrap(), expected);
    assert_ne!(w.seller.client_pubkey_hex(), w.payer.client_pubkey_hex());
    // NIP-47 `make_invoice` needs an amount; `pay_invoice` takes one for amountless invoices.
    let supports = conformance::Supports {
        amountless_invoices: false,
        pay_amount: true,
    };
    let outcomes = conformance::run_all(&w.seller, &w.payer, Network::Regtest, supports)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let needs_amountless = [
        "amountless_invoice_is_open",
        "pay_amount_settles_amountless_invoice",
    ];
    for (check, outcome) in &outcomes {
        if needs_amountless.contains(check) {
            assert!(
                matches!(outcome, Outcome::Skipped(_)),
                "{check}: {outcome:?}"
            );
        } else {
            assert_eq!(*outcome, Outcome::Passed, "{check}");
        }
    }
    let (_, scheme) = w.service.last.lock().unwrap().unwrap();
    assert_eq!(scheme, expected, "the scheme requests were sent with");
    println!(
        "conformance over NWC ({expected}): {} checks passed in {:?}",
        outcomes.len(),
        started.elapsed()
    );
}

// ---- conformance ----

/// The NWC payer pays an amountless invoice of the dev wallet behind the service (NWC sellers
/// cannot issue one) with `pay_amount`: NIP-47's `amount`.
#[tokio::test]
async fn pay_amount_pays_an_amountless_invoice_over_nwc() {
    let w = world(NIP44_WALLET).await;
    let seller = &*w.service.wallet;
    let outcome = conformance::pay_amount_settles_amountless_invoice(
        seller,
        &w.payer,
        conformance::Supports::ALL,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome, Outcome::Passed);
    let outcome =
        conformance::pay_amount_refuses_zero(seller, &w.payer, conformance::Supports::ALL)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome, Outcome::Passed);
}

#[tokio::test]
async fn conformance_with_a_nip04_wallet() {
    run_conformance(NIP04_WALLET, Encryption::Nip04).await;
}

#[tokio::test]
async fn conformance_with_a_nip44_wallet() {
    run_conformance(NIP44_WALLET, Encryption::Nip44V2).await;
}

// ---- the wire ----

#[tokio::test]
async fn answers_in_the_other_scheme_are_read() {
    for (mode, sent) in [
        (
            Mode {
                reply_with: Some(Encryption::Nip44V2),
                ..NIP04_WALLET
            },
            Encryption::Nip04,
        ),
        (
            Mode {
                reply_with: Some(Encryption::Nip04),
                ..NIP44_WALLET
            },
            Encryption::Nip44V2,
        ),
    ] {
        let w = world(mode).await;
        let info = w.seller.node_info().await.unwrap();
        assert_eq!(info.network, Network::Regtest);
        assert_eq!(info.alias, "dev wallet over nwc");
        assert_eq!(info.pubkey_hex, w.service.wallet.pubkey_hex());
        assert_eq!(w.service.last.lock().unwrap().unwrap().1, sent);
    }
}

#[tokio::test]
async fn a_wallet_without_an_info_event_gets_nip04_and_no_stream() {
    let w = world(Mode {
        no_info: true,
        ..NIP44_WALLET
    })
    .await;
    assert_eq!(
        w.seller.request_encryption().await.unwrap(),
        Encryption::Nip04
    );
    assert!(w.seller.subscribe_settlements().await.unwrap().is_none());
    let invoice = w
        .seller
        .create_invoice(CreateInvoice {
            amount: Msat(1_500),
            memo: "legacy".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    w.payer.pay_invoice(&invoice.bolt11, PAY).await.unwrap();
    assert!(matches!(
        w.seller.invoice_state(&invoice.payment_hash).await,
        Ok(InvoiceState::Settled {
            amount_received: Msat(1_500),
            ..
        })
    ));
    assert_eq!(w.service.last.lock().unwrap().unwrap().1, Encryption::Nip04);
}

#[tokio::test]
async fn requests_expire_with_their_deadline() {
    let w = world(NIP44_WALLET).await;
    let before = now_unix();
    w.seller.node_info().await.unwrap();
    let (expiration, _) = w.service.last.lock().unwrap().unwrap();
    let expiration = expiration.expect("an expiration tag").as_secs();
    let timeout = l402_lightning::nwc::DEFAULT_REQUEST_TIMEOUT.as_secs();
    assert!(
        (before + timeout..=now_unix() + timeout + 2).contains(&expiration),
        "expiration {expiration}, sent at {before}"
    );
}

#[tokio::test]
async fn nip47_errors_are_typed() {
    let w = world(NIP44_WALLET).await;
    let stranger = NwcBackend::new(&w.service.uri_for(&Keys::generate(), &w.relay_url)).unwrap();
    assert_eq!(stranger.node_info().await, Err(BackendError::Unauthorized));

    let invoice = w
        .seller
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(3),
            memo: "errors".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let cases = [
        (
            "pay_invoice",
            ErrorCode::QuotaExceeded,
            "budget exhausted",
            BackendError::InsufficientBalance,
        ),
        (
            "pay_invoice",
            ErrorCode::InsufficientBalance,
            "not enough sats",
            BackendError::InsufficientBalance,
        ),
        (
            "pay_invoice",
            ErrorCode::PaymentFailed,
            "no route found",
            BackendError::NoRoute,
        ),
        (
            "pay_invoice",
            ErrorCode::Restricted,
            "this connection may not pay",
            BackendError::Unauthorized,
        ),
    ];
    for (method, code, message, want) in cases {
        w.service.script.lock().unwrap().insert(
            method.into(),
            NIP47Error {
                code,
                message: message.into(),
            },
        );
        assert_eq!(
            w.payer.pay_invoice(&invoice.bolt11, PAY).await,
            Err(want),
            "{code:?}"
        );
    }
    w.service.script.lock().unwrap().insert(
        "make_invoice".into(),
        NIP47Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
        },
    );
    let limited = w
        .seller
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(1),
            memo: "m".into(),
            expiry_secs: 60,
        })
        .await
        .unwrap_err();
    assert!(limited.is_transient(), "{limited:?}");
    // After all that, the invoice is still payable.
    let paid = w.payer.pay_invoice(&invoice.bolt11, PAY).await.unwrap();
    assert!(paid.preimage.pays(&invoice.payment_hash));
}

#[test]
fn the_secret_never_shows() {
    let client = Keys::generate();
    let secret = client.secret_key().to_secret_hex();
    let wallet = Keys::generate().public_key();
    let uri = NostrWalletConnectUri::new(
        wallet,
        vec![RelayUrl::parse("wss://relay.example.com").unwrap()],
        client.secret_key().clone(),
        None,
    )
    .to_string();
    let backend = NwcBackend::new(&uri).unwrap();
    let dbg = format!("{backend:?}");
    assert!(!dbg.contains(&secret), "{dbg}");
    assert!(dbg.contains("wss://relay.example.com") && dbg.contains("<redacted>"));
    assert_eq!(backend.wallet_pubkey_hex(), wallet.to_hex());
    assert_eq!(backend.client_pubkey_hex(), client.public_key().to_hex());

    let bad = [
        uri.replace("nostr+walletconnect://", "https://"),
        uri.replace("relay=", "rela="),
        uri.replace(&secret, &secret[..60]),
        uri.replace("wss%3A%2F%2F", "http%3A%2F%2F"),
        format!("{}{}", &uri[..30], &uri[40..]),
    ];
    for b in bad {
        let err = NwcBackend::new(&b).unwrap_err();
        assert!(matches!(err, NwcConfigError::BadUri(_)), "{b}: {err:?}");
        assert!(!err.to_string().contains(&secret[..16]), "{err}");
    }
}

// ---- time limits ----

#[tokio::test]
async fn a_silent_wallet_times_out_within_the_bound() {
    let w = world(NIP04_WALLET).await;
    w.service.silent.store(true, Ordering::SeqCst);
    let seller = w
        .seller
        .clone()
        .with_request_timeout(Duration::from_millis(600));
    let started = Instant::now();
    assert_eq!(seller.node_info().await, Err(BackendError::Timeout));
    let took = started.elapsed();
    assert!(
        (Duration::from_millis(550)..Duration::from_millis(1500)).contains(&took),
        "{took:?}"
    );

    // A payment is bounded by its own timeout.
    let invoice = w
        .service
        .wallet
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(1),
            memo: "silent".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let opts = PayOptions {
        timeout: Duration::from_millis(800),
        ..PAY
    };
    let started = Instant::now();
    assert_eq!(
        w.payer.pay_invoice(&invoice.bolt11, opts).await,
        Err(BackendError::Timeout)
    );
    assert!(started.elapsed() < Duration::from_millis(1800));
    assert!(w.service.requests.load(Ordering::SeqCst) >= 2);

    // Once the wallet talks again, the same backends work.
    w.service.silent.store(false, Ordering::SeqCst);
    assert!(seller.node_info().await.is_ok());
}

#[tokio::test]
async fn a_dead_relay_is_unreachable() {
    let port = l402_testkit::free_port();
    let dead = format!("ws://127.0.0.1:{port}");
    let service_keys = Keys::generate();
    let uri = NostrWalletConnectUri::new(
        service_keys.public_key(),
        vec![RelayUrl::parse(&dead).unwrap()],
        Keys::generate().secret_key().clone(),
        None,
    )
    .to_string();
    let backend = NwcBackend::new(&uri)
        .unwrap()
        .with_connect_timeout(Duration::from_millis(700));
    let started = Instant::now();
    let err = backend.node_info().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.is_transient(), "{err:?}");
    let BackendError::Unreachable {
        backend: name,
        address,
        detail,
        source: None,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((name.as_str(), address.as_str()), ("nwc", dead.as_str()));
    assert!(detail.contains("relay"), "{detail}");
}

#[tokio::test]
async fn wss_relays_are_verified_against_the_web_pki() {
    // A TLS server with a self-signed certificate: the handshake runs (rustls, ring provider)
    // and the certificate is refused.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = acceptor.accept(tcp).await;
        }
    });
    let relay = format!("wss://localhost:{port}");
    let uri = NostrWalletConnectUri::new(
        Keys::generate().public_key(),
        vec![RelayUrl::parse(&relay).unwrap()],
        Keys::generate().secret_key().clone(),
        None,
    )
    .to_string();
    let backend = NwcBackend::new(&uri)
        .unwrap()
        .with_connect_timeout(Duration::from_millis(1500));
    let err = backend.node_info().await.unwrap_err();
    let BackendError::Unreachable { detail, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        detail.to_ascii_lowercase().contains("certificate"),
        "{detail}"
    );
}

// ---- reconnection ----

#[tokio::test]
async fn the_backend_reconnects_when_the_relay_comes_back() {
    let (_relay, relay_url) = relay().await;
    let service = Service::start(&relay_url, NIP44_WALLET).await;
    let cable = Cable::start(&relay_url).await;
    let seller = NwcBackend::new(&service.connect(&cable.url()))
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    let payer = NwcBackend::new(&service.connect(&cable.url()))
        .unwrap()
        .with_connect_timeout(Duration::from_secs(5));
    seller.node_info().await.unwrap();
    payer.node_info().await.unwrap();
    let mut settlements = seller.subscribe_settlements().await.unwrap().unwrap();

    // 1. The relay goes away; a call made meanwhile completes once it is back.
    cable.cut().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    let restore = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cable.restore().await;
    };
    let (info, ()) = tokio::join!(seller.node_info(), restore);
    assert_eq!(info.unwrap().network, Network::Regtest);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // 2. A read-only call in flight when the link drops is asked again after the reconnection.
    *service.delay.lock().unwrap() = Duration::from_millis(600);
    let flap = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        cable.cut().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        cable.restore().await;
    };
    let before = service.requests.load(Ordering::SeqCst);
    let (info, ()) = tokio::join!(payer.node_info(), flap);
    assert!(info.is_ok(), "{info:?}");
    assert!(
        service.requests.load(Ordering::SeqCst) >= before + 2,
        "the request was sent again"
    );
    *service.delay.lock().unwrap() = Duration::ZERO;

    // 3. Invoices, payments and the settlement stream work on the new connections.
    let invoice = seller
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(4),
            memo: "after the reconnection".into(),
            expiry_secs: 600,
        })
        .await
        .unwrap();
    let paid = payer.pay_invoice(&invoice.bolt11, PAY).await.unwrap();
    assert!(paid.preimage.pays(&invoice.payment_hash));
    let settlement = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let s = settlements.recv().await.unwrap();
            if s.payment_hash == invoice.payment_hash {
                return s;
            }
        }
    })
    .await
    .expect("a settlement after the reconnection");
    assert_eq!(settlement.amount_received, Msat::from_sat(4));
    // Both notification kinds arrived; the stream carries the settlement once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(settlements.try_recv().is_err(), "a duplicate settlement");
    assert!(matches!(
        seller.invoice_state(&invoice.payment_hash).await,
        Ok(InvoiceState::Settled { .. })
    ));
}
