//! What the seller publishes, free and before routing: the manifest, the OpenAPI document
//! (validated against the repository's JSON Schemas), quotes, and the `Link` header on 402s.

use std::path::{Path, PathBuf};

use l402_seller::{Seller, SellerHandle, SellerOptions};
use l402_testkit::sample::sample_upstream;
use serde_json::{Value, json};

fn schema(name: &str) -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name} is not a schema: {e}"))
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema: {errors:#?}"
    );
}

async fn zero_config(dir: &Path) -> SellerHandle {
    Seller::start(
        SellerOptions::new()
            .listen("127.0.0.1:0".parse().unwrap())
            .data_dir(dir),
    )
    .await
    .unwrap()
}

fn url(seller: &SellerHandle, path: &str) -> String {
    format!("http://{}{path}", seller.proxy_addr())
}

/// The JSON document `seller` serves at `path`.
async fn get_json(seller: &SellerHandle, path: &str) -> Value {
    reqwest::get(url(seller, path))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_manifest_is_free_cacheable_and_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let seller = zero_config(dir.path()).await;
    let http = reqwest::Client::new();
    let response = http
        .get(url(&seller, "/.well-known/l402.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let etag = response.headers()["etag"].clone();
    let manifest: Value = response.json().await.unwrap();
    assert_valid(
        &schema("l402-manifest.schema.json"),
        &manifest,
        "the manifest",
    );
    let similarity = manifest["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "similarity")
        .unwrap();
    assert_eq!(similarity["resources"][0]["pricing"]["price_msat"], 5000);
    assert_eq!(similarity["resources"][0]["method"], "POST");
    assert_eq!(manifest["quote_endpoint"], "/l402/quote");
    assert!(
        manifest["provider"]["node_pubkey"]
            .as_str()
            .is_some_and(|k| k.len() == 66)
    );

    let again = http
        .get(url(&seller, "/.well-known/l402.json"))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag);
    let post = http
        .post(url(&seller, "/.well-known/l402.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    seller.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_openapi_document_is_the_samples_own_priced_and_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let seller = zero_config(dir.path()).await;
    let response = reqwest::get(url(&seller, "/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let doc: Value = response.json().await.unwrap();
    assert_valid(
        &schema("openapi-payment.schema.json"),
        &doc,
        "/openapi.json",
    );
    let sample: Value = serde_json::from_str(l402_sample::OPENAPI_JSON).unwrap();
    assert_eq!(
        doc["info"]["title"], sample["info"]["title"],
        "merged into the sample's document"
    );
    // The sample sells L402 only: priced, with a 402, and no MPP offer an MPP-only agent
    // could not pay.
    let post = &doc["paths"]["/api/similarity"]["post"];
    assert_eq!(post["x-l402-price-msat"], 5_000);
    assert_eq!(post["x-l402-service"], "similarity");
    assert!(post["responses"]["402"].is_object());
    assert!(post.get("x-payment-info").is_none(), "{post}");
    assert_eq!(
        doc["paths"]["/api/weather"]["get"]["x-l402-price-msat"],
        2_000
    );
    // Free operations are not priced.
    assert!(
        doc["paths"]["/openapi.json"]["get"]
            .get("x-payment-info")
            .is_none()
    );
    seller.shutdown().await.unwrap();
}

#[test]
fn the_schemas_refuse_broken_documents() {
    let manifest = schema("l402-manifest.schema.json");
    let bad = json!({"version": "1.0", "provider": {"name": "x"}, "currencies": ["msat"],
        "macaroon_versions": [0], "payment_methods": ["bolt11"],
        "services": [{"name": "s", "tiers": [{"tier": 0, "name": "t"}], "capabilities": [],
            "resources": [{"path": "/a", "method": "GET", "pricing": {"model": "fixed", "price_msat": "5"}}]}]});
    assert!(!manifest.is_valid(&bad));
    let openapi = schema("openapi-payment.schema.json");
    let no_402 = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}},
            "x-payment-info": {"offers": [{"intent": "charge", "method": "lightning", "amount": "5"}]}}}}});
    assert!(!openapi.is_valid(&no_402));
    let leading_zero = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"402": {"description": "pay"}},
            "x-payment-info": {"intent": "charge", "method": "lightning", "amount": "05"}}}}});
    assert!(!openapi.is_valid(&leading_zero));
}

async fn quote(seller: &SellerHandle, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url(seller, "/l402/quote"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn quotes_price_routes_and_refuse_with_the_proposals_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let seller = zero_config(dir.path()).await;
    let (status, q) = quote(
        &seller,
        json!({"path": "/api/similarity", "method": "POST", "capabilities": ["compute"],
            "token_lifetime_secs": 600, "max_price_msat": 10000}),
    )
    .await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(
        (q["service"].as_str(), q["price_msat"].as_u64()),
        (Some("similarity"), Some(5000))
    );
    assert_eq!(q["token_lifetime_secs"], 3600);

    let (status, e) = quote(
        &seller,
        json!({"service": "similarity", "path": "/api/similarity", "method": "POST", "max_price_msat": 1000}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(e["error"]["code"], "unsatisfiable_budget");
    assert_eq!(e["error"]["field"], "max_price_msat");

    let (status, e) = quote(&seller, json!({"service": "nope"})).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["code"], "unknown_service");

    let response = reqwest::Client::new()
        .post(url(&seller, "/l402/quote"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let e: Value = response.json().await.unwrap();
    assert_eq!(e["error"]["code"], "bad_request");

    let big = "x".repeat(20 * 1024);
    let response = reqwest::Client::new()
        .post(url(&seller, "/l402/quote"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    let response = reqwest::get(url(&seller, "/l402/quote")).await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    seller.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_402_links_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let seller = zero_config(dir.path()).await;
    let response = reqwest::get(url(&seller, "/api/weather?city=Paris"))
        .await
        .unwrap();
    assert_eq!(response.status(), 402);
    let link = response.headers()["link"].to_str().unwrap();
    assert_eq!(
        l402_discovery::manifest_link_target(link),
        Some("/.well-known/l402.json")
    );
    seller.shutdown().await.unwrap();
}

#[tokio::test]
async fn discovery_can_be_turned_off_and_then_routes_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            "data_dir = \"state\"\n[listen]\naddr = \"127.0.0.1:0\"\n[backend]\nkind = \"dev\"\n\
             [discovery]\nenabled = false\n\
             [[services]]\nname = \"all\"\npath_prefix = \"/\"\nupstream = \"http://{sample}\"\n\
             price_sat = 3\n"
        )
    })
    .await;
    let seller = Seller::start(SellerOptions::new().config_file(&upstream.config))
        .await
        .unwrap();
    // The upstream's path, paywalled like any other: no manifest, no Link.
    let response = reqwest::get(url(&seller, "/.well-known/l402.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 402);
    assert!(response.headers().get("link").is_none());
    seller.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_configured_upstream_document_is_merged_and_unlisted_priced_routes_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("upstream-openapi.json");
    std::fs::write(
        &doc,
        serde_json::to_string(&json!({
            "openapi": "3.0.3",
            "info": {"title": "Shop", "version": "2"},
            "servers": [{"url": "https://shop.example/v1"}],
            "paths": {"/items/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "an item"}}}}}
        }))
        .unwrap(),
    )
    .unwrap();
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            "data_dir = \"state\"\n[listen]\naddr = \"127.0.0.1:0\"\n[backend]\nkind = \"dev\"\n\
             [[services]]\nname = \"shop\"\npath_prefix = \"/shop\"\nstrip_path_prefix = true\n\
             upstream = \"http://{sample}/v1\"\nprice_sat = 7\nopenapi = \"upstream-openapi.json\"\n\
             protocols = [\"l402\", \"mpp\"]\n\
             [[services.routes]]\nmethods = [\"POST\"]\npath = \"/shop/orders\"\nprice_sat = 21\n"
        )
    })
    .await;
    let seller = Seller::start(SellerOptions::new().config_file(&upstream.config))
        .await
        .unwrap();
    let doc: Value = get_json(&seller, "/openapi.json").await;
    assert_valid(
        &schema("openapi-payment.schema.json"),
        &doc,
        "/openapi.json",
    );
    assert_eq!(doc["info"]["title"], "Shop");
    assert_eq!(
        doc["paths"]["/shop/items/{id}"]["get"]["x-payment-info"]["offers"][0]["amount"],
        "7"
    );
    assert_eq!(
        doc["paths"]["/shop/orders"]["post"]["x-payment-info"],
        json!({"offers": [{"intent": "charge", "method": "lightning", "amount": "21",
            "currency": "sat", "description": "one Lightning charge for service shop"}]})
    );
    seller.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_mcp_service_lists_each_priced_tool_and_still_matches_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("l402.toml");
    std::fs::write(
        &config,
        "data_dir = \"state\"\n[listen]\naddr = \"127.0.0.1:0\"\n[backend]\nkind = \"dev\"\n\
         [[services]]\nname = \"tools\"\npath_prefix = \"/mcp\"\nupstream = \"http://127.0.0.1:9\"\n\
         mcp = true\nprice_sat = 0\n\
         [[services.tools]]\nname = \"search\"\nprice_sat = 10\n\
         [[services.tools]]\nname = \"summarize\"\nprice_sat = 2\n",
    )
    .unwrap();
    let seller = Seller::start(SellerOptions::new().config_file(&config))
        .await
        .unwrap();
    let manifest: Value = get_json(&seller, "/.well-known/l402.json").await;
    assert_valid(
        &schema("l402-manifest.schema.json"),
        &manifest,
        "/.well-known/l402.json",
    );
    let resources = &manifest["services"][0]["resources"];
    let tools: Vec<(Value, Value, Value)> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].clone(),
                r["mcp_tool"].clone(),
                r["pricing"]["price_msat"].clone(),
            )
        })
        .collect();
    assert_eq!(
        tools,
        [
            (json!("POST"), json!("search"), json!(10_000)),
            (json!("POST"), json!("summarize"), json!(2_000)),
            (json!("*"), Value::Null, json!(0)),
        ],
        "{resources}"
    );
}
