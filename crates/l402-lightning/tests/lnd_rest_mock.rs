//! [`LndRest`] against a stand-in for LND's REST gateway, offline: HTTPS with a self-signed CA
//! certificate like LND's `tls.cert` (pinned), the macaroon header, gateway error bodies, and
//! newline-delimited JSON streams cut at arbitrary points. Behind the gateway sits a dev wallet,
//! so the whole conformance suite runs over this transport in a plain `cargo test`. The real
//! LND is covered by `lnd_tier.rs` (scripts/tiers/lnd.sh).

use l402_testkit::serve::serve_each;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use l402_core::PaymentHash;
use l402_core::invoice::parse_bolt11;
use l402_lightning::dev::DevWallet;
use l402_lightning::lnd::{CredentialSource, LndConfig, LndRest};
use l402_lightning::{
    BackendError, CreateInvoice, InvoiceState, LightningBackend, Msat, Network, PayOptions,
    PaymentState, conformance,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

const MACAROON: &[u8] = &[
    2, 1, 3, 108, 110, 100, 2, 4, 49, 50, 51, 52, 0, 0, 6, 32, 9, 9,
];

type Body = BoxBody<Bytes, Infallible>;

/// The fake LND: a dev wallet behind LND's REST routes.
/// The local balance of the mock node's channels before it pays anything.
const CHANNEL_MSAT: u64 = 250_000_000;

struct Mock {
    wallet: DevWallet,
    invoices: Mutex<HashMap<PaymentHash, String>>,
    settle_index: Mutex<u64>,
    /// What the node sent (the channel's local balance falls by it).
    sent_msat: Mutex<u64>,
    macaroon_hex: String,
    _dir: tempfile::TempDir,
}

fn full(status: StatusCode, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed())
        .unwrap()
}

fn gateway_error(status: StatusCode, code: i32, message: &str) -> Response<Body> {
    full(
        status,
        json!({"code": code, "message": message, "details": []}),
    )
}

/// A streamed answer whose lines are cut into small chunks, as TCP may deliver them.
fn stream(lines: Vec<Value>) -> Response<Body> {
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, Infallible>::new(4);
    tokio::spawn(async move {
        for line in lines {
            let text = format!("{line}\n");
            for chunk in text.as_bytes().chunks(7) {
                if tx.send_data(Bytes::copy_from_slice(chunk)).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    Response::builder().status(200).body(body.boxed()).unwrap()
}

fn hash_from_path(segment: &str) -> Option<PaymentHash> {
    let bytes = hex::decode(segment)
        .ok()
        .or_else(|| URL_SAFE.decode(segment).ok())
        .or_else(|| STANDARD.decode(segment).ok())?;
    Some(PaymentHash(bytes.try_into().ok()?))
}

impl Mock {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let authorized = req
            .headers()
            .get("grpc-metadata-macaroon")
            .and_then(|v| v.to_str().ok())
            == Some(self.macaroon_hex.as_str());
        if !authorized {
            return Ok(gateway_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                2,
                "verification failed: signature mismatch after caveat verification",
            ));
        }
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok(match (method, path.as_str()) {
            (Method::GET, "/v1/getinfo") => full(
                StatusCode::OK,
                json!({
                    "identity_pubkey": self.wallet.node_info().await.unwrap().pubkey_hex,
                    "alias": "mock", "synced_to_chain": true,
                    "chains": [{"chain": "bitcoin", "network": "regtest"}],
                    "block_height": 500,
                }),
            ),
            (Method::POST, "/v1/invoices") => {
                let created = self
                    .wallet
                    .create_invoice(CreateInvoice {
                        amount: Msat(body["value_msat"].as_str().unwrap().parse().unwrap()),
                        memo: body["memo"].as_str().unwrap().to_owned(),
                        expiry_secs: body["expiry"].as_str().unwrap().parse().unwrap(),
                    })
                    .await
                    .unwrap();
                self.invoices
                    .lock()
                    .unwrap()
                    .insert(created.payment_hash, created.bolt11.clone());
                full(
                    StatusCode::OK,
                    json!({"r_hash": STANDARD.encode(created.payment_hash.0),
                           "payment_request": created.bolt11, "add_index": "1",
                           "payment_addr": STANDARD.encode([0u8; 32])}),
                )
            }
            (Method::GET, p) if p.starts_with("/v1/invoice/") => {
                let hash = hash_from_path(&p["/v1/invoice/".len()..]).unwrap();
                let Some(bolt11) = self.invoices.lock().unwrap().get(&hash).cloned() else {
                    return Ok(gateway_error(
                        StatusCode::NOT_FOUND,
                        5,
                        "unable to locate invoice",
                    ));
                };
                full(StatusCode::OK, self.invoice_json(&hash, &bolt11).await)
            }
            (Method::GET, "/v1/balance/channels") => {
                let local = CHANNEL_MSAT - *self.sent_msat.lock().unwrap();
                full(
                    StatusCode::OK,
                    json!({"balance": (local / 1000).to_string(),
                           "local_balance": {"sat": (local / 1000).to_string(),
                                             "msat": local.to_string()},
                           "remote_balance": {"sat": "0", "msat": "0"}}),
                )
            }
            (Method::GET, "/v1/invoices") => full(StatusCode::OK, json!({"invoices": []})),
            (Method::GET, "/v1/invoices/subscribe") => {
                let mut rx = self.wallet.subscribe_settlements().await.unwrap().unwrap();
                let (mut tx, body) = http_body_util::channel::Channel::<Bytes, Infallible>::new(4);
                let mock = self.clone();
                tokio::spawn(async move {
                    while let Ok(s) = rx.recv().await {
                        let index = {
                            let mut i = mock.settle_index.lock().unwrap();
                            *i += 1;
                            *i
                        };
                        let line = json!({"result": {
                            "r_hash": STANDARD.encode(s.payment_hash.0), "state": "SETTLED",
                            "settle_index": index.to_string(),
                            "amt_paid_msat": s.amount_received.0.to_string(),
                            "settle_date": s.settled_at_unix.to_string()}});
                        if tx
                            .send_data(Bytes::from(format!("{line}\n")))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                });
                Response::builder().status(200).body(body.boxed()).unwrap()
            }
            (Method::POST, "/v2/router/send") => {
                assert!(body["fee_limit_msat"].is_string(), "{body}");
                assert!(body["timeout_seconds"].as_i64().unwrap() >= 1, "{body}");
                let bolt11 = body["payment_request"].as_str().unwrap();
                let opts = PayOptions {
                    max_fee: Msat(0),
                    timeout: Duration::from_secs(5),
                };
                // LND's rule: `amt_msat` (an int64, a string over REST) is required for an
                // amountless invoice and refused for one that names an amount.
                let amt_msat = body
                    .get("amt_msat")
                    .map(|a| a.as_str().unwrap().parse::<u64>().unwrap())
                    .filter(|a| *a != 0);
                let named = parse_bolt11(bolt11).unwrap().amount;
                let paying = match (amt_msat, named) {
                    (Some(_), Some(_)) => {
                        return Ok(gateway_error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            2,
                            "amount must not be specified when paying a non-zero amount invoice",
                        ));
                    }
                    (None, None) => {
                        return Ok(gateway_error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            2,
                            "amount must be specified when paying a zero amount invoice",
                        ));
                    }
                    (Some(amount), None) => {
                        self.wallet.pay_amount(bolt11, Msat(amount), opts).await
                    }
                    (None, Some(_)) => self.wallet.pay_invoice(bolt11, opts).await,
                };
                match paying {
                    Ok(paid) => {
                        *self.sent_msat.lock().unwrap() += paid.amount.0 + paid.fee.0;
                        stream(vec![
                            json!({"result": {"status": "IN_FLIGHT", "payment_preimage": "00".repeat(32),
                                          "value_msat": paid.amount.0.to_string(), "fee_msat": "0"}}),
                            json!({"result": {"status": "SUCCEEDED",
                                          "payment_preimage": paid.preimage.to_hex(),
                                          "value_msat": paid.amount.0.to_string(), "fee_msat": "0",
                                          "failure_reason": "FAILURE_REASON_NONE"}}),
                        ])
                    }
                    Err(BackendError::AlreadyPaid) => full(
                        StatusCode::CONFLICT,
                        json!({"error": {"code": 6, "message": "invoice is already paid", "details": []}}),
                    ),
                    Err(_) => stream(vec![json!({"result": {"status": "FAILED",
                        "failure_reason": "FAILURE_REASON_NO_ROUTE"}})]),
                }
            }
            (Method::GET, p) if p.starts_with("/v2/router/track/") => {
                let hash = hash_from_path(&p["/v2/router/track/".len()..]).unwrap();
                match self.wallet.payment_state(&hash).await.unwrap() {
                    PaymentState::Succeeded { preimage, fee } => stream(vec![json!({"result": {
                        "status": "SUCCEEDED", "payment_preimage": preimage.to_hex(),
                        "fee_msat": fee.0.to_string()}})]),
                    PaymentState::Failed => stream(vec![json!({"result": {"status": "FAILED"}})]),
                    PaymentState::InFlight => {
                        stream(vec![json!({"result": {"status": "IN_FLIGHT"}})])
                    }
                    PaymentState::Unknown => full(
                        StatusCode::NOT_FOUND,
                        json!({"error": {"code": 5, "message": "payment isn't initiated"}}),
                    ),
                }
            }
            _ => gateway_error(StatusCode::NOT_FOUND, 5, "Not Found"),
        })
    }

    async fn invoice_json(&self, hash: &PaymentHash, bolt11: &str) -> Value {
        let parsed = parse_bolt11(bolt11).unwrap();
        let (state, paid, settled_at) = match self.wallet.invoice_state(hash).await.unwrap() {
            InvoiceState::Open => ("OPEN", 0, 0),
            InvoiceState::Settled {
                amount_received,
                settled_at_unix,
            } => ("SETTLED", amount_received.0, settled_at_unix),
            InvoiceState::Expired | InvoiceState::Canceled => ("CANCELED", 0, 0),
        };
        json!({"r_hash": STANDARD.encode(hash.0), "payment_request": bolt11, "state": state,
               "creation_date": parsed.created_at_unix.to_string(),
               "expiry": parsed.expiry_secs.to_string(),
               "amt_paid_msat": paid.to_string(), "settle_date": settled_at.to_string()})
    }
}

/// A certificate shaped like LND's: self-signed, `CA:TRUE`, for localhost and 127.0.0.1.
fn lnd_like_cert() -> (CertificateDer<'static>, PrivateKeyDer<'static>, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let pem = cert.pem();
    (
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        pem,
    )
}

/// Serves the mock over TLS on a loopback port; returns the address and the cert's PEM.
async fn start_mock() -> (String, String) {
    let (cert, key, pem) = lnd_like_cert();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let dir = tempfile::tempdir().unwrap();
    let mock = Arc::new(Mock {
        wallet: DevWallet::open(dir.path(), Network::Regtest).unwrap(),
        invoices: Mutex::new(HashMap::new()),
        settle_index: Mutex::new(0),
        sent_msat: Mutex::new(0),
        macaroon_hex: hex::encode(MACAROON),
        _dir: dir,
    });
    let addr = serve_each(move |tcp| {
        let (acceptor, mock) = (acceptor.clone(), mock.clone());
        async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| mock.clone().handle(req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        }
    })
    .await;
    (format!("https://{addr}"), pem)
}

fn client(address: &str, cert: Option<CredentialSource>, macaroon: &[u8]) -> LndRest {
    LndRest::new(LndConfig::new(
        address,
        cert,
        CredentialSource::Hex(hex::encode(macaroon)),
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_over_the_rest_transport() {
    let (address, pem) = start_mock().await;
    // The certificate as PEM bytes for one side and as base64 of the PEM for the other.
    let seller = client(
        &address,
        Some(CredentialSource::Bytes(pem.clone().into_bytes())),
        MACAROON,
    );
    let payer = client(
        &address,
        Some(CredentialSource::Base64(STANDARD.encode(&pem))),
        MACAROON,
    );
    let results = conformance::run_all(
        &seller,
        &payer,
        Network::Regtest,
        conformance::Supports::ALL,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    for (name, outcome) in results {
        assert_eq!(outcome, conformance::Outcome::Passed, "{name}");
    }
    assert_eq!(seller.node_info().await.unwrap().alias, "mock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_errors_for_credentials_and_transport() {
    let (address, pem) = start_mock().await;
    let pinned = || Some(CredentialSource::Bytes(pem.clone().into_bytes()));

    // A wrong macaroon.
    let wrong = client(&address, pinned(), &[2, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    assert_eq!(
        wrong.node_info().await.unwrap_err(),
        BackendError::Unauthorized
    );

    // Another certificate pinned: refused in the handshake, with a hint.
    let (_, _, other_pem) = lnd_like_cert();
    let other = client(
        &address,
        Some(CredentialSource::Bytes(other_pem.into_bytes())),
        MACAROON,
    );
    match other.node_info().await.unwrap_err() {
        BackendError::Unreachable {
            backend, detail, ..
        } => {
            assert_eq!(backend, "lnd");
            assert!(detail.contains("pinned tls.cert"), "{detail}");
        }
        e => panic!("{e:?}"),
    }

    // No pinned certificate: web PKI refuses LND's self-signed CA certificate.
    let unpinned = client(&address, None, MACAROON);
    assert!(unpinned.node_info().await.unwrap_err().is_transient());

    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = client(&format!("127.0.0.1:{port}"), pinned(), MACAROON);
    let err = down.node_info().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert!(err.to_string().contains("--restlisten"), "{err}");

    // The pinned client works, and its Debug output has no secret.
    let ok = client(&address, pinned(), MACAROON);
    assert_eq!(ok.node_info().await.unwrap().network, Network::Regtest);
    assert!(!format!("{ok:?}").contains(&hex::encode(MACAROON)));
}

#[test]
fn setup_errors_name_the_problem() {
    let missing = LndRest::new(LndConfig::new(
        "127.0.0.1:8080",
        Some(CredentialSource::Path("/no/such/tls.cert".into())),
        CredentialSource::Hex(hex::encode(MACAROON)),
    ))
    .unwrap_err();
    assert!(
        missing.to_string().contains("/no/such/tls.cert"),
        "{missing}"
    );
    let bad_mac = LndRest::new(LndConfig::new(
        "127.0.0.1:8080",
        None,
        CredentialSource::Hex("zz".into()),
    ))
    .unwrap_err();
    assert!(bad_mac.to_string().contains("macaroon"), "{bad_mac}");
    let bad_addr = LndRest::new(LndConfig::new(
        "grpc://127.0.0.1:10009",
        None,
        CredentialSource::Hex(hex::encode(MACAROON)),
    ))
    .unwrap_err();
    assert!(bad_addr.to_string().contains("grpc://"), "{bad_addr}");
}
