//! Flood control through the whole seller: rate limits per client (IPv6 by /64) and per route,
//! answered 429 with `Retry-After`, and the client as the proxy trusts it (`X-Forwarded-For`
//! believed only from `[listen] trusted_proxies`).

use std::path::Path;

use l402_seller::{Seller, SellerHandle, SellerOptions};
use l402_testkit::sample::{SampleUpstream, sample_upstream};

/// A seller of the sample API whose `[listen]` section ends with `listen_extra`: the service's
/// requests limited to a burst of 3 per client (refilling once an hour, so the test never
/// races the clock), the `/api/weather/strict` route to a burst of 1, and no unpaid-challenge
/// cap (to see the rate limits alone).
async fn seller(dir: &Path, listen_extra: &str) -> (SampleUpstream, SellerHandle) {
    let listen_extra = listen_extra.to_owned();
    let upstream = sample_upstream(dir, move |sample| {
        format!(
            r#"
[listen]
addr = "127.0.0.1:0"
{listen_extra}

[clients]
max_unpaid_challenges = 0
rate_limit = {{ requests = 1, per = "1h", burst = 3 }}

[[services]]
name = "weather"
path_prefix = "/api/weather"
upstream = "http://{sample}"
price_sat = 1

[[services.routes]]
path = "/api/weather/strict"
rate_limit = {{ requests = 1, per = "1h", burst = 1 }}
"#
        )
    })
    .await;
    let options = SellerOptions::new()
        .config_file(&upstream.config)
        .data_dir(dir.join("data"));
    let seller = Seller::start(options).await.unwrap();
    (upstream, seller)
}

/// The status of `GET path` sent with `X-Forwarded-For: xff` (if any), and its `Retry-After`.
async fn get(seller: &SellerHandle, path: &str, xff: Option<&str>) -> (u16, Option<u64>) {
    let mut request =
        l402_testkit::wait::http_client().get(format!("http://{}{path}", seller.proxy_addr()));
    if let Some(xff) = xff {
        request = request.header("x-forwarded-for", xff);
    }
    let response = request.send().await.unwrap();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status().as_u16(), retry)
}

const WEATHER: &str = "/api/weather?city=Paris";

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let (_upstream, seller) = seller(dir.path(), "trusted_proxies = [\"127.0.0.0/8\"]").await;

    // One client: its burst of 3, then 429 with Retry-After.
    for _ in 0..3 {
        assert_eq!(get(&seller, WEATHER, Some("198.51.100.1")).await.0, 402);
    }
    let (status, retry) = get(&seller, WEATHER, Some("198.51.100.1")).await;
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|s| (1..=3600).contains(&s)), "{retry:?}");
    // A client cannot pick a new identity by writing one to the left: the right-most
    // untrusted address is the client.
    assert_eq!(
        get(&seller, WEATHER, Some("203.0.113.5, 198.51.100.1"))
            .await
            .0,
        429
    );
    // Other clients are not affected.
    assert_eq!(get(&seller, WEATHER, Some("198.51.100.2")).await.0, 402);

    // IPv6: one /64 shares a bucket; the next /64 is another client.
    for _ in 0..3 {
        assert_eq!(get(&seller, WEATHER, Some("2001:db8::1")).await.0, 402);
    }
    assert_eq!(get(&seller, WEATHER, Some("2001:db8::ffff:2")).await.0, 429);
    assert_eq!(get(&seller, WEATHER, Some("2001:db8:0:1::1")).await.0, 402);

    // A route with its own limit has its own bucket: one request, then 429, while the rest of
    // the service still has the client's burst.
    assert_eq!(
        get(&seller, "/api/weather/strict", Some("198.51.100.3"))
            .await
            .0,
        402
    );
    assert_eq!(
        get(&seller, "/api/weather/strict", Some("198.51.100.3"))
            .await
            .0,
        429
    );
    assert_eq!(get(&seller, WEATHER, Some("198.51.100.3")).await.0, 402);

    seller.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (_upstream, seller) = seller(dir.path(), "").await;
    // Every request comes from 127.0.0.1, whatever it claims: one bucket.
    for n in 0..3 {
        let claimed = format!("198.51.100.{n}");
        assert_eq!(get(&seller, WEATHER, Some(&claimed)).await.0, 402);
    }
    assert_eq!(get(&seller, WEATHER, Some("198.51.100.99")).await.0, 429);
    assert_eq!(get(&seller, WEATHER, None).await.0, 429);
    seller.shutdown().await.unwrap();
}
