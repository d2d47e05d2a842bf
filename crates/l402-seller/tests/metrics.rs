//! The admin listener's `/metrics` through the whole seller: what a buyer does shows up in the
//! counters (outcome per route, status class, challenges, settlements and revenue, the
//! verified cache), with bounded labels.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use l402_lightning::dev::DevWalletClient;
use l402_seller::{Seller, SellerHandle, SellerOptions};
use l402_testkit::wallet::{Payer, get_with};

/// Samples of the exposition, keyed by the sample line's name and labels as written.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').expect("`name value`");
            (key.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(seller: &SellerHandle) -> (String, HashMap<String, f64>) {
    let admin = seller.admin_addr().expect("the admin listener is on");
    let response = l402_testkit::wait::http_client()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let parsed = samples(&text);
    (text, parsed)
}

fn value(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key} in {:?}", samples.keys()))
}

const WEATHER: &str = r#"service="weather",route="GET,HEAD /api/weather""#;

#[tokio::test(flavor = "multi_thread")]
async fn what_a_buyer_does_shows_in_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let options = SellerOptions::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .admin_listen("127.0.0.1:0".parse().unwrap())
        .data_dir(dir.path().join("data"));
    let seller = Seller::start(options).await.unwrap();
    let url = format!("http://{}/api/weather?city=Paris", seller.proxy_addr());

    let (_, before) = scrape(&seller).await;
    assert_eq!(
        value(
            &before,
            &format!("l402_requests_total{{{WEATHER},outcome=\"challenged\"}}")
        ),
        0.0
    );

    // One 402, paid; the token used twice (a full verification, then a cache hit).
    let wallet = DevWalletClient::from_data_dir(seller.data_dir()).unwrap();
    let paid = Payer::new(&wallet).buy(&url).await;
    for _ in 0..2 {
        assert_eq!(get_with(&url, &paid.token).await.status(), 200);
    }
    // A forged credential: refused, challenged again.
    let forged = l402_testkit::wait::http_client()
        .get(&url)
        .header("authorization", "L402 AGIAJEemVQUTEyNCR0exk7ek90Cg==:00")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 402);

    let deadline = Instant::now() + Duration::from_secs(10);
    let (text, after) = loop {
        let (text, after) = scrape(&seller).await;
        // The settlement arrives from the wallet's stream shortly after the payment.
        if value(&after, "l402_invoices_settled_total{service=\"weather\"}") >= 1.0
            || Instant::now() > deadline
        {
            break (text, after);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let key = |outcome: &str| format!("l402_requests_total{{{WEATHER},outcome=\"{outcome}\"}}");
    assert_eq!(value(&after, &key("challenged")), 2.0, "{text}");
    assert_eq!(value(&after, &key("paid")), 2.0, "{text}");
    assert_eq!(value(&after, &key("unavailable")), 0.0);
    let class = |c: &str| format!("l402_responses_total{{{WEATHER},class=\"{c}\"}}");
    assert_eq!(value(&after, &class("4xx")), 2.0);
    assert_eq!(value(&after, &class("2xx")), 2.0);
    assert_eq!(
        value(&after, "l402_challenges_total{service=\"weather\"}"),
        2.0
    );
    assert_eq!(
        value(&after, "l402_invoices_settled_total{service=\"weather\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&after, "l402_revenue_msat_total{service=\"weather\"}"),
        paid.plan.amount.0 as f64
    );
    assert_eq!(value(&after, "l402_verified_cache_misses_total"), 1.0);
    assert_eq!(value(&after, "l402_verified_cache_hits_total"), 1.0);
    assert_eq!(value(&after, "l402_verify_failures_total"), 1.0);
    assert_eq!(
        value(
            &after,
            "l402_request_duration_seconds_count{service=\"weather\"}"
        ),
        4.0
    );
    assert_eq!(value(&after, "l402_paywall_decision_seconds_count"), 4.0);
    assert!(
        value(
            &after,
            "l402_backend_request_duration_seconds_count{operation=\"create_invoice\"}"
        ) >= 2.0
    );
    assert_eq!(value(&after, "l402_backend_up{backend=\"dev\"}"), 1.0);
    // No request-derived label: no token id, payment hash, query or client address.
    let hash = paid.plan.payment_hash.to_string();
    assert!(!text.contains(&hash));
    assert!(!text.contains("Paris"));
    assert!(!text.contains("127.0.0.1"));
    // The metrics reach the paywall, whose challenge observer holds the recorder's queue: no
    // reference cycle may keep that queue open, or shutdown waits out the recorder's 5 s flush
    // limit.
    let stopping = Instant::now();
    seller.shutdown().await.unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        stopping.elapsed()
    );
}
