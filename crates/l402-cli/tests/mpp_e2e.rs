//! The `Payment` scheme (MPP, Lightning charge) end to end: `l402 serve` selling one service
//! with `protocols = ["mpp"]` and one with both, paid by `l402 fetch` on the dev wallet; a
//! replayed credential refused with its problem type; budgets and receipts counting charges.

mod common;

use std::path::Path;

use common::*;
use l402_lightning::LightningBackend;
use l402_lightning::dev::DevWalletClient;
use l402_testkit::sample::sample_upstream;

fn fetch_json(data: &Path, url: &str, env: &[(&str, &str)]) -> serde_json::Value {
    let out = run(data, &["fetch", "--json", url], env);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_pays_payment_charges_and_l402_by_preference() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = sample_upstream(dir.path(), |sample| {
        format!(
            "mpp_realm = \"e2e.test\"\n\n\
             [[services]]\nname = \"weather\"\npath_prefix = \"/api/weather\"\n\
             upstream = \"http://{sample}\"\nprice_sat = 2\nprotocols = [\"mpp\"]\n\n\
             [[services]]\nname = \"landing\"\npath_prefix = \"/\"\n\
             upstream = \"http://{sample}\"\nprice_sat = 3\ntoken_lifetime_secs = 3600\n\
             protocols = [\"l402\", \"mpp\"]\n"
        )
    })
    .await;
    let config = upstream.config.display().to_string();
    let (serve, base) = serve(dir.path(), &["--config", &config]).await;
    let data = dir.path().join("data");
    let weather = format!("{base}/api/weather?city=Paris");

    // 1. The MPP-only service: one 402 with one Payment challenge, problem+json.
    let first = http_client().get(&weather).send().await.unwrap();
    assert_eq!(first.status(), 402, "log:\n{}", serve.log());
    assert_eq!(first.headers()["content-type"], "application/problem+json");
    let values: Vec<String> = first
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(values.len(), 1, "{values:?}");
    let challenge = l402_mpp::Challenge::parse_list(&values[0])
        .unwrap()
        .remove(0);
    assert_eq!(challenge.realm, "e2e.test");
    let problem: serde_json::Value = first.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "https://paymentauth.org/problems/payment-required"
    );

    // A dry run shows the price and pays nothing.
    let out = run(&data, &["fetch", "--dry-run", "--json", &weather], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dry: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(dry["payment_required"], true, "{dry}");
    assert_eq!(dry["price_sat"], 2, "{dry}");

    // 2. `l402 fetch` pays it (default preference: L402 when offered, else Payment), each
    //    request anew: a charge buys one request.
    for city in ["Paris", "Oslo"] {
        let json = fetch_json(&data, &format!("{base}/api/weather?city={city}"), &[]);
        assert_eq!(json["status"], 200, "{json}");
        assert!(json["body"].as_str().unwrap().contains(city), "{json}");
        assert_eq!(json["paid"]["scheme"], "mpp", "{json}");
        assert_eq!(json["paid"]["amount_sat"], 2, "{json}");
        assert_eq!(
            json["payment_receipt"]["reference"], json["paid"]["payment_hash"],
            "{json}"
        );
        assert_eq!(json["payment_receipt"]["status"], "success");
        assert_eq!(json["reused_token"], false);
    }
    let paid = receipts(&data);
    assert_eq!(paid.len(), 2, "{paid:?}");
    let total: u64 = paid
        .iter()
        .map(|r| r["amount_msat"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 4_000, "{paid:?}");
    let out = run(&data, &["tokens", "list", "--json"], &[]);
    let tokens: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        tokens.as_array().unwrap().len(),
        0,
        "a charge keeps no token"
    );

    // 3. The budget counts charges: 4 sat spent, a 5 sat daily budget refuses the next 2.
    let out = run(
        &data,
        &["fetch", &weather],
        &[("L402_DAILY_BUDGET_SAT", "5")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(receipts(&data).len(), 2, "nothing paid over budget");

    // 4. A service selling both: L402 by default (then the token is reused), Payment when
    //    preferred, and never Payment when not allowed.
    let landing = format!("{base}/");
    let json = fetch_json(&data, &landing, &[]);
    assert_eq!(json["paid"]["scheme"], "l402", "{json}");
    let json = fetch_json(&data, &landing, &[]);
    assert_eq!(json["reused_token"], true, "{json}");
    let prefer = dir.path().join("prefer-mpp");
    std::fs::create_dir_all(&prefer).unwrap();
    let client_config = prefer.join("client.toml");
    std::fs::write(
        &client_config,
        format!(
            "data_dir = \"{}\"\n[payment]\nprefer = [\"mpp\", \"l402\"]\n",
            data.display()
        ),
    )
    .unwrap();
    // `/api/similarity` is the "landing" service too (path prefix `/`), in another token
    // scope: no token held, so the preference decides.
    let out = l402()
        .command([
            "fetch",
            "--json",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"a":[1,2],"b":[2,4]}"#,
            &format!("{base}/api/similarity"),
        ])
        .env("L402_CLIENT_CONFIG", &client_config)
        .env_remove("L402_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["paid"]["scheme"], "mpp", "{json}");
    assert_eq!(json["paid"]["amount_sat"], 3, "{json}");
    assert!(json["body"].as_str().unwrap().contains("cosine"), "{json}");
    std::fs::write(
        &client_config,
        format!(
            "data_dir = \"{}\"\n[payment]\nprefer = [\"l402\"]\n",
            data.display()
        ),
    )
    .unwrap();
    let out = l402()
        .command(["fetch", &weather])
        .env("L402_CLIENT_CONFIG", &client_config)
        .env_remove("L402_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "paid a Payment challenge it was told not to"
    );
    assert_eq!(receipts(&data).len(), 4, "{:?}", receipts(&data));

    // 5. A credential is single-use: paid and presented by hand, then replayed.
    let wallet = DevWalletClient::from_data_dir(&data).unwrap();
    let first = http_client().get(&weather).send().await.unwrap();
    let header = first.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let challenge = l402_mpp::Challenge::parse_list(&header).unwrap().remove(0);
    let request: l402_mpp::ChargeRequest = challenge.decode_request().unwrap();
    let paid = wallet
        .pay_invoice(
            &request.method_details.invoice,
            l402_lightning::PayOptions {
                max_fee: l402_lightning::Msat(0),
                timeout: std::time::Duration::from_secs(10),
            },
        )
        .await
        .unwrap();
    let mut payload = serde_json::Map::new();
    payload.insert("preimage".into(), paid.preimage.to_hex().into());
    let credential = l402_mpp::Credential {
        challenge,
        source: None,
        payload,
    }
    .to_authorization();
    let ok = http_client()
        .get(&weather)
        .header("authorization", &credential)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "log:\n{}", serve.log());
    assert!(ok.headers().contains_key("payment-receipt"));
    let replay = http_client()
        .get(&weather)
        .header("authorization", &credential)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 402);
    let problem: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(
        problem["type"], "https://paymentauth.org/problems/invalid-challenge",
        "{problem}"
    );
}
