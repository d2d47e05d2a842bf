//! The paywall layer around a plain tower service, with the real dev wallet as the backend.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use l402_core::client::{Decision, PayPolicy, RequestFlow, ResponseView};
use l402_core::invoice::Network;
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::verify::VerifiedToken;
use l402_core::{Msat, TokenId};
use l402_lightning::dev::{DevFault, DevWallet};
use l402_lightning::{LightningBackend, PayOptions};
use l402_tower::{FixedPrice, L402Layer, Offer, Paywall, PaywallSettings, RevocationSet};
use tower::{Layer, ServiceExt, service_fn};

type Inner = Response<Full<Bytes>>;

/// The upstream behind an RFC 9110 proxy hop: headers named in `Connection` never reach it.
async fn upstream(mut req: Request<Full<Bytes>>) -> Result<Inner, Infallible> {
    let listed: Vec<String> = req
        .headers()
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    for name in listed {
        req.headers_mut().remove(name.as_str());
    }
    let token = req
        .extensions()
        .get::<VerifiedToken>()
        .map(|t| t.identifier.token_id.to_hex());
    let header = req
        .headers()
        .get("x-l402-token-id")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(token, header, "extension and forwarded header must agree");
    // Which credential headers reached the upstream, for the tests to check.
    let credentials: Vec<String> = req
        .headers()
        .get_all("authorization")
        .iter()
        .chain(req.headers().get_all("macaroon"))
        .map(|v| v.to_str().unwrap().split(' ').next().unwrap().to_owned())
        .collect();
    let mut response = Response::new(Full::new(Bytes::from(
        header.unwrap_or_else(|| "free".into()),
    )));
    response.headers_mut().insert(
        "x-upstream-saw",
        http::HeaderValue::from_str(&credentials.join(",")).unwrap(),
    );
    Ok(response)
}

struct Harness {
    wallet: Arc<DevWallet>,
    paywall: Arc<Paywall>,
    _dir: tempfile::TempDir,
}

fn harness(settings: PaywallSettings) -> Harness {
    harness_with_clock(settings, Arc::new(l402_tower::SystemClock))
}

fn harness_with_clock(
    settings: PaywallSettings,
    clock: Arc<dyn l402_core::env::Clock + Send + Sync>,
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Arc::new(DevWallet::open(dir.path(), Network::Regtest).unwrap());
    let paywall = Arc::new(
        Paywall::new(
            KeyRing::new(1, &MasterKey::from_bytes([4; 32])),
            wallet.clone(),
            RevocationSet::default(),
        )
        .with_settings(settings)
        .with_clock(clock),
    );
    Harness {
        wallet,
        paywall,
        _dir: dir,
    }
}

fn offer() -> Offer {
    let mut o = Offer::new("weather", Msat::from_sat(21));
    o.grant_capabilities = vec!["read".into()];
    o.token_lifetime_secs = Some(3600);
    o
}

/// [`offer`] for a request from `ip`.
fn offer_from(ip: &str) -> Offer {
    let mut o = offer();
    o.client_ip = Some(ip.parse().unwrap());
    o
}

/// A gRPC request.
fn grpc_request() -> Request<Full<Bytes>> {
    Request::post("http://x/a.B/C")
        .header("content-type", "application/grpc")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn call(
    h: &Harness,
    offer: Offer,
    req: Request<Full<Bytes>>,
) -> (StatusCode, http::HeaderMap, Bytes) {
    let svc = L402Layer::new(h.paywall.clone(), FixedPrice(offer)).layer(service_fn(upstream));
    let resp = svc.oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

fn get(auth: Option<&str>) -> Request<Full<Bytes>> {
    let mut b = Request::get("http://x/weather");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(Full::new(Bytes::new())).unwrap()
}

/// Pays the challenge in `headers` through the dev wallet; returns the Authorization value.
async fn pay(h: &Harness, headers: &http::HeaderMap) -> String {
    let values: Vec<&str> = headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let now = now();
    let mut flow = RequestFlow::new(
        PayPolicy {
            network: Network::Regtest,
            max_amount: Msat::from_sat(100),
            now_unix: now,
        },
        false,
    );
    let view = ResponseView {
        status: 402,
        www_authenticate: &values,
        grpc_status: None,
        grpc_message: None,
    };
    let Decision::Pay { plan, .. } = flow.on_response(&view) else {
        panic!("expected a payable challenge")
    };
    assert_eq!(plan.amount, Msat::from_sat(21));
    let paid = h
        .wallet
        .pay_invoice(
            &plan.challenge.invoice,
            PayOptions {
                max_fee: Msat(0),
                timeout: Duration::from_secs(5),
            },
        )
        .await
        .unwrap();
    flow.on_paid(paid.preimage).unwrap().authorization_values()[1].clone()
}

#[tokio::test]
async fn challenge_pay_and_pass() {
    let h = harness(PaywallSettings::default());
    let (status, headers, body) = call(&h, offer(), get(None)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    let challenges: Vec<_> = headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(challenges.len(), 2);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-expose-headers"], "WWW-Authenticate");
    assert!(
        challenges[0].starts_with("LSAT macaroon=\"")
            && challenges[1].starts_with("L402 macaroon=\"")
    );
    assert!(challenges[0].contains("\", invoice=\"lnbcrt210n"));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["reason"], "missing_credential");
    assert_eq!(json["price_sat"], 21);

    let auth = pay(&h, &headers).await;
    let (status, _, body) = call(&h, offer(), get(Some(&auth))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 64, "upstream saw the token id");

    // A client naming the paywall's headers in `Connection` cannot make the next hop strip
    // them: the upstream still sees which token paid.
    let sneaky = Request::get("http://x/weather")
        .header("authorization", &auth)
        .header("connection", "keep-alive, X-L402-Token-Id, x-l402-caveat")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, _, sneaky_body) = call(&h, offer(), sneaky).await;
    assert_eq!((status, sneaky_body), (StatusCode::OK, body.clone()));

    // The credential stays at the paywall unless the service asks for it; the upstream's own
    // scheme passes either way.
    let with_bearer = |auth: &str| {
        Request::get("http://x/weather")
            .header("authorization", auth)
            .header("authorization", "Bearer upstream-key")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let (status, seen, _) = call(&h, offer(), with_bearer(&auth)).await;
    assert_eq!(
        (status, seen["x-upstream-saw"].to_str().unwrap()),
        (StatusCode::OK, "Bearer")
    );
    let mut forwarding = offer();
    forwarding.forward_credential = true;
    let (status, seen, _) = call(&h, forwarding, with_bearer(&auth)).await;
    let scheme = auth.split(' ').next().unwrap();
    assert_eq!(
        (status, seen["x-upstream-saw"].to_str().unwrap()),
        (StatusCode::OK, format!("{scheme},Bearer").as_str())
    );

    // The same token keeps working; a forged one gets a fresh challenge naming the reason.
    assert_eq!(call(&h, offer(), get(Some(&auth))).await.0, StatusCode::OK);
    let forged = format!(
        "{}{}",
        &auth[..auth.len() - 1],
        if auth.ends_with('0') { '1' } else { '0' }
    );
    let (status, _, body) = call(&h, offer(), get(Some(&forged))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["reason"],
        "wrong_preimage"
    );
    let (_, _, body) = call(&h, offer(), get(Some("L402 !!!:zz"))).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["reason"],
        "malformed_credential"
    );
}

#[tokio::test]
async fn capabilities_revocation_and_service_are_enforced() {
    let h = harness(PaywallSettings::default());
    let (_, headers, _) = call(&h, offer(), get(None)).await;
    let auth = pay(&h, &headers).await;

    let mut needs_write = offer();
    needs_write.required_capabilities = vec!["write".into()];
    let (status, _, body) = call(&h, needs_write, get(Some(&auth))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["reason"],
        "missing_capability"
    );

    let other = Offer::new("other", Msat::from_sat(1));
    let (_, _, body) = call(&h, other, get(Some(&auth))).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["reason"],
        "wrong_service"
    );

    let (_, _, body) = call(&h, offer(), get(Some(&auth))).await;
    assert_eq!(body.len(), 64);
    let token_id = TokenId::from_hex(std::str::from_utf8(&body).unwrap()).unwrap();
    h.paywall.revocations().revoke(token_id);
    let (_, _, body) = call(&h, offer(), get(Some(&auth))).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["reason"],
        "revoked"
    );
}

#[tokio::test]
async fn grpc_gets_trailers_only_payment_required() {
    let h = harness(PaywallSettings::default());
    let req = Request::post("http://x/helloworld.Greeter/SayHello")
        .header("content-type", "application/grpc")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, headers, body) = call(&h, offer(), req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["grpc-status"], "13");
    assert_eq!(headers["grpc-message"], "payment required");
    assert_eq!(headers.get_all("www-authenticate").iter().count(), 2);
    assert!(body.is_empty());
}

#[tokio::test]
async fn backend_down_or_slow_gives_503_within_bounded_time() {
    let h = harness(PaywallSettings {
        invoice_timeout: Duration::from_millis(300),
        retry_after_secs: 7,
        ..PaywallSettings::default()
    });
    h.wallet.set_fault(DevFault::Down);
    let (status, headers, body) = call(&h, offer(), get(None)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "7");
    // No oracle for outsiders: the body says what happened, not the backend's error text.
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"error": "lightning_backend_unavailable", "retry_after_secs": 7})
    );

    h.wallet.set_fault(DevFault::Slow(Duration::from_secs(30)));
    let started = Instant::now();
    let (status, _, _) = call(&h, offer(), get(None)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "503 took {:?}",
        started.elapsed()
    );

    let (status, headers, _) = call(&h, offer(), grpc_request()).await;
    assert_eq!(
        (status, headers["grpc-status"].to_str().unwrap()),
        (StatusCode::OK, "14")
    );

    // It recovers by itself when the backend returns.
    h.wallet.set_fault(DevFault::None);
    assert_eq!(
        call(&h, offer(), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
}

#[tokio::test]
async fn free_paths_freebies_and_spoofed_headers() {
    let h = harness(PaywallSettings::default());
    let free = Offer::new("weather", Msat(0));
    let spoofed = Request::get("http://x/")
        .header("x-l402-token-id", "00".repeat(32))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, _, body) = call(&h, free, spoofed).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &b"free"[..]),
        "spoofed header must be stripped"
    );

    let mut with_freebies = offer();
    with_freebies.freebies_per_ip = 2;
    with_freebies.client_ip = Some("192.0.2.1".parse::<IpAddr>().unwrap());
    assert_eq!(
        call(&h, with_freebies.clone(), get(None)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h, with_freebies.clone(), get(None)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h, with_freebies, get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
}

/// A clock the test moves.
struct TestClock(std::sync::atomic::AtomicU64);
impl l402_core::env::Clock for TestClock {
    fn now_unix(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn verified_cache_still_honours_expiry_and_revocation() {
    let now = now();
    let clock = Arc::new(TestClock(std::sync::atomic::AtomicU64::new(now)));
    let h = harness_with_clock(PaywallSettings::default(), clock.clone());
    let mut short = offer();
    short.token_lifetime_secs = Some(60);
    let (_, headers, _) = call(&h, short.clone(), get(None)).await;
    let auth = pay(&h, &headers).await;
    // Verified once, then served from the cache many times.
    for _ in 0..3 {
        assert_eq!(
            call(&h, short.clone(), get(Some(&auth))).await.0,
            StatusCode::OK
        );
    }
    clock.0.store(now + 60, std::sync::atomic::Ordering::SeqCst);
    let (status, _, body) = call(&h, short.clone(), get(Some(&auth))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["reason"],
        "expired"
    );
    // A cached token that gets revoked is refused at once.
    clock.0.store(now, std::sync::atomic::Ordering::SeqCst);
    let (_, _, body) = call(&h, short.clone(), get(Some(&auth))).await;
    let token_id = TokenId::from_hex(std::str::from_utf8(&body).unwrap()).unwrap();
    h.paywall.revocations().revoke(token_id);
    let (_, _, body) = call(&h, short, get(Some(&auth))).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["reason"],
        "revoked"
    );
}

#[tokio::test]
async fn a_reused_credential_is_verified_once() {
    let h = harness(PaywallSettings::default());
    let (_, headers, _) = call(&h, offer(), get(None)).await;
    let auth = pay(&h, &headers).await;
    let parts = |auth: &str| get(Some(auth)).into_parts().0;
    let l402_tower::Verdict::Paid(first) = h.paywall.authorize(&parts(&auth), &offer()) else {
        panic!("not paid")
    };
    let l402_tower::Verdict::Paid(second) = h.paywall.authorize(&parts(&auth), &offer()) else {
        panic!("not paid")
    };
    assert!(
        Arc::ptr_eq(&first, &second),
        "the second request must be served from the verified cache"
    );
    // Another service is a different question: never answered from the cache.
    assert!(matches!(
        h.paywall
            .authorize(&parts(&auth), &Offer::new("other", Msat(1000))),
        l402_tower::Verdict::Challenge(_)
    ));
}

#[tokio::test]
async fn a_client_that_never_pays_meets_429_and_paying_frees_a_slot() {
    let h = harness(PaywallSettings {
        max_unpaid_challenges_per_client: Some(3),
        ..PaywallSettings::default()
    });
    let from = offer_from;
    let mut challenges = Vec::new();
    for _ in 0..3 {
        let (status, headers, _) = call(&h, from("2001:db8::1"), get(None)).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
        challenges.push(headers);
    }
    // The same /64 is the same client: the fourth unpaid challenge is refused, cheaply.
    let (status, headers, body) = call(&h, from("2001:db8::2"), get(None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "too_many_unpaid_challenges");
    let (_, headers, _) = call(&h, from("2001:db8::3"), grpc_request()).await;
    assert_eq!(headers["grpc-status"], "8");
    // Another client is not affected.
    assert_eq!(
        call(&h, from("2001:db8:0:1::1"), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED
    );

    // Paying one challenge and using its token frees a slot.
    let auth = pay(&h, &challenges[0]).await;
    assert_eq!(
        call(&h, from("2001:db8::1"), get(Some(&auth))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h, from("2001:db8::1"), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
    assert_eq!(
        call(&h, from("2001:db8::1"), get(None)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Without a cap, nothing is refused.
    let open = harness(PaywallSettings {
        max_unpaid_challenges_per_client: None,
        ..PaywallSettings::default()
    });
    for _ in 0..5 {
        assert_eq!(
            call(&open, from("192.0.2.1"), get(None)).await.0,
            StatusCode::PAYMENT_REQUIRED
        );
    }
}

/// The macaroon bytes and preimage inside an `Authorization: L402 <macaroon>:<preimage>` value.
fn token_parts(auth: &str) -> (Vec<u8>, l402_core::Preimage) {
    let credential =
        l402_core::credential::parse_credential(&l402_core::credential::CredentialHeaders {
            authorization: vec![auth],
            ..Default::default()
        })
        .unwrap();
    let l402_core::credential::PreimageSource::Explicit(preimage) = credential.preimage else {
        panic!("an Authorization credential carries its preimage")
    };
    (credential.macaroons[0].clone(), preimage)
}

/// `auth`'s token with `caveats` added by its holder (a correctly signed attenuation).
fn attenuate(auth: &str, caveats: Vec<String>) -> String {
    let (bytes, preimage) = token_parts(auth);
    let mut mac = l402_core::macaroon::Macaroon::decode_v2(&bytes).unwrap();
    for c in caveats {
        mac.add_first_party_caveat(c.into_bytes());
    }
    l402_core::credential::authorization_header_values(&mac.encode_v2(), &preimage)[1].clone()
}

#[tokio::test]
async fn only_checked_caveats_reach_the_upstream_in_canonical_form() {
    let h = harness(PaywallSettings::default());
    let (_, headers, _) = call(&h, offer(), get(None)).await;
    let auth = pay(&h, &headers).await;
    let forwarded = |auth: &str| match h
        .paywall
        .authorize(&get(Some(auth)).into_parts().0, &offer())
    {
        l402_tower::Verdict::Paid(v) => v
            .headers
            .iter()
            .filter(|(name, _)| name == l402_tower::HEADER_CAVEAT)
            .map(|(_, value)| value.to_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        other => panic!("not paid: {other:?}"),
    };
    let minted = forwarded(&auth);
    let until: u64 = minted
        .iter()
        .find_map(|c| c.strip_prefix("weather_valid_until="))
        .expect("the minted expiry is forwarded")
        .parse()
        .unwrap();
    assert_eq!(
        minted,
        [
            "services=weather:0".to_owned(),
            "weather_capabilities=read".to_owned(),
            "weather_max_price_msat=21000".to_owned(),
            format!("weather_valid_until={until}"),
        ]
    );
    // The holder adds conditions nobody checks (they still verify: unknown caveats are
    // skipped) and narrows checked ones in odd spellings: the unknown ones are not forwarded
    // as if minted, and the narrowed ones arrive as checked, in canonical form, once each.
    let attenuated = attenuate(
        &auth,
        vec![
            "tenant=admin".into(),
            "weather_role=root".into(),
            "services=weather:00".into(),
            "weather_capabilities= read,,".into(),
            format!("weather_valid_until=0{}", until - 60),
        ],
    );
    assert_eq!(
        forwarded(&attenuated),
        [
            "services=weather:0".to_owned(),
            "weather_capabilities=read".to_owned(),
            "weather_max_price_msat=21000".to_owned(),
            format!("weather_valid_until={}", until - 60),
        ]
    );
}

#[tokio::test]
async fn the_verified_cache_is_keyed_on_what_verification_reads() {
    let h = harness(PaywallSettings::default());
    let (_, headers, _) = call(&h, offer(), get(None)).await;
    let auth = pay(&h, &headers).await;
    let (macaroon, preimage) = token_parts(&auth);
    let [lsat, l402] = l402_core::credential::authorization_header_values(&macaroon, &preimage);
    assert_eq!(auth, l402);
    let paid = |req: Request<Full<Bytes>>| match h.paywall.authorize(&req.into_parts().0, &offer())
    {
        l402_tower::Verdict::Paid(v) => v,
        other => panic!("not paid: {other:?}"),
    };
    let first = paid(get(Some(&l402)));
    // The same macaroon and preimage, spelled otherwise or beside headers verification
    // ignores: one cache entry, no re-verification.
    let cluttered = Request::get("http://x/weather")
        .header("authorization", &l402)
        .header("authorization", "Bearer upstream-key")
        .header("macaroon", "00")
        .header("grpc-metadata-macaroon", "0102")
        .body(Full::new(Bytes::new()))
        .unwrap();
    for (what, req) in [
        ("the LSAT scheme", get(Some(&lsat))),
        ("extra credential headers", cluttered),
        ("the first spelling again", get(Some(&l402))),
    ] {
        assert!(
            Arc::ptr_eq(&first, &paid(req)),
            "{what} re-verified the token"
        );
    }
}

#[tokio::test]
async fn a_cached_credential_answers_only_the_terms_it_was_verified_for() {
    let h = harness(PaywallSettings::default());
    let (_, headers, _) = call(&h, offer(), get(None)).await;
    let auth = pay(&h, &headers).await;
    // Cached under the plain offer's terms (found again by the header's bytes)...
    for _ in 0..2 {
        assert_eq!(call(&h, offer(), get(Some(&auth))).await.0, StatusCode::OK);
    }
    // ...which do not answer for a route that needs a capability the token lacks,
    let mut needs_admin = offer();
    needs_admin.required_capabilities = vec!["admin".into()];
    let (status, _, body) = call(&h, needs_admin, get(Some(&auth))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(reason(&body), "missing_capability");
    // ...nor for another service.
    let (status, _, _) = call(&h, Offer::new("other", Msat(1000)), get(Some(&auth))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    // The plain offer still is.
    assert_eq!(call(&h, offer(), get(Some(&auth))).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_token_opens_only_what_was_paid_for() {
    let h = harness(PaywallSettings::default());
    // Bought on a route that requires a capability the service does not grant: it opens it.
    let mut needs_write = offer();
    needs_write.required_capabilities = vec!["write".into()];
    let (_, headers, _) = call(&h, needs_write.clone(), get(None)).await;
    let auth = pay(&h, &headers).await;
    assert_eq!(
        call(&h, needs_write, get(Some(&auth))).await.0,
        StatusCode::OK
    );
    // A dearer offer of the same service wants its own payment: a fresh challenge at its price.
    let mut dear = offer();
    dear.price = Msat::from_sat(50);
    let (status, headers, body) = call(&h, dear.clone(), get(Some(&auth))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (json["reason"].as_str(), json["price_sat"].as_u64()),
        (Some("price_not_covered"), Some(50))
    );
    assert_eq!(headers["x-l402-reason"], "price_not_covered");
    // A cheaper one it opens.
    let mut cheap = offer();
    cheap.price = Msat::from_sat(5);
    assert_eq!(call(&h, cheap, get(Some(&auth))).await.0, StatusCode::OK);
}

/// The `L402-Token` header of a response, parsed.
fn token_status(headers: &http::HeaderMap) -> Option<l402_core::token_status::TokenStatus> {
    let value = headers.get(l402_core::token_status::TOKEN_STATUS_HEADER)?;
    l402_core::token_status::TokenStatus::parse(value.to_str().unwrap())
}

/// The `reason` of a 402's JSON body.
fn reason(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body).unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn paid_responses_tell_the_holder_what_the_token_has_left() {
    let now = now();
    let clock = Arc::new(TestClock(std::sync::atomic::AtomicU64::new(now)));
    let h = harness_with_clock(PaywallSettings::default(), clock.clone());
    let (status, headers, _) = call(&h, offer(), get(None)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert!(
        token_status(&headers).is_none(),
        "a 402 has no token status"
    );
    let auth = pay(&h, &headers).await;

    let (status, headers, body) = call(&h, offer(), get(Some(&auth))).await;
    assert_eq!(status, StatusCode::OK);
    let first = token_status(&headers).expect("a paid response carries L402-Token");
    assert_eq!(first.token_id.to_hex(), std::str::from_utf8(&body).unwrap());
    assert_eq!(
        (first.expires, first.ttl, first.balance_msat),
        (Some(now + 3600), Some(3600), None)
    );
    // Later, served from the verified cache: the same expiry, less time left.
    clock
        .0
        .store(now + 100, std::sync::atomic::Ordering::SeqCst);
    let (_, headers, _) = call(&h, offer(), get(Some(&auth))).await;
    let later = token_status(&headers).unwrap();
    assert_eq!((later.expires, later.ttl), (Some(now + 3600), Some(3500)));
    assert_eq!(
        headers[l402_core::token_status::TOKEN_STATUS_HEADER]
            .to_str()
            .unwrap(),
        format!(
            "id=\"{}\", expires={}, ttl=3500",
            first.token_id.to_hex(),
            now + 3600
        )
    );

    // A token that never expires: only its id.
    let mut forever = offer();
    forever.token_lifetime_secs = None;
    let (_, headers, _) = call(&h, forever.clone(), get(None)).await;
    let auth = pay(&h, &headers).await;
    let (status, headers, body) = call(&h, forever, get(Some(&auth))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[l402_core::token_status::TOKEN_STATUS_HEADER]
            .to_str()
            .unwrap(),
        format!("id=\"{}\"", std::str::from_utf8(&body).unwrap())
    );
}

/// `Authorization: L402 <a>,<b>:<b's preimage>`, `a` carrying its own preimage in a caveat.
fn two_tokens(a: &str, b: &str) -> String {
    let (a_mac, a_pre) = token_parts(a);
    let (b_mac, b_pre) = token_parts(b);
    let a_mac = l402_core::macaroon::Macaroon::decode_v2(&a_mac).unwrap();
    let a_carrying = l402_core::mint::with_preimage_caveat(&a_mac, &a_pre).encode_v2();
    l402_core::credential::multi_authorization_value(
        l402_core::challenge::Scheme::L402,
        [a_carrying.as_slice(), b_mac.as_slice()],
        &b_pre,
    )
}

#[tokio::test]
async fn several_tokens_in_one_credential_open_the_union_of_their_services() {
    let h = harness(PaywallSettings::default());
    let weather = offer();
    let news = Offer::new("news", Msat::from_sat(21));
    let (_, headers, _) = call(&h, weather.clone(), get(None)).await;
    let weather_auth = pay(&h, &headers).await;
    let (_, headers, _) = call(&h, news.clone(), get(None)).await;
    let news_auth = pay(&h, &headers).await;
    // Each alone opens only its own service.
    assert_eq!(
        call(&h, news.clone(), get(Some(&weather_auth))).await.0,
        StatusCode::PAYMENT_REQUIRED
    );

    let both = two_tokens(&weather_auth, &news_auth);
    let (status, headers, weather_id) = call(&h, weather.clone(), get(Some(&both))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, news_headers, news_id) = call(&h, news.clone(), get(Some(&both))).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(weather_id, news_id, "each service saw its own token");
    // L402-Token names the token that authorized each request.
    assert_eq!(
        token_status(&headers).unwrap().token_id.to_hex(),
        std::str::from_utf8(&weather_id).unwrap()
    );
    assert_eq!(
        token_status(&news_headers).unwrap().token_id.to_hex(),
        std::str::from_utf8(&news_id).unwrap()
    );

    // A valid token beside a forged one: the whole credential is refused, even though the
    // valid one alone would do.
    let (news_mac, news_pre) = token_parts(&news_auth);
    let mut forged = news_mac.clone();
    *forged.last_mut().unwrap() ^= 1;
    let (weather_mac, weather_pre) = token_parts(&weather_auth);
    let weather_carrying = l402_core::mint::with_preimage_caveat(
        &l402_core::macaroon::Macaroon::decode_v2(&weather_mac).unwrap(),
        &weather_pre,
    )
    .encode_v2();
    let with_forgery = l402_core::credential::multi_authorization_value(
        l402_core::challenge::Scheme::L402,
        [weather_carrying.as_slice(), forged.as_slice()],
        &news_pre,
    );
    let (status, headers, body) = call(&h, weather.clone(), get(Some(&with_forgery))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(reason(&body), "bad_signature");
    assert_eq!(headers["x-l402-reason"], "bad_signature");

    // More macaroons than allowed: a clear reason, nothing verified.
    let many = vec![news_mac.as_slice(); l402_core::limits::MAX_MACAROONS_PER_CREDENTIAL + 1];
    let flood = l402_core::credential::multi_authorization_value(
        l402_core::challenge::Scheme::L402,
        many,
        &news_pre,
    );
    let (status, _, body) = call(&h, news.clone(), get(Some(&flood))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(reason(&body), "too_many_macaroons");

    // The pair is cached; revoking the token not used for weather still refuses it there.
    h.paywall
        .revocations()
        .revoke(TokenId::from_hex(std::str::from_utf8(&news_id).unwrap()).unwrap());
    let (status, _, body) = call(&h, weather, get(Some(&both))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(reason(&body), "revoked");
}

#[tokio::test]
async fn oversized_credentials_are_refused_before_their_signature_is_checked() {
    let h = harness(PaywallSettings::default());
    let (_, headers, _) = call(&h, offer(), get(None)).await;
    let auth = pay(&h, &headers).await;
    let attenuated = |caveats: Vec<String>| attenuate(&auth, caveats);
    let many: Vec<String> = (0..l402_core::limits::MAX_CAVEATS)
        .map(|i| format!("note{i}=x"))
        .collect();
    let long_list = format!(
        "weather_capabilities={}",
        vec!["read"; l402_core::limits::MAX_LIST_ENTRIES + 1].join(",")
    );
    let big = format!("note={}", "x".repeat(l402_core::limits::MAX_MACAROON_BYTES));
    for (caveats, reason) in [
        (many, "too_many_caveats"),
        (vec![long_list], "caveat_list_too_long"),
        (vec![big], "macaroon_too_large"),
    ] {
        // Each is a correctly signed attenuation of a paid token: only the limits refuse it.
        let (status, _, body) = call(&h, offer(), get(Some(&attenuated(caveats)))).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{reason}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["reason"], reason);
    }
    assert_eq!(call(&h, offer(), get(Some(&auth))).await.0, StatusCode::OK);
}

#[tokio::test]
async fn rate_limits_answer_429_per_client_per_prefix_and_per_token() {
    let now = now();
    let clock = Arc::new(TestClock(std::sync::atomic::AtomicU64::new(now)));
    let settings = PaywallSettings {
        max_unpaid_challenges_per_client: None,
        ..PaywallSettings::default()
    };
    let h = harness_with_clock(settings, clock.clone());
    let limited = |ip: &str| {
        let mut o = offer_from(ip);
        o.rate_limit = Some(l402_tower::RateLimitRule {
            scope: 1,
            limit: l402_tower::RateLimit {
                requests: 1,
                per_secs: 1,
                burst: 2,
            },
        });
        o
    };
    // One client: its burst, then 429 with Retry-After (gRPC: RESOURCE_EXHAUSTED).
    let mut challenges = Vec::new();
    for _ in 0..2 {
        let (status, headers, _) = call(&h, limited("192.0.2.1"), get(None)).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
        challenges.push(headers);
    }
    let (status, headers, body) = call(&h, limited("192.0.2.1"), get(None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "1");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "rate_limited");
    let (_, headers, _) = call(&h, limited("192.0.2.1"), grpc_request()).await;
    assert_eq!(headers["grpc-status"], "8");
    assert_eq!(headers["retry-after"], "1");
    // Another client is not affected.
    assert_eq!(
        call(&h, limited("192.0.2.2"), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
    // One IPv6 /64 is one client; the next /64 is another.
    for _ in 0..2 {
        call(&h, limited("2001:db8::1"), get(None)).await;
    }
    assert_eq!(
        call(&h, limited("2001:db8::ffff:2"), get(None)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call(&h, limited("2001:db8:0:1::1"), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED
    );
    // A second later, one more.
    clock.0.store(now + 1, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        call(&h, limited("192.0.2.1"), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED
    );

    // A paid request counts against its token, wherever it comes from.
    let auth = pay(&h, &challenges[0]).await;
    for _ in 0..2 {
        assert_eq!(
            call(&h, limited("198.51.100.1"), get(Some(&auth))).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        call(&h, limited("198.51.100.2"), get(Some(&auth))).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the token's bucket is empty, whatever the address"
    );
    assert_eq!(
        call(&h, limited("198.51.100.1"), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED,
        "the client's own bucket was not used by its paid requests"
    );
    // No rule, no limit.
    for _ in 0..4 {
        let mut o = limited("192.0.2.1");
        o.rate_limit = None;
        assert_eq!(call(&h, o, get(None)).await.0, StatusCode::PAYMENT_REQUIRED);
    }
}

#[tokio::test]
async fn freebies_count_an_ipv6_client_by_its_64() {
    let h = harness(PaywallSettings::default());
    let from = |ip: &str| {
        let mut o = offer_from(ip);
        o.freebies_per_ip = 1;
        o
    };
    assert_eq!(
        call(&h, from("2001:db8::1"), get(None)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h, from("2001:db8::2"), get(None)).await.0,
        StatusCode::PAYMENT_REQUIRED,
        "the same /64 already had its freebie"
    );
    assert_eq!(
        call(&h, from("2001:db8:0:1::1"), get(None)).await.0,
        StatusCode::OK,
        "another /64 is another client"
    );
}

#[tokio::test]
async fn concurrent_requests_of_one_client_cannot_overshoot_the_cap() {
    let h = harness(PaywallSettings {
        max_unpaid_challenges_per_client: Some(2),
        ..PaywallSettings::default()
    });
    // Every invoice takes a while: all six requests are in flight before any is recorded.
    h.wallet
        .set_fault(DevFault::Slow(Duration::from_millis(50)));
    let one = || call(&h, offer_from("192.0.2.1"), get(None));
    let (a, b, c, d, e, f) = tokio::join!(one(), one(), one(), one(), one(), one());
    let statuses = [a.0, b.0, c.0, d.0, e.0, f.0];
    let minted = statuses
        .iter()
        .filter(|s| **s == StatusCode::PAYMENT_REQUIRED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((minted, refused), (2, 4), "{statuses:?}");
}

#[tokio::test]
async fn a_configured_manifest_link_rides_on_every_402_and_only_then() {
    let link = r#"</.well-known/l402.json>; rel="l402-manifest""#;
    let h = harness(PaywallSettings {
        manifest_link: Some(http::HeaderValue::from_static(link)),
        ..PaywallSettings::default()
    });
    let (status, headers, _) = call(&h, offer(), get(None)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(headers["link"], link);
    let (status, headers, _) = call(&h, offer(), grpc_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["link"], link,
        "the gRPC payment-required answer too"
    );

    let plain = harness(PaywallSettings::default());
    let (status, headers, _) = call(&plain, offer(), get(None)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert!(headers.get("link").is_none(), "no manifest: no Link");
}
