//! Long-lived connections opened with a token end when the token does: a WebSocket and a
//! server-sent event stream through `Seller::start` (dev wallet, a real upstream serving both)
//! stay open while the token is valid, and end `stream_grace_secs` after it expires or is
//! revoked (as `l402 revoke` does, through the store, picked up by the 2 s refresh). The paid
//! plain request is unchanged.

use std::path::Path;
use std::time::Duration;

use l402_core::identifier::Identifier;
use l402_core::macaroon::Macaroon;
use l402_lightning::dev::DevWalletClient;
use l402_seller::{Seller, SellerHandle, SellerOptions};
use l402_testkit::now_unix_ms as now_ms;
use l402_testkit::streams::{
    WsClient, read_until_end, stream_upstream, ws_connect, ws_echoes, ws_wait_closed,
};
use l402_testkit::wait::http_client;
use l402_testkit::wallet::{Paid, Payer};

/// `stream_grace_secs` in the test's configuration.
const GRACE_MS: u64 = 1000;
/// `token_lifetime_secs` of the `brief` service.
const LIFETIME_SECS: u64 = 5;

/// A seller with two services on the stream upstream: `brief` (tokens live
/// [`LIFETIME_SECS`]) and `lasting` (tokens never expire).
async fn seller(dir: &Path) -> SellerHandle {
    let upstream = stream_upstream().await;
    let config = dir.join("l402.toml");
    std::fs::write(
        &config,
        format!(
            r#"
data_dir = "state"
stream_grace_secs = {grace}

[listen]
addr = "127.0.0.1:0"

[[services]]
name = "brief"
path_prefix = "/brief"
upstream = "http://{upstream}"
price_sat = 3
token_lifetime_secs = {LIFETIME_SECS}

[[services]]
name = "lasting"
path_prefix = "/lasting"
upstream = "http://{upstream}"
price_sat = 3
"#,
            grace = GRACE_MS / 1000
        ),
    )
    .unwrap();
    Seller::start(SellerOptions::new().config_file(&config))
        .await
        .unwrap()
}

/// Buys a token on `path`.
async fn buy(seller: &SellerHandle, path: &str) -> Paid {
    let wallet = DevWalletClient::from_data_dir(seller.data_dir()).unwrap();
    Payer::new(&wallet)
        .buy(&format!("http://{}{path}", seller.proxy_addr()))
        .await
}

/// `GET /<service>/<what>` with `auth`, expecting 200.
async fn get_paid(
    seller: &SellerHandle,
    service: &str,
    what: &str,
    auth: &str,
) -> reqwest::Response {
    let response = http_client()
        .get(format!("http://{}/{service}/{what}", seller.proxy_addr()))
        .header("authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "/{service}/{what}");
    response
}

/// The paid plain answer, exactly as the upstream gave it.
async fn assert_plain_answer(seller: &SellerHandle, service: &str, auth: &str) {
    let response = get_paid(seller, service, "plain", auth).await;
    assert_eq!(response.headers()["content-length"], "5");
    assert_eq!(response.text().await.unwrap(), "plain");
}

/// Opens the event stream of `service` with `auth`; checks it streams.
async fn open_events(seller: &SellerHandle, service: &str, auth: &str) -> reqwest::Response {
    let mut response = get_paid(seller, service, "events", auth).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = response.chunk().await.unwrap().expect("a first event");
    assert!(first.starts_with(b"data: "), "{first:?}");
    response
}

/// Checks that a stream ended in `[earliest, latest]` (Unix milliseconds).
fn assert_ended_between(what: &str, ended: u64, earliest: u64, latest: u64) {
    assert!(
        (earliest..=latest).contains(&ended),
        "{what} ended at {ended} ms, expected within [{earliest}, {latest}]"
    );
}

/// The WebSocket handshake was answered 402 (the token no longer opens it).
fn assert_refused_with_402(result: Result<WsClient, impl std::fmt::Debug>) {
    let Err(error) = result else {
        panic!("the ended token's handshake was accepted")
    };
    let error = format!("{error:?}");
    assert!(error.contains("402"), "{error}");
}

/// Waits for both streams to end (at most `limit`); checks the event stream ended cleanly and
/// returns when each ended (Unix milliseconds).
async fn both_end(
    ws: &mut WsClient,
    events: &mut reqwest::Response,
    limit: Duration,
    whose: &str,
) -> (u64, u64) {
    let (ws_ended, (end, sse_ended)) = tokio::join!(
        async {
            ws_wait_closed(ws, limit, &format!("{whose} WebSocket")).await;
            now_ms()
        },
        async {
            let end = read_until_end(events, limit, &format!("{whose} event stream")).await;
            (end, now_ms())
        }
    );
    assert!(
        end.clean,
        "the event stream ends cleanly, not with an error"
    );
    assert!(end.chunks >= 10, "events kept coming until the end");
    (ws_ended, sse_ended)
}

/// A seller, a token bought on `service`, and a WebSocket and an event stream opened with it.
struct Opened {
    seller: SellerHandle,
    auth: String,
    macaroon: Macaroon,
    ws_url: String,
    ws: WsClient,
    events: reqwest::Response,
    _dir: tempfile::TempDir,
}

/// Starts the seller, buys a token on `service`, checks its plain answer, and opens a WebSocket
/// (which echoes) and an event stream (which streams) with it.
async fn open_streams(service: &str) -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let seller = seller(dir.path()).await;
    let paid = buy(&seller, &format!("/{service}/plain")).await;
    let auth = paid.authorization();
    let macaroon = Macaroon::decode_v2(&paid.token.macaroon).unwrap();
    assert_plain_answer(&seller, service, &auth).await;
    let ws_url = format!("ws://{}/{service}/ws", seller.proxy_addr());
    let mut ws = ws_connect(&ws_url, Some(&auth)).await.unwrap();
    assert!(ws_echoes(&mut ws, "hello").await);
    let events = open_events(&seller, service, &auth).await;
    Opened {
        seller,
        auth,
        macaroon,
        ws_url,
        ws,
        events,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_end_after_the_token_expires_plus_the_grace() {
    let mut o = open_streams("brief").await;
    let valid_until: u64 = o
        .macaroon
        .first_party_caveats()
        .filter_map(|c| std::str::from_utf8(c).ok())
        .find_map(|c| c.strip_prefix("brief_valid_until="))
        .expect("the token expires")
        .parse()
        .unwrap();
    let expired_ms = valid_until * 1000;

    // Still open a moment before the token expires.
    tokio::time::sleep(Duration::from_millis(
        (expired_ms - 700).saturating_sub(now_ms()),
    ))
    .await;
    assert!(
        now_ms() < expired_ms,
        "the machine is too slow for this test"
    );
    assert!(ws_echoes(&mut o.ws, "still there").await);

    let limit = Duration::from_secs(LIFETIME_SECS + 10);
    let (ws_ended, sse_ended) =
        both_end(&mut o.ws, &mut o.events, limit, "the expired token's").await;
    let earliest = expired_ms + GRACE_MS - 50;
    let latest = expired_ms + GRACE_MS + 4000;
    assert_ended_between("the WebSocket", ws_ended, earliest, latest);
    assert_ended_between("the event stream", sse_ended, earliest, latest);

    // The expired token opens nothing new.
    assert_refused_with_402(ws_connect(&o.ws_url, Some(&o.auth)).await);
    o.seller.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_end_after_the_token_is_revoked_plus_the_grace() {
    let mut o = open_streams("lasting").await;
    let token_id = Identifier::decode(o.macaroon.identifier())
        .unwrap()
        .token_id;
    // A token that never expires keeps its streams open.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(ws_echoes(&mut o.ws, "still there").await);

    // What `l402 revoke` does: a row in the store, read by the running seller every 2 s.
    let store = l402_store::Store::open(o.seller.data_dir().join("l402.db")).unwrap();
    let revoked_ms = now_ms();
    assert!(
        store
            .revocations()
            .revoke(&token_id, "test", revoked_ms / 1000)
            .unwrap()
    );

    let limit = Duration::from_secs(10);
    let (ws_ended, sse_ended) =
        both_end(&mut o.ws, &mut o.events, limit, "the revoked token's").await;
    // Refresh interval (2 s) + grace, with room for a loaded machine.
    let earliest = revoked_ms + GRACE_MS - 50;
    let latest = revoked_ms + 2000 + GRACE_MS + 3000;
    assert_ended_between("the WebSocket", ws_ended, earliest, latest);
    assert_ended_between("the event stream", sse_ended, earliest, latest);

    assert_refused_with_402(ws_connect(&o.ws_url, Some(&o.auth)).await);
    o.seller.shutdown().await.unwrap();
}
