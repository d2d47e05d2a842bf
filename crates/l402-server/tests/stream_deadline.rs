//! The forwarder honours a request's `StreamDeadline` (what the L402 seller makes of a token's
//! lease): once it is reached, an upgraded WebSocket tunnel is closed and a server-sent event
//! stream ends cleanly, a long download is cut off; a short answer of known length is
//! unchanged, even past the deadline (it is not a stream). The deadline is reached on the test's
//! signal, so nothing here depends on timing.

mod common;

use std::time::Duration;

use common::*;
use http::Request;
use l402_server::{AlwaysReady, Body, StreamDeadline};
use l402_testkit::streams::{
    read_until_end, stream_upstream, ws_connect, ws_echoes, ws_wait_closed,
};
use l402_testkit::wait::http_client;
use tokio::sync::watch;
use tower::util::MapRequestLayer;

#[tokio::test]
async fn a_reached_deadline_closes_the_tunnel_and_ends_the_event_stream() {
    let upstream = stream_upstream().await;
    let (reach, reached) = watch::channel(false);
    let deadline = StreamDeadline::new(move || {
        let mut reached = reached.clone();
        async move {
            let _ = reached.wait_for(|r| *r).await;
        }
    });
    let layer = MapRequestLayer::new(move |mut request: Request<Body>| {
        request.extensions_mut().insert(deadline.clone());
        request
    });
    let toml = service("live", &format!("http://{upstream}"), "");
    let proxy = proxy_with(config(&toml), layer, AlwaysReady).await;

    let mut ws = ws_connect(&format!("ws://{}/ws", proxy.addr), None)
        .await
        .unwrap();
    assert!(ws_echoes(&mut ws, "before the deadline").await);
    let client = http_client();
    let mut events = client.get(proxy.url("/events")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    assert!(events.chunk().await.unwrap().is_some());
    let plain = client.get(proxy.url("/plain")).send().await.unwrap();
    assert_eq!(plain.headers()["content-length"], "5");
    assert_eq!(plain.text().await.unwrap(), "plain");
    let mut download = client.get(proxy.url("/download")).send().await.unwrap();
    assert_eq!(download.headers()["content-length"], "1048576");
    assert!(download.chunk().await.unwrap().is_some());
    assert!(ws_echoes(&mut ws, "still before").await);

    reach.send(true).unwrap();
    let limit = Duration::from_secs(5);
    ws_wait_closed(&mut ws, limit, "the tunnel past its deadline").await;
    let end = read_until_end(&mut events, limit, "the event stream past its deadline").await;
    assert!(
        end.clean,
        "the event stream ends cleanly, not with an error"
    );
    // A body of known length cut short ends its connection: the client sees it incomplete.
    let cut = read_until_end(&mut download, limit, "the download past its deadline").await;
    assert!(!cut.clean, "a download cut short must not look complete");
    // A short answer is not a stream: served whole even now.
    let plain = client.get(proxy.url("/plain")).send().await.unwrap();
    assert_eq!(plain.text().await.unwrap(), "plain");
    proxy.shutdown().await.unwrap();
}
