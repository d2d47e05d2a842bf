//! The client against the real paywall (`l402-tower` in front of an axum app, invoices from an
//! embedded dev wallet that also pays them): it keeps what each paid response's `L402-Token`
//! header says about its token, and presents several held tokens in one credential.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use l402_client::{L402Client, TokenInfo};
use l402_core::Msat;
use l402_core::invoice::Network;
use l402_core::keys::{KeyRing, MasterKey};
use l402_core::token_status::{TOKEN_STATUS_HEADER, TokenStatus};
use l402_lightning::dev::DevWallet;
use l402_tower::{FixedPrice, L402Layer, Offer, OsRandom, Paywall, RevocationSet};
use reqwest::header::AUTHORIZATION;

const WEATHER_LIFETIME: u64 = 3600;

/// `/weather` (service `weather`, tokens expire after an hour) and `/news` (service `news`,
/// tokens never expire), 1 sat each, behind one paywall.
fn app(paywall: Arc<Paywall>) -> Router {
    let mut weather = Offer::new("weather", Msat::from_sat(1));
    weather.token_lifetime_secs = Some(WEATHER_LIFETIME);
    let mut news = Offer::new("news", Msat::from_sat(1));
    news.token_lifetime_secs = None;
    let weather = Router::new()
        .route("/weather", get(|| async { "sunny" }))
        .route_layer(L402Layer::new(paywall.clone(), FixedPrice(weather)));
    let news = Router::new()
        .route("/news", get(|| async { "nothing new" }))
        .route_layer(L402Layer::new(paywall, FixedPrice(news)));
    weather.merge(news)
}

struct Setup {
    client: L402Client,
    base: String,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Arc::new(DevWallet::open(dir.path().join("wallet"), Network::Regtest).unwrap());
    let keys = KeyRing::new(1, &MasterKey::generate(&mut OsRandom));
    let paywall = Arc::new(Paywall::new(keys, wallet.clone(), RevocationSet::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(paywall)).await.unwrap() });
    let client = L402Client::builder()
        .wallet(wallet)
        .store_path(dir.path().join("client.db"))
        .network(Network::Regtest)
        .build()
        .unwrap();
    Setup {
        client,
        base: format!("http://{addr}"),
        _dir: dir,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The held token whose scope ends with `path`.
async fn held(client: &L402Client, path: &str) -> TokenInfo {
    client
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.scope.ends_with(path))
        .unwrap_or_else(|| panic!("no token held for {path}"))
}

#[tokio::test]
async fn the_client_keeps_what_paid_responses_say_about_its_tokens() {
    let s = setup().await;
    let before = now();
    let first = s.client.get(&format!("{}/weather", s.base)).await.unwrap();
    assert!(first.payment.is_some(), "the first request pays");
    assert_eq!(first.response.status(), 200);
    let reported = first
        .token_status
        .expect("the paid response reports its token");
    let expires = reported.expires_at.expect("weather tokens expire");
    assert!(
        (before + WEATHER_LIFETIME..=now() + WEATHER_LIFETIME).contains(&expires),
        "{expires}"
    );
    let ttl = reported.ttl_secs.unwrap();
    assert!(
        ttl <= WEATHER_LIFETIME && ttl + 5 >= WEATHER_LIFETIME,
        "{ttl}"
    );
    assert_eq!(reported.balance_msat, None);

    // Kept with the held token, and what a holder is told follows from it.
    let weather = held(&s.client, "/weather").await;
    assert_eq!(weather.status, Some(reported));
    assert_eq!(weather.expires_at, Some(expires), "the caveats agree");
    let left = weather.remaining_secs(now()).unwrap();
    assert!(left <= ttl && left + 5 >= ttl, "{left}");

    // Reused: the same report comes back and the stored one is not rewritten.
    let again = s.client.get(&format!("{}/weather", s.base)).await.unwrap();
    assert!(again.reused_token);
    let second = again.token_status.unwrap();
    assert_eq!(second.expires_at, Some(expires));
    assert_eq!(held(&s.client, "/weather").await.status, Some(reported));

    // A token that never expires: reported without expiry.
    let news = s.client.get(&format!("{}/news", s.base)).await.unwrap();
    assert_eq!(news.response.status(), 200);
    let news_status = held(&s.client, "/news").await.status.unwrap();
    assert_eq!(
        (news_status.expires_at, news_status.ttl_secs),
        (None, None),
        "{news_status:?}"
    );
    assert_eq!(held(&s.client, "/news").await.remaining_secs(now()), None);
}

/// The `L402-Token` of a plain response, parsed.
fn status_of(response: &reqwest::Response) -> TokenStatus {
    TokenStatus::parse(response.headers()[TOKEN_STATUS_HEADER].to_str().unwrap()).unwrap()
}

#[tokio::test]
async fn several_held_tokens_go_in_one_credential() {
    let s = setup().await;
    let (weather_url, news_url) = (format!("{}/weather", s.base), format!("{}/news", s.base));
    assert_eq!(
        s.client
            .combined_authorization(&[&weather_url, &news_url])
            .await
            .unwrap(),
        None,
        "nothing held yet"
    );
    for url in [&weather_url, &news_url] {
        assert!(s.client.get(url).await.unwrap().payment.is_some());
    }
    let combined = s
        .client
        .combined_authorization(&[&weather_url, &news_url, &weather_url])
        .await
        .unwrap()
        .expect("two tokens held");
    assert_eq!(combined.matches(',').count(), 1, "each token once");
    let weather_id = held(&s.client, "/weather").await.token_id.unwrap();
    let news_id = held(&s.client, "/news").await.token_id.unwrap();

    // The one credential opens both services; each answer names the token that paid.
    for (url, id) in [(&weather_url, weather_id), (&news_url, news_id)] {
        let response = s
            .client
            .http()
            .get(url)
            .header(AUTHORIZATION, &combined)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(status_of(&response).token_id, id);
    }

    // One macaroon altered: the whole credential is refused.
    let (list, preimage) = combined.rsplit_once(':').unwrap();
    let (first, second) = list.split_once(',').unwrap();
    let mut bytes = l402_core::base64_codec::decode_lenient(second).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    let forged = format!(
        "{first},{}:{preimage}",
        l402_core::base64_codec::encode_std(&bytes)
    );
    let response = s
        .client
        .http()
        .get(&weather_url)
        .header(AUTHORIZATION, forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 402);
    assert_eq!(response.headers()["x-l402-reason"], "bad_signature");
}
