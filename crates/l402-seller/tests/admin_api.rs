//! The admin API through the whole seller: macaroons written at start, refused without one,
//! read-only versus full, listings and stats after a real purchase, revoke and restore taking
//! effect at once, key rotation; driven through the library's `AdminClient`.

use std::time::{Duration, Instant};

use l402_admin_client::{
    AdminClient, AdminClientError, FULL_MACAROON_FILE, Method, READ_ONLY_MACAROON_FILE,
};
use l402_lightning::dev::DevWalletClient;
use l402_seller::{Seller, SellerHandle, SellerOptions};
use l402_testkit::wallet::{Payer, get_with};
use serde_json::json;

async fn start(dir: &std::path::Path) -> SellerHandle {
    let options = SellerOptions::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .admin_listen("127.0.0.1:0".parse().unwrap())
        .data_dir(dir.join("data"));
    Seller::start(options).await.unwrap()
}

fn client(seller: &SellerHandle, file: &str) -> AdminClient {
    let base = format!("http://{}", seller.admin_addr().unwrap());
    AdminClient::new(&base, &seller.data_dir().join(file)).unwrap()
}

fn api_code(e: AdminClientError) -> (u16, String) {
    match e {
        AdminClientError::Api { status, code, .. } => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_sees_sales_and_revokes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let seller = start(dir.path()).await;
    let admin = client(&seller, FULL_MACAROON_FILE);
    let reader = client(&seller, READ_ONLY_MACAROON_FILE);
    let base = format!("http://{}", seller.admin_addr().unwrap());

    // No macaroon, a forged one: 401 with a Bearer challenge; the OpenAPI document is public.
    let raw = l402_testkit::wait::http_client();
    let refused = raw
        .get(format!("{base}/api/v1/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer realm=\"l402-admin\""
    );
    let forged = AdminClient::with_macaroon(&base, &"00".repeat(60)).unwrap();
    assert_eq!(
        api_code(
            forged
                .call(Method::Get, "/api/v1/status", None)
                .await
                .unwrap_err()
        ),
        (401, "unauthorized".into())
    );
    let doc = raw
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(doc.status(), 200);
    let doc: serde_json::Value = doc.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let status = reader
        .call(Method::Get, "/api/v1/status", None)
        .await
        .unwrap();
    assert_eq!(status["role"], "read");
    assert_eq!(status["backend"]["ok"], true);
    assert_eq!(status["store"]["ok"], true);
    let services = reader
        .call(Method::Get, "/api/v1/services", None)
        .await
        .unwrap();
    let weather = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "weather")
        .expect("the sample's weather service");
    assert_eq!(weather["price_sat"], 2);

    // A real purchase, then the listings and the stats show it.
    let url = format!("http://{}/api/weather?city=Paris", seller.proxy_addr());
    let wallet = DevWalletClient::from_data_dir(seller.data_dir()).unwrap();
    let paid = Payer::new(&wallet).buy(&url).await;
    assert_eq!(get_with(&url, &paid.token).await.status(), 200);
    let hash = paid.plan.payment_hash.to_hex();
    let deadline = Instant::now() + Duration::from_secs(10);
    let invoices = loop {
        let page = reader
            .call(
                Method::Get,
                "/api/v1/invoices?state=paid&service=weather",
                None,
            )
            .await
            .unwrap();
        if !page["invoices"].as_array().unwrap().is_empty() || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let row = &invoices["invoices"][0];
    assert_eq!(row["payment_hash"], hash.as_str());
    assert_eq!(row["state"], "paid");
    assert_eq!(row["amount_msat"], paid.plan.amount.0);
    let token_id = row["token_id"].as_str().unwrap().to_owned();
    let stats = reader
        .call(Method::Get, "/api/v1/stats?days=1", None)
        .await
        .unwrap();
    assert_eq!(
        stats["revenue_by_service"]["weather"],
        json!({"settled": 1, "revenue_msat": paid.plan.amount.0})
    );
    let requests = stats["requests_since_start"].as_array().unwrap();
    let weather_route = requests
        .iter()
        .find(|r| r["route"] == "GET,HEAD /api/weather")
        .unwrap();
    assert_eq!(weather_route["outcomes"]["paid"], 1);
    assert_eq!(weather_route["outcomes"]["challenged"], 1);

    // Bad input: a precise 400.
    assert_eq!(
        api_code(
            reader
                .call(Method::Get, "/api/v1/invoices?state=maybe", None)
                .await
                .unwrap_err()
        ),
        (400, "bad_request".into())
    );
    assert_eq!(
        api_code(
            admin
                .call(Method::Post, "/api/v1/tokens/xyz/revoke", None)
                .await
                .unwrap_err()
        ),
        (400, "bad_request".into())
    );

    // Revoke: the read-only macaroon may not; the full one may, and it applies at once.
    let revoke = format!("/api/v1/tokens/{token_id}/revoke");
    assert_eq!(
        api_code(reader.call(Method::Post, &revoke, None).await.unwrap_err()),
        (403, "read_only".into())
    );
    let done = admin
        .call(
            Method::Post,
            &revoke,
            Some(&json!({"reason": "chargeback"})),
        )
        .await
        .unwrap();
    assert_eq!(done["changed"], true);
    assert_eq!(get_with(&url, &paid.token).await.status(), 402);
    let listed = reader
        .call(Method::Get, "/api/v1/revocations", None)
        .await
        .unwrap();
    assert_eq!(listed["revocations"][0]["token_id"], token_id.as_str());
    assert_eq!(listed["revocations"][0]["reason"], "chargeback");
    admin.call(Method::Delete, &revoke, None).await.unwrap();
    assert_eq!(get_with(&url, &paid.token).await.status(), 200);

    // Key rotation: a second epoch; the token bought under the first keeps working.
    let rotated = admin
        .call(Method::Post, "/api/v1/keys/rotate", None)
        .await
        .unwrap();
    assert_eq!(rotated["current_epoch"], 2);
    let keys = reader
        .call(Method::Get, "/api/v1/keys", None)
        .await
        .unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    assert!(
        !keys.to_string().contains("\"key\""),
        "no key material: {keys}"
    );
    assert_eq!(get_with(&url, &paid.token).await.status(), 200);

    seller.shutdown().await.unwrap();
}
