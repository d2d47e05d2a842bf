//! [`LnbitsBackend`] against a mock LNbits on loopback (axum): how every kind of answer and
//! failure maps onto [`BackendError`], without a real LNbits. Real invoices come from a dev
//! wallet, so the backend's local BOLT11 checks see valid ones. The real LNbits is exercised by
//! `tests/lnbits_tier.rs`.

#![cfg(all(feature = "lnbits", feature = "dev"))]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use l402_lightning::dev::DevWallet;
use l402_lightning::lnbits::{LnbitsBackend, LnbitsConfigError};
use l402_lightning::{
    BackendError, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, Msat, Network,
    PayOptions, PaymentHash, PaymentState, Preimage,
};
use serde_json::{Value, json};

const INKEY: &str = "inkey-0123456789abcdef";
const ADMINKEY: &str = "adminkey-0123456789abcdef";

const PAY: PayOptions = PayOptions {
    max_fee: Msat::from_sat(10),
    timeout: Duration::from_secs(5),
};

/// What the mock answers, set per test.
#[derive(Clone, Default)]
struct Script {
    /// `POST /api/v1/payments` with `out: true`: status and body.
    pay: Option<(u16, Value)>,
    /// `GET /api/v1/payments/{hash}`: status and body.
    lookup: Option<(u16, Value)>,
    /// `GET /api/v1/payments/fee-reserve`: status and body.
    fee_reserve: Option<(u16, Value)>,
    /// Delay before every answer.
    delay: Option<Duration>,
    /// Answer creating an invoice like LNbits < 1.0 (`payment_request` only).
    old_create: bool,
}

struct Mock {
    script: Mutex<Script>,
    /// Mints the invoices the mock hands out.
    wallet: DevWallet,
    requests: AtomicUsize,
    _dir: tempfile::TempDir,
}

type Shared = Arc<Mock>;

fn reply(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// LNbits' key check: an unknown key is `404 Wallet not found.` Errors are (status, body).
fn key_of(headers: &HeaderMap) -> Result<&'static str, (u16, Value)> {
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        None => Err((401, json!({"detail": "No Api Key provided."}))),
        Some(INKEY) => Ok(INKEY),
        Some(ADMINKEY) => Ok(ADMINKEY),
        Some(_) => Err((404, json!({"detail": "Wallet not found."}))),
    }
}

async fn before(mock: &Mock) -> Script {
    mock.requests.fetch_add(1, Ordering::SeqCst);
    let script = mock.script.lock().unwrap().clone();
    if let Some(d) = script.delay {
        tokio::time::sleep(d).await;
    }
    script
}

async fn wallet_route(State(mock): State<Shared>, headers: HeaderMap) -> Response {
    before(&mock).await;
    match key_of(&headers) {
        // LNbits tells the admin key the wallet id.
        Ok(ADMINKEY) => reply(200, json!({"id": "w1", "name": "mock", "balance": 1000})),
        Ok(_) => reply(200, json!({"name": "mock", "balance": 1000})),
        Err((status, body)) => reply(status, body),
    }
}

async fn payments_route(
    State(mock): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let script = before(&mock).await;
    let key = match key_of(&headers) {
        Ok(k) => k,
        Err((status, body)) => return reply(status, body),
    };
    if body["out"] == json!(true) {
        if key != ADMINKEY {
            return reply(403, json!({"detail": "Invoice (or Admin) key required."}));
        }
        let (status, body) = script.pay.expect("the test scripted no payment answer");
        return reply(status, body);
    }
    let sats = body["amount"].as_u64().expect("amount in whole sats");
    assert_eq!(body["unit"], "sat");
    let created = mock
        .wallet
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(sats),
            memo: body["memo"].as_str().unwrap_or("").into(),
            expiry_secs: body["expiry"].as_u64().unwrap(),
        })
        .await
        .unwrap();
    let hash = created.payment_hash.to_hex();
    if script.old_create {
        reply(
            201,
            json!({"payment_hash": hash, "payment_request": created.bolt11, "checking_id": hash}),
        )
    } else {
        reply(
            201,
            json!({"payment_hash": hash, "bolt11": created.bolt11, "amount": sats * 1000,
                   "status": "pending", "preimage": "00"}),
        )
    }
}

async fn lookup_route(
    State(mock): State<Shared>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Response {
    let script = before(&mock).await;
    if hash == "fee-reserve" {
        let (status, body) = script
            .fee_reserve
            .unwrap_or((200, json!({"fee_reserve": 2000})));
        return reply(status, body);
    }
    if let Err((status, body)) = key_of(&headers) {
        return reply(status, body);
    }
    match script.lookup {
        Some((status, body)) => reply(status, body),
        None => reply(404, json!({"detail": "Payment does not exist."})),
    }
}

/// Starts the mock; returns its URL and handle.
async fn mock(script: Script) -> (String, Shared) {
    let dir = tempfile::tempdir().unwrap();
    let mock = Arc::new(Mock {
        script: Mutex::new(script),
        wallet: DevWallet::open(dir.path(), Network::Regtest).unwrap(),
        requests: AtomicUsize::new(0),
        _dir: dir,
    });
    let app = Router::new()
        .route("/api/v1/wallet", get(wallet_route))
        .route("/api/v1/payments", post(payments_route))
        .route("/api/v1/payments/{hash}", get(lookup_route))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), mock)
}

fn payer(url: &str) -> LnbitsBackend {
    LnbitsBackend::new(url, INKEY, Some(ADMINKEY)).unwrap()
}

/// A valid invoice from the mock's own wallet (so the backend's BOLT11 checks pass).
async fn invoice(mock: &Mock, sats: u64, expiry_secs: u64) -> CreatedInvoice {
    mock.wallet
        .create_invoice(CreateInvoice {
            amount: Msat::from_sat(sats),
            memo: "mock".into(),
            expiry_secs,
        })
        .await
        .unwrap()
}

fn record(hash: &PaymentHash, amount: i64, status: &str, preimage: Option<&Preimage>) -> Value {
    json!({
        "payment_hash": hash.to_hex(),
        "checking_id": format!("internal_{}", hash.to_hex()),
        "amount": amount,
        "fee": 0,
        "status": status,
        "preimage": preimage.map(Preimage::to_hex),
        "updated_at": "2026-11-21T07:56:40.763974+00:00",
        "labels": [],
    })
}

#[test]
fn construction_checks_url_and_keys_without_io() {
    let bad_urls = [
        "",
        "lnbits.example.com",
        "ftp://lnbits.example.com",
        "http://user:pw@lnbits.example.com",
        "http://lnbits.example.com/?usr=abc",
    ];
    for url in bad_urls {
        assert!(
            matches!(
                LnbitsBackend::new(url, INKEY, None),
                Err(LnbitsConfigError::BadUrl { .. })
            ),
            "{url:?}"
        );
    }
    let empty = LnbitsBackend::new("http://127.0.0.1:1", "  ", None).unwrap_err();
    assert_eq!(empty.to_string(), "bad LNbits invoice key: it is empty");
    let newline = LnbitsBackend::new("http://127.0.0.1:1", INKEY, Some("a\nb")).unwrap_err();
    assert!(
        newline.to_string().starts_with("bad LNbits admin key"),
        "{newline}"
    );
    assert!(!newline.to_string().contains("a\nb"));
    let ok = LnbitsBackend::new("https://lnbits.example.com/", INKEY, None).unwrap();
    assert_eq!(ok.base_url(), "https://lnbits.example.com");
    assert!(!ok.can_pay());
}

#[test]
fn keys_never_show_in_debug() {
    let b = LnbitsBackend::new("http://127.0.0.1:1", INKEY, Some(ADMINKEY)).unwrap();
    let dbg = format!("{b:?}");
    assert!(!dbg.contains(INKEY) && !dbg.contains(ADMINKEY), "{dbg}");
    assert!(
        dbg.contains("http://127.0.0.1:1") && dbg.contains("<redacted>"),
        "{dbg}"
    );
}

#[tokio::test]
async fn connection_refused_is_unreachable_with_address_and_hint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let b = LnbitsBackend::new(&url, INKEY, Some(ADMINKEY)).unwrap();
    let err = b.node_info().await.unwrap_err();
    assert!(err.is_transient());
    let BackendError::Unreachable {
        backend,
        address,
        detail,
        source: Some(_),
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (backend.as_str(), address.as_str()),
        ("lnbits", url.as_str())
    );
    assert!(detail.contains("is LNbits running there"), "{detail}");
    assert!(!err.to_string().contains(INKEY));
    // The settlement stream reports the same, without the key (it is in the websocket URL).
    let stream_err = b.subscribe_settlements().await.unwrap_err();
    assert!(
        matches!(stream_err, BackendError::Unreachable { .. }),
        "{stream_err:?}"
    );
    assert!(!format!("{stream_err:?}").contains(INKEY), "{stream_err:?}");
}

#[tokio::test]
async fn slow_lnbits_times_out() {
    let (url, _mock) = mock(Script {
        delay: Some(Duration::from_secs(3)),
        ..Script::default()
    })
    .await;
    let b = payer(&url).with_request_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert_eq!(b.node_info().await, Err(BackendError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn unknown_keys_are_unauthorized() {
    let (url, _mock) = mock(Script::default()).await;
    let stranger = LnbitsBackend::new(&url, "not-a-key", Some("not-a-key")).unwrap();
    assert_eq!(stranger.node_info().await, Err(BackendError::Unauthorized));
    assert_eq!(
        stranger
            .create_invoice(CreateInvoice {
                amount: Msat::from_sat(1),
                memo: "m".into(),
                expiry_secs: 60,
            })
            .await,
        Err(BackendError::Unauthorized)
    );
    assert_eq!(
        stranger.invoice_state(&PaymentHash([1; 32])).await,
        Err(BackendError::Unauthorized)
    );
}

#[tokio::test]
async fn paying_without_the_admin_key_sends_nothing() {
    let (url, mock) = mock(Script::default()).await;
    let created = invoice(&mock, 5, 600).await;
    let seller = LnbitsBackend::new(&url, INKEY, None).unwrap();
    assert_eq!(
        seller.pay_invoice(&created.bolt11, PAY).await,
        Err(BackendError::Unauthorized)
    );
    assert_eq!(mock.requests.load(Ordering::SeqCst), 0);
    // An invoice key given as the admin key: LNbits' 403.
    let mislabeled = LnbitsBackend::new(&url, INKEY, Some(INKEY)).unwrap();
    assert_eq!(
        mislabeled.pay_invoice(&created.bolt11, PAY).await,
        Err(BackendError::Unauthorized)
    );
}

#[tokio::test]
async fn payment_failures_are_typed() {
    let cases = [
        ("Insufficient balance.", BackendError::InsufficientBalance),
        ("Internal invoice already paid.", BackendError::AlreadyPaid),
        (
            "Payment failed: Only internal invoices can be used!",
            BackendError::NoRoute,
        ),
    ];
    for (detail, want) in cases {
        let (url, mock) = mock(Script {
            pay: Some((520, json!({"detail": detail, "status": "failed"}))),
            ..Script::default()
        })
        .await;
        let created = invoice(&mock, 5, 600).await;
        assert_eq!(
            payer(&url).pay_invoice(&created.bolt11, PAY).await,
            Err(want)
        );
    }
}

#[tokio::test]
async fn local_checks_refuse_before_lnbits_sees_the_invoice() {
    let (url, mock) = mock(Script::default()).await;
    let b = payer(&url);
    assert!(matches!(
        b.pay_invoice("lnbc1garbage", PAY).await,
        Err(BackendError::InvalidInvoice(_))
    ));
    let expiring = invoice(&mock, 5, 1).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        b.pay_invoice(&expiring.bolt11, PAY).await,
        Err(BackendError::InvoiceExpired)
    );
    assert_eq!(mock.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn fee_reserve_above_the_cap_is_fee_too_high() {
    let (url, mock) = mock(Script {
        fee_reserve: Some((200, json!({"fee_reserve": 20_000}))),
        ..Script::default()
    })
    .await;
    let created = invoice(&mock, 5, 600).await;
    assert_eq!(
        payer(&url).pay_invoice(&created.bolt11, PAY).await,
        Err(BackendError::FeeTooHigh)
    );
    // Only the fee-reserve question was asked.
    assert_eq!(mock.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_wrong_preimage_is_not_a_payment() {
    let (url, mock) = mock(Script::default()).await;
    let created = invoice(&mock, 5, 600).await;
    mock.script.lock().unwrap().pay = Some((
        201,
        record(
            &created.payment_hash,
            -5000,
            "success",
            Some(&Preimage([9; 32])),
        ),
    ));
    let err = payer(&url)
        .pay_invoice(&created.bolt11, PAY)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("preimage"), "{err}");
}

#[tokio::test]
async fn a_pending_payment_is_polled_until_the_timeout() {
    let (url, mock) = mock(Script::default()).await;
    let created = invoice(&mock, 5, 600).await;
    {
        let mut s = mock.script.lock().unwrap();
        s.pay = Some((201, record(&created.payment_hash, -5000, "pending", None)));
        s.lookup = Some((
            200,
            json!({"paid": false, "status": "pending",
                   "details": record(&created.payment_hash, -5000, "pending", None)}),
        ));
    }
    let opts = PayOptions {
        timeout: Duration::from_millis(800),
        ..PAY
    };
    let started = std::time::Instant::now();
    assert_eq!(
        payer(&url).pay_invoice(&created.bolt11, opts).await,
        Err(BackendError::Timeout)
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(mock.requests.load(Ordering::SeqCst) >= 4, "polled");
    assert_eq!(
        payer(&url).payment_state(&created.payment_hash).await,
        Ok(PaymentState::InFlight)
    );
}

#[tokio::test]
async fn invoice_states_follow_lnbits_records() {
    let (url, mock) = mock(Script::default()).await;
    let b = payer(&url);
    let hash = PaymentHash([3; 32]);
    let set = |lookup: Value| mock.script.lock().unwrap().lookup = Some((200, lookup));

    set(json!({"paid": true, "preimage": "x", "details": record(&hash, 21_000, "success", None)}));
    assert_eq!(
        b.invoice_state(&hash).await,
        Ok(InvoiceState::Settled {
            amount_received: Msat::from_sat(21),
            settled_at_unix: 1_795_219_200 + 7 * 3600 + 56 * 60 + 40,
        })
    );
    let mut expired = record(&hash, 21_000, "failed", None);
    expired["labels"] = json!(["expired"]);
    set(json!({"paid": false, "status": "failed", "details": expired}));
    assert_eq!(b.invoice_state(&hash).await, Ok(InvoiceState::Expired));
    set(
        json!({"paid": false, "status": "failed", "details": record(&hash, 21_000, "failed", None)}),
    );
    assert_eq!(b.invoice_state(&hash).await, Ok(InvoiceState::Canceled));
    set(
        json!({"paid": false, "status": "pending", "details": record(&hash, 21_000, "pending", None)}),
    );
    assert_eq!(b.invoice_state(&hash).await, Ok(InvoiceState::Open));
    // LNbits' public view (the payment is another wallet's) and this wallet's outgoing payment
    // are not invoices of this wallet.
    set(json!({"paid": true, "preimage": "x"}));
    assert_eq!(
        b.invoice_state(&hash).await,
        Err(BackendError::UnknownInvoice(hash))
    );
    assert_eq!(b.payment_state(&hash).await, Ok(PaymentState::Unknown));
    set(json!({"paid": true, "details": record(&hash, -21_000, "success", None)}));
    assert_eq!(
        b.invoice_state(&hash).await,
        Err(BackendError::UnknownInvoice(hash))
    );
    mock.script.lock().unwrap().lookup = None;
    assert_eq!(
        b.invoice_state(&hash).await,
        Err(BackendError::UnknownInvoice(hash))
    );
    assert_eq!(b.payment_state(&hash).await, Ok(PaymentState::Unknown));
}

#[tokio::test]
async fn both_invoice_field_names_are_read_and_identity_comes_from_them() {
    for old_create in [false, true] {
        let (url, _mock) = mock(Script {
            old_create,
            ..Script::default()
        })
        .await;
        let b = payer(&url);
        let created = b
            .create_invoice(CreateInvoice {
                amount: Msat::from_sat(21),
                memo: "fields".into(),
                expiry_secs: 600,
            })
            .await
            .unwrap();
        let parsed = l402_core::invoice::parse_bolt11(&created.bolt11).unwrap();
        assert_eq!(parsed.payment_hash, created.payment_hash);
        assert_eq!(created.expires_at_unix, parsed.expires_at_unix());
        let info = b.node_info().await.unwrap();
        assert_eq!(info.network, Network::Regtest);
        assert_eq!(info.pubkey_hex, parsed.payee_pubkey_hex);
        assert_eq!(info.alias, "LNbits wallet mock");
    }
}

#[tokio::test]
async fn sub_satoshi_amounts_are_refused_without_a_request() {
    let (url, mock) = mock(Script::default()).await;
    for amount in [Msat(1), Msat(21_500), Msat(0)] {
        let err = payer(&url)
            .create_invoice(CreateInvoice {
                amount,
                memo: "m".into(),
                expiry_secs: 60,
            })
            .await
            .unwrap_err();
        if amount == Msat(0) {
            // No amountless invoices: LNbits would read 0 as its default amount.
            assert!(matches!(err, BackendError::Unsupported { .. }), "{err:?}");
        } else {
            assert!(matches!(err, BackendError::Other(_)), "{err:?}");
        }
    }
    assert_eq!(mock.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn pay_amount_is_unsupported_without_a_request() {
    let (url, mock) = mock(Script::default()).await;
    let opts = PayOptions {
        max_fee: Msat(0),
        timeout: Duration::from_secs(5),
    };
    let err = payer(&url)
        .pay_amount("lnbcrt1anything", Msat(1_000), opts)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Unsupported { backend, .. } if backend == "lnbits"),
        "{err:?}"
    );
    assert!(err.to_string().contains("lnbits"), "{err}");
    assert_eq!(mock.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_overloaded_lnbits_is_transient() {
    let (url, mock) = mock(Script::default()).await;
    mock.script.lock().unwrap().lookup = Some((503, json!({"detail": "busy"})));
    let err = payer(&url)
        .invoice_state(&PaymentHash([4; 32]))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn https_without_tls_in_the_build_says_so() {
    let b = LnbitsBackend::new("https://127.0.0.1:9", INKEY, None).unwrap();
    match b.node_info().await.unwrap_err() {
        BackendError::Other(msg) => assert!(msg.contains("no TLS support"), "{msg}"),
        // A build whose reqwest has TLS: nothing listens there.
        BackendError::Unreachable { .. } => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_admin_key_given_as_invoice_key_is_detected() {
    let (url, _mock) = mock(Script::default()).await;
    let right = LnbitsBackend::new(&url, INKEY, None).unwrap();
    assert_eq!(right.invoice_key_is_admin_key().await, Ok(false));
    let over_privileged = LnbitsBackend::new(&url, ADMINKEY, None).unwrap();
    assert_eq!(over_privileged.invoice_key_is_admin_key().await, Ok(true));
}
