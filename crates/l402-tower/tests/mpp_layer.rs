//! The `Payment` scheme (MPP, Lightning charge) through the paywall layer, with the real dev
//! wallet as the backend and an in-memory single-use ledger.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use l402_core::invoice::Network;
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::{Msat, PaymentHash};
use l402_lightning::dev::DevWallet;
use l402_lightning::{LightningBackend, PayOptions};
use l402_mpp::{Challenge, ChargeRequest, Credential, Receipt};
use l402_tower::{
    ChargeLedger, FixedPrice, L402Layer, LedgerError, MppSettings, Offer, Paywall, Protocols,
    RevocationSet,
};
use tower::{Layer, ServiceExt, service_fn};

/// The single-use ledger, in memory.
#[derive(Default)]
struct MemoryLedger(Mutex<HashSet<PaymentHash>>);

impl ChargeLedger for MemoryLedger {
    fn consume(
        &self,
        charge: &l402_mpp::VerifiedCharge,
        _service: &str,
        _keep_until_unix: u64,
    ) -> Result<bool, LedgerError> {
        Ok(self.0.lock().unwrap().insert(charge.payment_hash))
    }
}

async fn upstream(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let saw: Vec<String> = req
        .headers()
        .get_all("authorization")
        .iter()
        .map(|v| v.to_str().unwrap().split(' ').next().unwrap().to_owned())
        .collect();
    let hash = req
        .headers()
        .get("x-l402-payment-hash")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(hash)));
    response
        .headers_mut()
        .insert("x-upstream-saw", saw.join(",").parse().unwrap());
    Ok(response)
}

struct Harness {
    wallet: Arc<DevWallet>,
    paywall: Arc<Paywall>,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Arc::new(DevWallet::open(dir.path(), Network::Regtest).unwrap());
    let paywall = Arc::new(
        Paywall::new(
            KeyRing::new(1, &MasterKey::from_bytes([4; 32])),
            wallet.clone(),
            RevocationSet::default(),
        )
        .with_mpp(MppSettings {
            realm: "test.example".into(),
            secret: vec![9; 32],
            previous_secrets: Vec::new(),
            network: "regtest".into(),
            ledger: Arc::new(MemoryLedger::default()),
        }),
    );
    Harness {
        wallet,
        paywall,
        _dir: dir,
    }
}

fn offer(sat: u64, l402: bool, mpp: bool) -> Offer {
    let mut o = Offer::new("weather", Msat::from_sat(sat));
    o.protocols = Protocols { l402, mpp };
    o
}

async fn call(h: &Harness, offer: Offer, auth: Option<&str>) -> (StatusCode, HeaderMap, Bytes) {
    call_with(h, offer, auth, None).await
}

async fn call_with(
    h: &Harness,
    offer: Offer,
    auth: Option<&str>,
    accept_payment: Option<&str>,
) -> (StatusCode, HeaderMap, Bytes) {
    let svc = L402Layer::new(h.paywall.clone(), FixedPrice(offer)).layer(service_fn(upstream));
    let mut b = Request::get("http://x/weather");
    if let Some(a) = accept_payment {
        b = b.header("accept-payment", a);
    }
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let resp = svc
        .oneshot(b.body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

fn challenges(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn problem(body: &Bytes) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

/// Pays the `Payment` challenge of a 402 with the dev wallet; returns the credential.
async fn pay(h: &Harness, headers: &HeaderMap) -> Credential {
    let joined = challenges(headers).join(", ");
    let list = Challenge::parse_list(&joined).unwrap();
    assert_eq!(list.len(), 1, "{joined}");
    let challenge = list.into_iter().next().unwrap();
    let request: ChargeRequest = challenge.decode_request().unwrap();
    let options = PayOptions {
        max_fee: Msat(0),
        timeout: Duration::from_secs(5),
    };
    let paid = h
        .wallet
        .pay_invoice(&request.method_details.invoice, options)
        .await
        .unwrap();
    assert_eq!(Some(paid.preimage.payment_hash()), request.payment_hash());
    Credential {
        challenge,
        source: None,
        payload: serde_json::json!({"preimage": paid.preimage.to_hex()})
            .as_object()
            .unwrap()
            .clone(),
    }
}

#[tokio::test]
async fn an_mpp_only_service_offers_one_payment_challenge_and_serves_once() {
    let h = harness();
    let (status, headers, body) = call(&h, offer(21, false, true), None).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(headers["cache-control"], "no-store");
    let values = challenges(&headers);
    assert_eq!(values.len(), 1, "{values:?}");
    assert!(values[0].starts_with("Payment id=\""), "{values:?}");
    let p = problem(&body);
    assert_eq!(
        p["type"],
        "https://paymentauth.org/problems/payment-required"
    );
    assert_eq!(p["status"], 402);

    let credential = pay(&h, &headers).await;
    let auth = credential.to_authorization();
    let (status, headers, body) = call(&h, offer(21, false, true), Some(&auth)).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(headers["cache-control"], "private");
    assert_eq!(
        headers["x-upstream-saw"], "",
        "the credential must not reach the upstream"
    );
    let receipt = Receipt::from_header(headers["payment-receipt"].to_str().unwrap()).unwrap();
    let request: ChargeRequest = credential.challenge.decode_request().unwrap();
    let hash = request.method_details.payment_hash.unwrap();
    assert_eq!(receipt.reference, hash);
    assert_eq!(
        body,
        hash.as_bytes(),
        "the upstream sees X-L402-Payment-Hash"
    );
    assert_eq!(receipt.status, "success");
    assert_eq!(receipt.method, "lightning");
    assert_eq!(
        receipt.challenge_id.as_deref(),
        Some(credential.challenge.id.as_str())
    );

    // Replay: refused with the challenge named, and a fresh challenge to pay.
    let (status, headers, body) = call(&h, offer(21, false, true), Some(&auth)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert!(!headers.contains_key("payment-receipt"));
    let p = problem(&body);
    assert_eq!(
        p["type"],
        "https://paymentauth.org/problems/invalid-challenge"
    );
    assert_eq!(p["challengeId"], credential.challenge.id.as_str());
    let fresh = Challenge::parse_list(&challenges(&headers).join(", ")).unwrap();
    assert_ne!(fresh[0].id, credential.challenge.id);
}

#[tokio::test]
async fn both_protocols_share_one_402_with_separate_invoices() {
    let h = harness();
    let (status, headers, _) = call(&h, offer(21, true, true), None).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    let values = challenges(&headers);
    assert_eq!(values.len(), 3, "{values:?}");
    assert!(values[0].starts_with("LSAT "));
    assert!(values[1].starts_with("L402 "));
    assert!(values[2].starts_with("Payment "));
    let l402 =
        l402_core::challenge::parse_first_challenge(values.iter().map(String::as_str)).unwrap();
    let payment = Challenge::parse_list(&values.join(", ")).unwrap();
    let request: ChargeRequest = payment[0].decode_request().unwrap();
    assert_ne!(l402.invoice, request.method_details.invoice);
    // A Payment credential opens it.
    let credential = pay(&h, &headers).await;
    let (status, _, _) = call(
        &h,
        offer(21, true, true),
        Some(&credential.to_authorization()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refusals_carry_their_problem_types() {
    let h = harness();
    let (_, headers, _) = call(&h, offer(21, false, true), None).await;
    let credential = pay(&h, &headers).await;
    let auth = credential.to_authorization();

    // Widened: paid 21 sat, the request costs 22.
    let (status, _, body) = call(&h, offer(22, false, true), Some(&auth)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        problem(&body)["type"],
        "https://paymentauth.org/problems/payment-insufficient"
    );
    // Mis-bound: another service.
    let mut other = offer(21, false, true);
    other.service = "maps".into();
    let (_, _, body) = call(&h, other, Some(&auth)).await;
    assert_eq!(
        problem(&body)["type"],
        "https://paymentauth.org/problems/invalid-challenge"
    );
    // Unpaid: a preimage of another invoice.
    let mut forged = credential.clone();
    forged
        .payload
        .insert("preimage".into(), "ab".repeat(32).into());
    let (_, _, body) = call(&h, offer(21, false, true), Some(&forged.to_authorization())).await;
    assert_eq!(
        problem(&body)["type"],
        "https://paymentauth.org/problems/lightning/invalid-preimage"
    );
    // Unreadable.
    let (_, _, body) = call(&h, offer(21, false, true), Some("Payment !!!")).await;
    assert_eq!(
        problem(&body)["type"],
        "https://paymentauth.org/problems/malformed-credential"
    );
    // Another intent: 400.
    let mut session = credential.clone();
    session.challenge.intent = "session".into();
    let (status, _, body) = call(
        &h,
        offer(21, false, true),
        Some(&session.to_authorization()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        problem(&body)["type"],
        "https://paymentauth.org/problems/method-unsupported"
    );
    // None of these consumed it: it still pays once.
    let (status, _, _) = call(&h, offer(21, false, true), Some(&auth)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn accept_payment_refusing_the_charge_drops_its_challenge_when_l402_is_offered() {
    let h = harness();
    let count = |headers: &HeaderMap| challenges(headers).len();
    let (_, headers, _) = call_with(
        &h,
        offer(21, true, true),
        None,
        Some("lightning/charge;q=0, */*"),
    )
    .await;
    assert_eq!(count(&headers), 2, "L402 only");
    let (_, headers, _) =
        call_with(&h, offer(21, true, true), None, Some("lightning/charge")).await;
    assert_eq!(count(&headers), 3);
    let (_, headers, _) = call_with(&h, offer(21, true, true), None, Some("tempo/*")).await;
    assert_eq!(count(&headers), 2, "nothing matches: weight 0");
    // Never the only way to pay.
    let (_, headers, _) = call_with(
        &h,
        offer(21, false, true),
        None,
        Some("lightning/charge;q=0"),
    )
    .await;
    assert_eq!(count(&headers), 1);
}

#[tokio::test]
async fn an_l402_only_service_offers_no_payment_challenge() {
    let h = harness();
    let (status, headers, _) = call(&h, offer(21, true, false), None).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(challenges(&headers).len(), 2);
}

#[tokio::test]
async fn concurrent_replays_are_served_once() {
    let h = harness();
    let (_, headers, _) = call(&h, offer(21, false, true), None).await;
    let auth = pay(&h, &headers).await.to_authorization();
    let h = Arc::new(h);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (h, auth) = (h.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            call(&h, offer(21, false, true), Some(&auth)).await.0
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}
