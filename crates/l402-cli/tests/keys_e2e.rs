//! `l402 keys list|rotate|retire` against a running `l402 serve` (the real binary on loopback,
//! paid through the dev wallet): a rotation reaches the running proxy without a restart (new
//! tokens carry the new epoch, old tokens keep working), a retired epoch's tokens are refused
//! within the refresh interval even after they were verified (and cached), and the current
//! epoch cannot be retired.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use l402_core::challenge::parse_first_challenge;
use l402_core::client::PaidToken;
use l402_core::identifier::Identifier;
use l402_core::keys::token_epoch;
use l402_core::macaroon::Macaroon;
use l402_lightning::dev::DevWalletClient;

/// How long the proxy may take to follow the store (its refresh runs every 2 s).
const PICKUP: Duration = Duration::from_secs(10);

/// The key epoch a macaroon (binary) was minted under.
fn epoch_of(macaroon: &[u8]) -> u32 {
    let mac = Macaroon::decode_v2(macaroon).unwrap();
    token_epoch(&Identifier::decode(mac.identifier()).unwrap().token_id)
}

fn token_epoch_of(token: &PaidToken) -> u32 {
    epoch_of(&token.macaroon)
}

/// The epoch of the token a fresh (unpaid) challenge for `url` sells.
async fn challenged_epoch(url: &str) -> u32 {
    let r = http_client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 402);
    let values = Challenge::of_response(&r).www_authenticate;
    let challenge = parse_first_challenge(values.iter().map(String::as_str)).unwrap();
    epoch_of(&challenge.macaroon)
}

/// `l402 keys <args> --data-dir <data>`.
fn keys(data: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = l402().command(["keys"]);
    cmd.args(args).arg("--data-dir").arg(data);
    cmd.output().unwrap()
}

fn listed(data: &Path) -> Vec<serde_json::Value> {
    let out = keys(data, &["list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_and_retire_reach_a_running_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let (_proc, base) = serve(dir.path(), &[]).await;
    let data = dir.path().join("data");
    let wallet = DevWalletClient::from_data_dir(&data).unwrap();
    let url = format!("{base}/api/weather?city=Lima");

    let old = Payer::new(&wallet).buy(&url).await.token;
    assert_eq!(token_epoch_of(&old), 1);
    assert_eq!(get_with(&url, &old).await.status(), 200);
    let before = listed(&data);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["epoch"], 1);
    assert_eq!(before[0]["current"], true);
    assert_eq!(before[0]["retired"], false);

    // Rotate while the proxy runs: new challenges sell epoch-2 tokens, the old one still works.
    let out = keys(&data, &["rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("epoch 2"), "{}", stdout(&out));
    let started = Instant::now();
    while challenged_epoch(&url).await != 2 {
        assert!(started.elapsed() < PICKUP, "rotation not picked up");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let new = Payer::new(&wallet).buy(&url).await.token;
    assert_eq!(token_epoch_of(&new), 2);
    assert_eq!(get_with(&url, &new).await.status(), 200);
    assert_eq!(
        get_with(&url, &old).await.status(),
        200,
        "old epochs keep verifying"
    );

    // The current epoch cannot be retired.
    let out = keys(&data, &["retire", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("current key epoch"),
        "{}",
        stderr(&out)
    );
    let out = keys(&data, &["retire", "9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no key epoch 9"), "{}", stderr(&out));

    // Retire the old epoch: its token (verified and cached above) is refused without a restart.
    let out = keys(&data, &["retire", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let started = Instant::now();
    loop {
        let r = get_with(&url, &old).await;
        if r.status() == 402 {
            assert_refused(r, "retired_key_epoch").await;
            break;
        }
        assert_eq!(r.status(), 200);
        assert!(started.elapsed() < PICKUP, "retirement not picked up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get_with(&url, &new).await.status(), 200);

    // The listing shows both epochs and their state, never key material.
    let after = listed(&data);
    assert_eq!(after.len(), 2);
    assert_eq!(after[0]["epoch"], 1);
    assert_eq!(after[0]["retired"], true);
    assert!(after[0]["retired_at"].as_u64().is_some());
    assert_eq!(after[1]["epoch"], 2);
    assert_eq!(after[1]["current"], true);
    for key in &after {
        let fields: Vec<&str> = key
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(!fields.contains(&"key"), "{fields:?}");
    }
    let out = keys(&data, &["list"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("current") && text.contains("retired"),
        "{text}"
    );
    let out = keys(&data, &["retire", "1"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("already retired"), "{}", stdout(&out));
}

#[test]
fn keys_reads_the_data_dir_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_weather_config(dir.path(), free_addr(), "kind = \"dev\"", free_addr());
    let data = dir.path().join("data");
    let out = l402()
        .command(["keys", "rotate", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        listed(&data).len(),
        1,
        "the rotation went to the configured data_dir"
    );
    let out = l402()
        .command(["keys", "list", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
