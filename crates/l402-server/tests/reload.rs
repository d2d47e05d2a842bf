//! Live reconfiguration through [`l402_server::Reloader`]: an open keep-alive connection takes
//! the new routes on its next request, a request already running finishes where it started,
//! and a reload that asks for what only a restart can change is refused and changes nothing.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use l402_server::{AlwaysReady, Body, Server, ServerError};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tower::layer::util::Identity;

/// An upstream answering `name` to every request, after `delay`.
async fn named(name: &'static str, delay: Duration) -> std::net::SocketAddr {
    upstream_h1(move |_req: Request<Incoming>| async move {
        tokio::time::sleep(delay).await;
        Response::new(Body::from(name))
    })
    .await
}

fn two_services(first: std::net::SocketAddr, second: std::net::SocketAddr) -> String {
    format!(
        "{}{}",
        service("a", &format!("http://{first}"), "path_prefix = \"/a\""),
        service("b", &format!("http://{second}"), "path_prefix = \"/b\""),
    )
}

/// Sends `GET path` on one HTTP/1.1 connection and returns status and body.
async fn get_on(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    path: &str,
) -> (u16, String) {
    let request = Request::get(path)
        .header("host", "proxy.test")
        .body(Empty::new())
        .unwrap();
    sender
        .ready()
        .await
        .expect("the connection stays open across the reload");
    let response = sender
        .send_request(request)
        .await
        .expect("the connection stays open across the reload");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_reroutes_open_connections_and_lets_running_requests_finish() {
    let old = named("old", Duration::ZERO).await;
    let slow_old = named("slow-old", Duration::from_millis(600)).await;
    let new = named("new", Duration::ZERO).await;

    let first = config(&two_services(old, slow_old));
    let server = Server::bind(&first, Identity::new(), AlwaysReady)
        .await
        .unwrap();
    let addr = server.local_addr();
    let reloader = server.reloader();
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    // One keep-alive connection, used before and after the reload.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    assert_eq!(get_on(&mut sender, "/a/x").await, (200, "old".into()));

    // A slow request on another connection is in flight when the reload happens.
    let slow = format!("http://{addr}/b/slow");
    let in_flight = tokio::spawn(async move { get(&slow).await });
    tokio::time::sleep(Duration::from_millis(150)).await;

    // Service `a` moves to a new upstream, `b` is removed, `c` appears.
    let second = config(&format!(
        "{}{}",
        service("a", &format!("http://{new}"), "path_prefix = \"/a\""),
        service("c", &format!("http://{new}"), "path_prefix = \"/c\""),
    ));
    reloader
        .reload(&second, Identity::new(), AlwaysReady, None)
        .unwrap();

    let (parts, body) = in_flight.await.unwrap();
    assert_eq!(parts.status, 200);
    assert_eq!(
        body,
        Bytes::from("slow-old"),
        "started before: finishes there"
    );

    assert_eq!(get_on(&mut sender, "/a/x").await, (200, "new".into()));
    assert_eq!(get_on(&mut sender, "/c/x").await, (200, "new".into()));
    let (status, _) = get_on(&mut sender, "/b/x").await;
    assert_eq!(status, 404, "a removed service is gone");

    // What only a restart can change is refused, and nothing changes.
    let mut moved = config(&two_services(old, slow_old));
    moved.listen.addr = "127.0.0.1:1".parse().unwrap();
    let refused = reloader
        .reload(&moved, Identity::new(), AlwaysReady, None)
        .unwrap_err();
    assert!(
        matches!(refused, ServerError::NeedsRestart("[listen] addr")),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("restart"), "{refused}");
    assert_eq!(get_on(&mut sender, "/a/x").await, (200, "new".into()));
    assert!(
        !connection.is_finished(),
        "the connection was never dropped"
    );

    drop(sender);
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    // After the server stopped, a reload says so.
    let late = reloader
        .reload(&second, Identity::new(), AlwaysReady, None)
        .unwrap_err();
    assert!(matches!(late, ServerError::Stopped), "{late:?}");
}
