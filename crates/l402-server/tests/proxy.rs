//! The proxy end to end on 127.0.0.1: HTTP/1.1, h2c, gRPC-style trailers, header rewriting,
//! WebSocket, SSE, errors, limits, timeouts, shutdown, health, and the paywall extension points.

mod common;

use l402_testkit::serve::serve_each;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Channel};
use hyper::body::Incoming;
use l402_server::health::{BoxFuture, Readiness};
use l402_server::{Body, ClientAddr, ReadinessCheck, RouteDecision};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn text(body: &Bytes) -> String {
    String::from_utf8_lossy(body).into_owned()
}

#[tokio::test]
async fn http1_get_and_post_are_proxied() {
    let upstream = echo_upstream().await;
    let proxy = proxy(&service("echo", &format!("http://{upstream}"), "")).await;

    let (parts, body) = get(&proxy.url("/hello/world?x=1&y=2")).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert!(
        text(&body).starts_with("GET /hello/world?x=1&y=2\n"),
        "{}",
        text(&body)
    );

    let req = Request::post(proxy.url("/submit"))
        .header("content-type", "text/plain")
        .body(full("hello upstream"))
        .unwrap();
    let (parts, body) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::OK);
    let body = text(&body);
    assert!(body.starts_with("POST /submit\n"), "{body}");
    assert!(body.contains("content-type: text/plain\n"), "{body}");
    assert!(body.ends_with("\n\nhello upstream"), "{body}");
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn upstream_base_path_and_strip_prefix() {
    let upstream = echo_upstream().await;
    let proxy = proxy(&service(
        "echo",
        &format!("http://{upstream}/base"),
        "path_prefix = \"/weather\"\nstrip_path_prefix = true",
    ))
    .await;
    let (_, body) = get(&proxy.url("/weather/today?unit=c")).await;
    assert!(
        text(&body).starts_with("GET /base/today?unit=c\n"),
        "{}",
        text(&body)
    );
    let (_, body) = get(&proxy.url("/weather")).await;
    assert!(text(&body).starts_with("GET /base/\n"), "{}", text(&body));
    let (parts, _) = get(&proxy.url("/weatherman")).await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn h2c_client_through_proxy_to_http1_upstream() {
    let upstream = echo_upstream().await;
    let proxy = proxy(&service("echo", &format!("http://{upstream}"), "")).await;
    let req = Request::post(proxy.url("/h2"))
        .body(full("over h2c"))
        .unwrap();
    let response = h2c_client().request(req).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = text(&body);
    assert!(body.starts_with("POST /h2\n"), "{body}");
    assert!(body.ends_with("over h2c"), "{body}");
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn h2c_upstream_trailers_reach_the_client() {
    // A gRPC-like upstream: answers with a data frame and `grpc-status: 0` in the trailers,
    // and reports whether it saw `te: trailers`.
    let upstream = upstream(
        |req: Request<Incoming>| async move {
            let saw_te = req
                .headers()
                .get("te")
                .map(|v| v.to_str().unwrap_or("").to_owned())
                .unwrap_or_default();
            let request_body = req.into_body().collect().await.unwrap().to_bytes();
            let (mut tx, channel) = Channel::<Bytes, Infallible>::new(4);
            tokio::spawn(async move {
                tx.send_data(request_body).await.unwrap();
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", HeaderValue::from_static("0"));
                trailers.insert("grpc-message", HeaderValue::from_static("all%20good"));
                tx.send_trailers(trailers).await.unwrap();
            });
            let mut response = Response::new(Body::new(channel));
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/grpc"));
            response
                .headers_mut()
                .insert("x-saw-te", HeaderValue::from_str(&saw_te).unwrap());
            response
        },
        Protocol::H2c,
    )
    .await;
    let proxy = proxy(&service("grpc", &format!("h2c://{upstream}"), "")).await;

    let payload = Bytes::from_static(b"\x00\x00\x00\x00\x03abc");
    let req = Request::post(proxy.url("/pkg.Service/Method"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(full(payload.clone()))
        .unwrap();
    let response = h2c_client().request(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-saw-te"], "trailers");
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected
        .trailers()
        .cloned()
        .expect("trailers must survive the proxy");
    assert_eq!(trailers["grpc-status"], "0");
    assert_eq!(trailers["grpc-message"], "all%20good");
    assert_eq!(collected.to_bytes(), payload);
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn hop_by_hop_headers_are_stripped_and_forwarded_headers_set() {
    let upstream = upstream_h1(|req: Request<Incoming>| async move {
        let mut seen = String::new();
        for (name, value) in req.headers() {
            seen.push_str(&format!("{}: {}\n", name, value.to_str().unwrap()));
        }
        let mut response = Response::new(Body::from(seen));
        let h = response.headers_mut();
        h.insert("connection", HeaderValue::from_static("x-resp-hop"));
        h.insert("x-resp-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-resp-kept", HeaderValue::from_static("1"));
        response
    })
    .await;
    let proxy = proxy(&service("echo", &format!("http://{upstream}"), "")).await;
    let req = Request::get(proxy.url("/headers"))
        .header("host", "public.example.com")
        .header("connection", "x-hop-secret")
        .header("x-hop-secret", "must not pass")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("proxy-connection", "keep-alive")
        .header("te", "gzip")
        .header("trailer", "x-foo")
        .header("upgrade", "h2c")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-end-to-end", "kept")
        .body(Body::empty())
        .unwrap();
    let (parts, body) = send(&h1_client(), req).await;
    let seen = text(&body);
    for gone in [
        "x-hop-secret",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te:",
        "trailer",
        "upgrade",
    ] {
        assert!(
            !seen.contains(gone),
            "`{gone}` reached the upstream:\n{seen}"
        );
    }
    assert!(seen.contains("x-end-to-end: kept\n"), "{seen}");
    assert!(
        seen.contains("x-forwarded-for: 203.0.113.7, 127.0.0.1\n"),
        "{seen}"
    );
    assert!(seen.contains("x-forwarded-proto: http\n"), "{seen}");
    assert!(
        seen.contains("x-forwarded-host: public.example.com\n"),
        "{seen}"
    );
    assert!(
        seen.contains("forwarded: for=127.0.0.1;host=public.example.com;proto=http\n"),
        "{seen}"
    );
    // The upstream sees its own authority as Host (preserve_host = false).
    assert!(seen.contains(&format!("host: {upstream}\n")), "{seen}");
    // Response hop-by-hop headers are stripped too.
    assert!(!parts.headers.contains_key("x-resp-hop"));
    assert!(!parts.headers.contains_key("keep-alive"));
    assert_eq!(parts.headers["x-resp-kept"], "1");
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn configured_upstream_headers_replace_client_headers() {
    let upstream = echo_upstream().await;
    let key_file = temp_path("api-key");
    std::fs::write(&key_file, "from-file-secret\n").unwrap();
    let extra = format!(
        "preserve_host = true\n[services.upstream_headers]\nX-Api-Key = {{ file = \"{}\" }}\nX-Static = \"static-value\"\n",
        key_file.display()
    );
    let proxy = proxy(&service("echo", &format!("http://{upstream}"), &extra)).await;
    let req = Request::get(proxy.url("/k"))
        .header("host", "api.example.com")
        .header("x-api-key", "client-supplied")
        .header("x-static", "client-static")
        .body(Body::empty())
        .unwrap();
    let (_, body) = send(&h1_client(), req).await;
    let seen = text(&body);
    assert!(seen.contains("x-api-key: from-file-secret\n"), "{seen}");
    assert!(!seen.contains("client-supplied"), "{seen}");
    assert!(seen.contains("x-static: static-value\n"), "{seen}");
    assert!(!seen.contains("client-static"), "{seen}");
    assert!(
        seen.contains("host: api.example.com\n"),
        "preserve_host: {seen}"
    );
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn websocket_upgrade_echo() {
    // A WebSocket echo upstream (tungstenite server on a raw socket).
    let upstream = serve_each(move |tcp| async move {
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_text() || msg.is_binary() {
                ws.send(msg).await.unwrap();
            } else if msg.is_close() {
                break;
            }
        }
    })
    .await;
    let proxy = proxy(&service("ws", &format!("http://{upstream}"), "")).await;
    let tcp = TcpStream::connect(proxy.addr).await.unwrap();
    let (mut ws, response) =
        tokio_tungstenite::client_async(format!("ws://{}/socket", proxy.addr), tcp)
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    for i in 0..3 {
        ws.send(Message::text(format!("ping {i}"))).await.unwrap();
        let echoed = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), format!("ping {i}"));
    }
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let echoed = ws.next().await.unwrap().unwrap();
    assert_eq!(echoed.into_data().as_ref(), &[1u8, 2, 3]);
    ws.close(None).await.unwrap();
    drop(ws);
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_sent_events_are_not_buffered() {
    let upstream = upstream_h1(|_req: Request<Incoming>| async move {
        let (mut tx, channel) = Channel::<Bytes, Infallible>::new(1);
        tokio::spawn(async move {
            tx.send_data(Bytes::from_static(b"data: first\n\n"))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tx.send_data(Bytes::from_static(b"data: second\n\n"))
                .await
                .unwrap();
        });
        let mut response = Response::new(Body::new(channel));
        response.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("text/event-stream"),
        );
        response
    })
    .await;
    let proxy = proxy(&service("sse", &format!("http://{upstream}"), "")).await;
    let started = Instant::now();
    let req = Request::get(proxy.url("/events"))
        .body(Body::empty())
        .unwrap();
    let response = h1_client().request(req).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    let first_at = started.elapsed();
    assert_eq!(first, Bytes::from_static(b"data: first\n\n"));
    assert!(
        first_at < Duration::from_millis(1000),
        "first event arrived after {first_at:?}: buffered?"
    );
    let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(second, Bytes::from_static(b"data: second\n\n"));
    assert!(started.elapsed() >= Duration::from_millis(1400));
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn upstream_down_is_502_naming_the_service() {
    let dead = closed_port().await;
    let extra = "[services.upstream_headers]\nX-Secret = \"super-secret-value\"\n";
    let proxy = proxy(&service("weather", &format!("http://{dead}"), extra)).await;
    let (parts, body) = get(&proxy.url("/x")).await;
    assert_eq!(parts.status, StatusCode::BAD_GATEWAY);
    assert_eq!(parts.headers["content-type"], "application/json");
    let body = text(&body);
    assert!(body.contains("\"service\":\"weather\""), "{body}");
    assert!(body.contains("upstream_unavailable"), "{body}");
    assert!(!body.contains("super-secret-value"), "{body}");

    // gRPC callers get a gRPC error instead.
    let req = Request::post(proxy.url("/pkg.S/M"))
        .header("content-type", "application/grpc")
        .body(Body::empty())
        .unwrap();
    let response = h2c_client().request(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "14");
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_upstream_is_504() {
    let upstream = upstream_h1(|_req: Request<Incoming>| async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        Response::new(Body::from("late"))
    })
    .await;
    let toml = format!(
        "[limits]\nrequest_timeout = \"300ms\"\n{}",
        service("slow", &format!("http://{upstream}"), "")
    );
    let proxy = proxy(&toml).await;
    let started = Instant::now();
    let (parts, body) = get(&proxy.url("/")).await;
    assert_eq!(parts.status, StatusCode::GATEWAY_TIMEOUT, "{}", text(&body));
    assert!(started.elapsed() < Duration::from_secs(2));
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn no_matching_service_is_404() {
    let upstream = echo_upstream().await;
    let proxy = proxy(&service(
        "only",
        &format!("http://{upstream}"),
        "hosts = [\"api.example.com\"]",
    ))
    .await;
    let req = Request::get(proxy.url("/x"))
        .header("host", "other.example.com")
        .body(Body::empty())
        .unwrap();
    let (parts, body) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
    let body = text(&body);
    assert!(
        body.contains("no_service") && body.contains("other.example.com"),
        "{body}"
    );
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_header_is_431() {
    let upstream = echo_upstream().await;
    let proxy = proxy(&service("echo", &format!("http://{upstream}"), "")).await;
    let req = Request::get(proxy.url("/"))
        .header("x-big", "a".repeat(20 * 1024))
        .body(Body::empty())
        .unwrap();
    let (parts, _) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    // Below hyper's own 8 KiB buffer minimum, the stack enforces the configured limit.
    let toml = format!(
        "[limits]\nmax_header_bytes = \"2KiB\"\n{}",
        service("echo", &format!("http://{upstream}"), "")
    );
    let small = common::proxy(&toml).await;
    let req = Request::get(small.url("/"))
        .header("x-big", "a".repeat(4 * 1024))
        .body(Body::empty())
        .unwrap();
    let (parts, _) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let (parts, _) = get(&small.url("/fine")).await;
    assert_eq!(parts.status, StatusCode::OK);
    small.shutdown().await.unwrap();
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn request_body_over_the_limit_is_413() {
    // The upstream reads the whole body before answering.
    let upstream = upstream_h1(|req: Request<Incoming>| async move {
        match req.into_body().collect().await {
            Ok(body) => Response::new(Body::from(format!("got {}", body.to_bytes().len()))),
            Err(_) => Response::new(Body::from("body error")),
        }
    })
    .await;
    let toml = format!(
        "[limits]\nmax_body_bytes = 1024\n{}",
        service("echo", &format!("http://{upstream}"), "")
    );
    let proxy = proxy(&toml).await;

    // Declared with Content-Length: refused before anything is forwarded.
    let req = Request::post(proxy.url("/up"))
        .body(full(vec![b'x'; 2048]))
        .unwrap();
    let (parts, _) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Chunked, no Content-Length: cut off by the limiting body.
    let (mut tx, channel) = Channel::<Bytes, Infallible>::new(1);
    tokio::spawn(async move {
        for _ in 0..4 {
            if tx.send_data(Bytes::from(vec![b'y'; 512])).await.is_err() {
                return;
            }
        }
    });
    let req = Request::post(proxy.url("/up"))
        .body(Body::new(channel))
        .unwrap();
    let (parts, _) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Within the limit.
    let req = Request::post(proxy.url("/up"))
        .body(full(vec![b'x'; 1000]))
        .unwrap();
    let (parts, body) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(text(&body), "got 1000");
    proxy.shutdown().await.unwrap();
}

/// Reads until EOF or error; returns what was read and whether the peer closed.
async fn read_until_closed(tcp: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (seen, true),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return (seen, false),
        }
    }
}

#[tokio::test]
async fn slow_clients_are_disconnected_after_header_read_timeout() {
    let upstream = echo_upstream().await;
    let toml = format!(
        "[limits]\nheader_read_timeout = \"500ms\"\n{}",
        service("echo", &format!("http://{upstream}"), "")
    );
    let proxy = proxy(&toml).await;

    // Sends half a request head, then stalls.
    let started = Instant::now();
    let mut slow = TcpStream::connect(proxy.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(closed, "a stalled request head must be cut off");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "closed too early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "closed too late: {elapsed:?}"
    );

    // Connects and sends nothing at all (no protocol detection possible).
    let started = Instant::now();
    let mut silent = TcpStream::connect(proxy.addr).await.unwrap();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(closed, "a silent connection must be closed");
    assert!(started.elapsed() < Duration::from_secs(3));

    // Sends a partial HTTP/2 preface.
    let mut partial_h2 = TcpStream::connect(proxy.addr).await.unwrap();
    partial_h2.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let (_, closed) = read_until_closed(&mut partial_h2, Duration::from_secs(5)).await;
    assert!(closed, "a partial h2 preface must be closed");

    // A normal request still works.
    let (parts, _) = get(&proxy.url("/ok")).await;
    assert_eq!(parts.status, StatusCode::OK);
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let upstream = echo_upstream().await;
    let proxy = proxy(&short_idle(service(
        "echo",
        &format!("http://{upstream}"),
        "",
    )))
    .await;
    let mut tcp = TcpStream::connect(proxy.addr).await.unwrap();
    tcp.write_all(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    answered_then_closed_when_idle(&mut tcp, "after the only request").await;
    proxy.shutdown().await.unwrap();
}

/// `services` behind a 300 ms idle timeout (and a header read timeout long enough not to
/// interfere).
fn short_idle(services: String) -> String {
    format!("[limits]\nidle_timeout = \"300ms\"\nheader_read_timeout = \"10s\"\n{services}")
}

/// Reads `tcp` to its end: a 200 answer to the request just sent, then the close, one idle
/// period (300 ms, of [`short_idle`]) later and not much more.
async fn answered_then_closed_when_idle(tcp: &mut TcpStream, what: &str) {
    let started = Instant::now();
    let (seen, closed) = read_until_closed(tcp, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200 OK"));
    assert!(
        closed,
        "an idle keep-alive connection must be closed ({what})"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250),
        "closed too early {what}: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "closed too late {what}: {elapsed:?}"
    );
}

#[tokio::test]
async fn a_request_longer_than_the_idle_timeout_is_not_cut_and_pushes_the_close_back() {
    let upstream = upstream_h1(|req: Request<Incoming>| async move {
        if req.uri().path() == "/slow" {
            tokio::time::sleep(Duration::from_millis(900)).await;
        }
        Response::new(Body::from("done"))
    })
    .await;
    let proxy = proxy(&short_idle(service(
        "slow",
        &format!("http://{upstream}"),
        "",
    )))
    .await;
    let mut tcp = TcpStream::connect(proxy.addr).await.unwrap();
    // Busy for three idle periods: the watchdog must not close the connection under it.
    tcp.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let first = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    assert!(first.ends_with("done"), "{first}");
    // A second request 200 ms later (inside the idle time) is served, and moves the close to
    // 300 ms after it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    tcp.write_all(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    answered_then_closed_when_idle(&mut tcp, "after the second request").await;
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_lets_in_flight_requests_finish() {
    let upstream = upstream_h1(|_req: Request<Incoming>| async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        Response::new(Body::from("finished"))
    })
    .await;
    let mut proxy = proxy(&service("slow", &format!("http://{upstream}"), "")).await;
    // One client for both requests: its pooled keep-alive connection stays open unless the
    // proxy closes it.
    let client = h1_client();
    let (parts, _) = send(
        &client,
        Request::get(proxy.url("/warm"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    let in_flight = {
        let client = client.clone();
        let url = proxy.url("/slow");
        tokio::spawn(
            async move { send(&client, Request::get(url).body(Body::empty()).unwrap()).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    proxy.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // New connections are refused once shutdown began.
    assert!(TcpStream::connect(proxy.addr).await.is_err());
    let (parts, body) = in_flight.await.unwrap();
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(text(&body), "finished");
    assert_eq!(
        parts.headers["connection"], "close",
        "the connection is closed after the response"
    );
    // The server does not wait for idle keep-alive connections or the drain timeout.
    proxy.join().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(client);
}

#[tokio::test]
async fn drain_timeout_bounds_shutdown() {
    let upstream = upstream_h1(|_req: Request<Incoming>| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Response::new(Body::from("never"))
    })
    .await;
    let toml = format!(
        "[limits]\ndrain_timeout = \"300ms\"\n{}",
        service("stuck", &format!("http://{upstream}"), "")
    );
    let mut proxy = proxy(&toml).await;
    let url = proxy.url("/");
    let in_flight = tokio::spawn(async move {
        h1_client()
            .request(Request::get(url).body(Body::empty()).unwrap())
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    proxy.begin_shutdown();
    proxy.join().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The stuck request was cut off rather than answered.
    assert!(in_flight.await.unwrap().is_err());
}

struct Toggle(Arc<AtomicBool>);

impl ReadinessCheck for Toggle {
    fn check(&self) -> BoxFuture<'_, Readiness> {
        let ok = self.0.load(Ordering::SeqCst);
        Box::pin(async move {
            Readiness::from_checks(vec![l402_server::health::CheckResult {
                name: "lightning".to_owned(),
                ok,
                detail: (!ok).then(|| "backend unreachable".to_owned()),
            }])
        })
    }
}

#[tokio::test]
async fn healthz_and_readyz() {
    let ready = Arc::new(AtomicBool::new(true));
    let proxy = proxy_with(
        config(""),
        tower::layer::util::Identity::new(),
        Toggle(Arc::clone(&ready)),
    )
    .await;
    let (parts, body) = get(&proxy.url("/healthz")).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers["content-type"], "application/json");
    assert_eq!(text(&body).trim(), "{\"status\":\"ok\"}");

    let (parts, body) = get(&proxy.url("/readyz")).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert!(
        text(&body).contains("\"status\":\"ready\""),
        "{}",
        text(&body)
    );

    ready.store(false, Ordering::SeqCst);
    let (parts, body) = get(&proxy.url("/readyz")).await;
    assert_eq!(parts.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = text(&body);
    assert!(body.contains("\"status\":\"not_ready\""), "{body}");
    assert!(body.contains("backend unreachable"), "{body}");

    // /healthz stays 200 regardless.
    let (parts, _) = get(&proxy.url("/healthz")).await;
    assert_eq!(parts.status, StatusCode::OK);
    proxy.shutdown().await.unwrap();
}

/// A stand-in for an application layer: reads the extensions, answers 402 for the requests of
/// route 0, and forwards the others with headers telling what it saw.
#[derive(Clone)]
struct FakePaywall<S> {
    inner: S,
}

impl<S> tower::Service<Request<Body>> for FakePaywall<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let decision = req.extensions().get::<RouteDecision>().cloned().unwrap();
        let client = req.extensions().get::<ClientAddr>().copied().unwrap();
        if decision.route == Some(0) {
            return Box::pin(async move {
                let mut response = Response::new(Body::from("payment required"));
                *response.status_mut() = StatusCode::PAYMENT_REQUIRED;
                response.headers_mut().insert(
                    "x-service",
                    HeaderValue::from_str(&decision.service.name).unwrap(),
                );
                Ok(response)
            });
        }
        let mut inner = self.inner.clone();
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            response.headers_mut().insert(
                "x-client-ip",
                HeaderValue::from_str(&client.0.ip().to_string()).unwrap(),
            );
            let route = decision.route.map_or("none".to_owned(), |r| r.to_string());
            response
                .headers_mut()
                .insert("x-route", HeaderValue::from_str(&route).unwrap());
            Ok(response)
        })
    }
}

#[tokio::test]
async fn paywall_layer_sees_route_decision_and_client_addr() {
    let upstream = echo_upstream().await;
    let extra = "[[services.routes]]\nmethods = [\"POST\"]\npath = \"/v1/*\"\n[[services.routes]]\npath = \"/free/*\"\n";
    let layer = tower::layer::layer_fn(|inner| FakePaywall { inner });
    let proxy = proxy_with(
        config(&service("api", &format!("http://{upstream}"), extra)),
        layer,
        l402_server::AlwaysReady,
    )
    .await;

    let req = Request::post(proxy.url("/v1/things"))
        .body(full("x"))
        .unwrap();
    let (parts, _) = send(&h1_client(), req).await;
    assert_eq!(parts.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(parts.headers["x-service"], "api");

    let (parts, _) = get(&proxy.url("/other")).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers["x-route"], "none");

    let (parts, body) = get(&proxy.url("/free/thing")).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers["x-client-ip"], "127.0.0.1");
    assert_eq!(parts.headers["x-route"], "1");
    assert!(text(&body).starts_with("GET /free/thing\n"));
    proxy.shutdown().await.unwrap();
}

/// Writes a self-signed certificate for `localhost` and `127.0.0.1`; returns (cert, key) paths.
fn self_signed() -> (std::path::PathBuf, std::path::PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = temp_path("cert.pem");
    let key = temp_path("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An HTTPS (HTTP/1.1) echo upstream using `cert`/`key`.
async fn https_echo_upstream(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    serve_each(move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                let proto = req
                    .headers()
                    .get("x-forwarded-proto")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                Ok::<_, Infallible>(Response::new(Body::from(format!(
                    "tls upstream saw {} proto={proto}",
                    req.uri().path()
                ))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                .await;
        }
    })
    .await
}

#[tokio::test]
async fn tls_listener_and_verified_https_upstreams() {
    let (cert, key) = self_signed();
    let upstream = https_echo_upstream(&cert, &key).await;
    let port = upstream.port();
    let toml = format!(
        "[listen]\ntls_cert = \"{cert}\"\ntls_key = \"{key}\"\n{a}{b}{c}",
        cert = cert.display(),
        key = key.display(),
        a = service(
            "with-ca",
            &format!("https://localhost:{port}"),
            &format!(
                "path_prefix = \"/ca\"\nupstream_ca_cert = \"{}\"",
                cert.display()
            ),
        ),
        b = service(
            "webpki",
            &format!("https://localhost:{port}"),
            "path_prefix = \"/pki\""
        ),
        c = service(
            "insecure",
            &format!("https://localhost:{port}"),
            "path_prefix = \"/insecure\"\ninsecure_skip_verify = true"
        ),
    );
    let proxy = common::proxy(&toml).await;

    // A client that trusts the self-signed certificate, offering h2 and http/1.1.
    let mut roots = rustls::RootCertStore::empty();
    {
        use rustls::pki_types::pem::PemObject;
        for c in rustls::pki_types::CertificateDer::pem_file_iter(&cert).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
    }
    let client_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config)
        .https_only()
        .enable_http1()
        .enable_http2()
        .build();
    let client: hyper_util::client::legacy::Client<_, Body> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector);
    let base = format!("https://localhost:{}", proxy.addr.port());

    let response = client
        .request(
            Request::get(format!("{base}/ca/x"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_2, "ALPN should pick h2");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(text(&body), "tls upstream saw /ca/x proto=https");

    // The same upstream without its CA fails verification: 502, never silently accepted.
    let response = client
        .request(
            Request::get(format!("{base}/pki/x"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);

    // Only an explicit insecure_skip_verify accepts it.
    let response = client
        .request(
            Request::get(format!("{base}/insecure/x"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    proxy.shutdown().await.unwrap();
}
