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

    // A metered balance (an L402 token of the per-token completion) is listed with its ledger.
    let complete = format!("http://{}/api/complete", seller.proxy_addr());
    let http = l402_testkit::wait::http_client();
    let ask = || {
        http.post(&complete)
            .json(&json!({"prompt": "admin", "stream": false}))
    };
    let unpaid = ask().send().await.unwrap();
    let values: Vec<String> = unpaid
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let challenge =
        l402_core::challenge::parse_first_challenge(values.iter().map(String::as_str)).unwrap();
    let preimage = l402_lightning::LightningBackend::pay_invoice(
        &wallet,
        &challenge.invoice,
        l402_lightning::PayOptions {
            max_fee: l402_core::Msat(0),
            timeout: Duration::from_secs(10),
        },
    )
    .await
    .unwrap()
    .preimage;
    let proof = l402_core::credential::single_authorization_value(
        l402_core::challenge::Scheme::L402,
        &challenge.macaroon,
        &preimage,
    );
    let served = ask().header("authorization", proof).send().await.unwrap();
    assert_eq!(served.status(), 200);
    let used: u64 = served.headers()["l402-usage"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let sid = preimage.payment_hash().to_hex();
    let deadline = Instant::now() + Duration::from_secs(10);
    let one = loop {
        let one = reader
            .call(Method::Get, &format!("/api/v1/sessions/{sid}"), None)
            .await
            .unwrap();
        if one["ledger"].as_array().unwrap().len() == 3 || Instant::now() > deadline {
            break one;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(one["state"], "open", "{one}");
    assert_eq!(one["service"], "complete", "{one}");
    assert_eq!(one["deposit_msat"], 200_000, "{one}");
    assert_eq!(one["balance_msat"], 200_000 - used * 1000, "{one}");
    let ops: Vec<&str> = one["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["open", "reserve", "settle"], "{one}");
    let listed = reader
        .call(Method::Get, "/api/v1/sessions?state=open", None)
        .await
        .unwrap();
    assert_eq!(
        listed["sessions"][0]["session_id"],
        sid.as_str(),
        "{listed}"
    );
    let closed = reader
        .call(Method::Get, "/api/v1/sessions?state=closed", None)
        .await
        .unwrap();
    assert_eq!(closed["sessions"].as_array().unwrap().len(), 0);
    for bad in ["/api/v1/sessions?state=maybe", "/api/v1/sessions/xyz"] {
        assert_eq!(
            api_code(reader.call(Method::Get, bad, None).await.unwrap_err()).0,
            400,
            "{bad}"
        );
    }
    let missing = format!("/api/v1/sessions/{}", "ab".repeat(32));
    assert_eq!(
        api_code(reader.call(Method::Get, &missing, None).await.unwrap_err()),
        (404, "not_found".into())
    );

    seller.shutdown().await.unwrap();
}
