//! A token opens only what was paid for: on a service with cheap, dear, capability-guarded and
//! free routes, every (route bought) × (route tried) pair through `Seller::start` with the dev
//! wallet, against the exact allow/deny table; whoever pays on a route gets in on it.

use l402_lightning::dev::DevWalletClient;
use l402_seller::{Seller, SellerOptions};
use l402_testkit::sample::sample_upstream;
use l402_testkit::wallet::{Payer, get_with};

/// The routes tried, with their paths and prices in sat (`None`: free).
const ROUTES: [(&str, &str, Option<u64>); 5] = [
    ("cheap", "/api/cheap", Some(2)),
    ("base", "/api/weather?city=Oslo", Some(5)),
    ("admin", "/api/admin", Some(5)),
    ("dear", "/api/dear", Some(10)),
    ("free", "/api/free", None),
];

/// Bought on the row's route, tried on each column's (in [`ROUTES`] order): `Ok(())` gets in,
/// `Err(reason)` is a 402 with that reason and a challenge for the tried route.
const EXPECTED: [(&str, [Result<(), &str>; 5]); 4] = [
    (
        "cheap",
        [
            Ok(()),
            Err("price_not_covered"),
            Err("missing_capability"),
            Err("price_not_covered"),
            Ok(()),
        ],
    ),
    (
        "base",
        [
            Ok(()),
            Ok(()),
            Err("missing_capability"),
            Err("price_not_covered"),
            Ok(()),
        ],
    ),
    (
        "admin",
        [Ok(()), Ok(()), Ok(()), Err("price_not_covered"), Ok(())],
    ),
    (
        "dear",
        [Ok(()), Ok(()), Err("missing_capability"), Ok(()), Ok(())],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn each_token_opens_exactly_the_routes_its_price_and_capabilities_cover() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            r#"
data_dir = "state"

[listen]
addr = "127.0.0.1:0"

[[services]]
name = "api"
path_prefix = "/api"
upstream = "http://{sample}"
price_sat = 5
capabilities = ["read"]
token_lifetime_secs = 3600

[[services.routes]]
path = "/api/cheap"
price_sat = 2

[[services.routes]]
path = "/api/dear"
price_sat = 10

[[services.routes]]
path = "/api/admin"
capabilities_required = ["admin"]

[[services.routes]]
path = "/api/free"
free = true
"#
        )
    })
    .await;
    let seller = Seller::start(SellerOptions::new().config_file(&upstream.config))
        .await
        .unwrap();
    let base = format!("http://{}", seller.proxy_addr());
    let wallet = DevWalletClient::from_data_dir(seller.data_dir()).unwrap();
    let payer = Payer::new(&wallet);

    let mut table = String::from("bought \\ tried");
    for (name, _, _) in ROUTES {
        table.push_str(&format!(" | {name}"));
    }
    let mut mismatches = Vec::new();
    for (bought, expected) in EXPECTED {
        let (_, path, price) = ROUTES.iter().find(|r| r.0 == bought).unwrap();
        let paid = payer.buy(&format!("{base}{path}")).await;
        assert_eq!(
            paid.plan.amount.0,
            price.unwrap() * 1000,
            "{bought}'s price"
        );
        table.push_str(&format!("\n{bought}"));
        for ((tried, path, price), want) in ROUTES.iter().zip(expected) {
            let response = get_with(&format!("{base}{path}"), &paid.token).await;
            let status = response.status().as_u16();
            assert!(status < 500, "{bought} → {tried}: {status}");
            let got = if status == 402 {
                let body: serde_json::Value = response.json().await.unwrap();
                // A refusal is a challenge for the tried route: the buyer can buy the upgrade.
                assert_eq!(body["price_sat"].as_u64(), *price, "{bought} → {tried}");
                Err(body["reason"].as_str().unwrap_or("?").to_owned())
            } else {
                Ok(())
            };
            table.push_str(match &got {
                Ok(()) => " | allow",
                Err(_) => " | deny",
            });
            if got != want.map_err(str::to_owned) {
                mismatches.push(format!("{bought} → {tried}: got {got:?}, want {want:?}"));
            }
        }
    }
    println!("{table}");
    assert!(mismatches.is_empty(), "{}\n{table}", mismatches.join("\n"));
    seller.shutdown().await.unwrap();
}
