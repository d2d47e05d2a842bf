//! The client side of plain-TCP HTTP/1.1 on raw sockets: pipelining, bodies that arrive after
//! their head, unread bodies, answers without a body, `Connection: close`, and the requests our
//! own reader leaves to hyper (which then serves the rest of the connection).

mod common;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::*;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use l402_h1::{BodyDecoder, Decoded, ResponseHead, response};
use l402_server::Body;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer read off a client socket.
struct Answer {
    head: ResponseHead,
    body: Vec<u8>,
    trailers: Option<http::HeaderMap>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client connection, with what was read past the last answer.
struct Client {
    tcp: TcpStream,
    buf: BytesMut,
}

impl Client {
    async fn connect(proxy: &Proxy) -> Self {
        Self {
            tcp: TcpStream::connect(proxy.addr).await.unwrap(),
            buf: BytesMut::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.unwrap();
    }

    async fn fill(&mut self) -> usize {
        tokio::time::timeout(Duration::from_secs(10), self.tcp.read_buf(&mut self.buf))
            .await
            .expect("an answer within 10 s")
            .unwrap_or(0)
    }

    /// Reads the answer to a `method` request, its body de-chunked.
    async fn answer(&mut self, method: &Method) -> Answer {
        let head = loop {
            if let Some(head) = response::parse(&mut self.buf, method).unwrap() {
                break head;
            }
            assert!(
                self.fill().await > 0,
                "closed before an answer: {:?}",
                self.buf
            );
        };
        let mut decoder = BodyDecoder::new(head.framing);
        let mut body = Vec::new();
        let mut trailers = None;
        loop {
            match decoder.decode(&mut self.buf).unwrap() {
                Some(Decoded::Data(data)) => body.extend_from_slice(&data),
                Some(Decoded::Trailers(sent)) => {
                    trailers = Some(sent);
                    break;
                }
                Some(Decoded::End) => break,
                None => assert!(self.fill().await > 0, "closed inside an answer body"),
            }
        }
        Answer {
            head,
            body,
            trailers,
        }
    }

    /// True when the proxy closes the connection (with nothing more to read) within 5 s.
    async fn closed(&mut self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.tcp.read_buf(&mut self.buf)).await,
            Ok(Ok(0) | Err(_))
        ) && self.buf.is_empty()
    }
}

/// A proxy in front of the echo upstream, with `limits` TOML.
async fn echo_proxy(limits: &str) -> Proxy {
    let upstream = echo_upstream().await;
    proxy(&format!(
        "{limits}\n{}",
        service("echo", &format!("http://{upstream}"), "")
    ))
    .await
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let proxy = echo_proxy("").await;
    let mut client = Client::connect(&proxy).await;
    client
        .send(
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
              GET /c?d=e HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
    let a = client.answer(&Method::GET).await;
    let b = client.answer(&Method::POST).await;
    let c = client.answer(&Method::GET).await;
    assert!(a.text().starts_with("GET /a\n"), "{}", a.text());
    assert!(b.text().starts_with("POST /b\n"), "{}", b.text());
    assert!(b.text().ends_with("\n\nhello"), "{}", b.text());
    assert!(c.text().starts_with("GET /c?d=e\n"), "{}", c.text());
    for answer in [&a, &b, &c] {
        assert_eq!(answer.head.status, StatusCode::OK);
        assert!(answer.head.keep_alive);
        assert!(answer.head.headers.contains_key("date"));
    }
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_body_arriving_in_pieces_after_its_head_is_forwarded_whole_and_the_next_request_follows()
{
    let proxy = echo_proxy("").await;
    let mut client = Client::connect(&proxy).await;
    client
        .send(b"PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n")
        .await;
    let piece = vec![b'p'; 30_000];
    for _ in 0..9 {
        client.send(&piece).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The last piece and the next request in one write.
    let mut last = piece.clone();
    last.extend_from_slice(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    client.send(&last).await;
    let up = client.answer(&Method::PUT).await;
    assert_eq!(up.head.status, StatusCode::OK);
    let text = up.text();
    let (head, body) = text.split_once("\n\n").unwrap();
    assert!(head.starts_with("PUT /up\n"), "{head}");
    assert!(head.contains("content-length: 300000"), "{head}");
    assert_eq!(body.len(), 300_000);
    assert!(body.bytes().all(|b| b == b'p'));
    let next = client.answer(&Method::GET).await;
    assert!(next.text().starts_with("GET /next\n"), "{}", next.text());
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unread_body_that_has_arrived_is_skipped_and_one_that_has_not_closes_the_connection() {
    let proxy = echo_proxy("[limits]\nmax_body_bytes = 1024").await;
    let mut client = Client::connect(&proxy).await;
    // Refused by its length before it is read (413), but all here: the connection goes on.
    let mut over = b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n".to_vec();
    over.extend(std::iter::repeat_n(b'b', 2000));
    client.send(&over).await;
    let refused = client.answer(&Method::POST).await;
    assert_eq!(refused.head.status, StatusCode::PAYLOAD_TOO_LARGE);
    client.send(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let after = client.answer(&Method::GET).await;
    assert!(after.text().starts_with("GET /after\n"), "{}", after.text());
    // Refused with most of it still to come: answered, then closed (its bytes would be read
    // as the next request otherwise).
    client
        .send(b"POST /huge HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\nsome")
        .await;
    let refused = client.answer(&Method::POST).await;
    assert_eq!(refused.head.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        client.closed().await,
        "the rest of the body is not read as requests"
    );
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn requests_our_reader_leaves_to_hyper_are_served_on_the_same_connection() {
    let proxy = echo_proxy("").await;
    let mut client = Client::connect(&proxy).await;
    client.send(b"GET /ours HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        client
            .answer(&Method::GET)
            .await
            .text()
            .starts_with("GET /ours\n")
    );
    // 100-continue: hyper says continue when the body is wanted.
    client
        .send(
            b"PUT /expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
        )
        .await;
    while !client.buf.windows(4).any(|w| w == b"\r\n\r\n") {
        assert!(client.fill().await > 0);
    }
    assert!(
        client.buf.starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "{:?}",
        client.buf
    );
    client.send(b"data").await;
    let expect = client.answer(&Method::PUT).await;
    assert!(
        expect.text().starts_with("PUT /expect\n"),
        "{}",
        expect.text()
    );
    assert!(expect.text().ends_with("\n\ndata"), "{}", expect.text());
    // A chunked upload, then a plain request: hyper keeps the connection from here on.
    client
        .send(b"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /then HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let chunked = client.answer(&Method::POST).await;
    assert!(chunked.text().ends_with("\n\nabc"), "{}", chunked.text());
    assert!(
        client
            .answer(&Method::GET)
            .await
            .text()
            .starts_with("GET /then\n")
    );

    // HTTP/1.0: answered, then closed.
    let mut old = Client::connect(&proxy).await;
    old.send(b"GET /old HTTP/1.0\r\nHost: x\r\n\r\n").await;
    let answer = old.answer(&Method::GET).await;
    assert_eq!(answer.head.status, StatusCode::OK);
    assert!(answer.text().starts_with("GET /old\n"), "{}", answer.text());
    assert!(old.closed().await);

    // A malformed head: hyper's 400.
    let mut bad = Client::connect(&proxy).await;
    bad.send(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n").await;
    assert_eq!(
        bad.answer(&Method::GET).await.head.status,
        StatusCode::BAD_REQUEST
    );
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn head_and_no_content_answers_carry_no_body_and_the_connection_goes_on() {
    let upstream = upstream_h1(|req: Request<Incoming>| async move {
        let mut response = Response::new(Body::from("twelve bytes"));
        if req.uri().path() == "/none" {
            *response.status_mut() = StatusCode::NO_CONTENT;
            *response.body_mut() = Body::empty();
        }
        response
    })
    .await;
    let proxy = proxy(&service("s", &format!("http://{upstream}"), "")).await;
    let mut client = Client::connect(&proxy).await;
    client
        .send(b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let head = client.answer(&Method::HEAD).await;
    assert_eq!(head.head.status, StatusCode::OK);
    assert_eq!(
        head.head.headers["content-length"], "12",
        "HEAD keeps the length"
    );
    assert!(head.body.is_empty());
    let none = client.answer(&Method::GET).await;
    assert_eq!(none.head.status, StatusCode::NO_CONTENT);
    assert!(!none.head.headers.contains_key("content-length"));
    assert_eq!(client.answer(&Method::GET).await.text(), "twelve bytes");
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_asking_to_close_is_answered_with_close_then_closed() {
    let proxy = echo_proxy("").await;
    let mut client = Client::connect(&proxy).await;
    client
        .send(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n")
        .await;
    let answer = client.answer(&Method::GET).await;
    assert_eq!(answer.head.headers["connection"], "close");
    assert!(!answer.head.keep_alive);
    assert!(client.closed().await, "nothing after a close");
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_streamed_answer_of_unknown_length_is_chunked_to_the_client() {
    let upstream = upstream_h1(|_req: Request<Incoming>| async move {
        let (mut tx, body) = http_body_util::Channel::<Bytes, std::convert::Infallible>::new(1);
        tokio::spawn(async move {
            for part in ["one ", "two ", "three"] {
                if tx
                    .send_data(Bytes::from_static(part.as_bytes()))
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Response::new(Body::new(body))
    })
    .await;
    let proxy = proxy(&service("s", &format!("http://{upstream}"), "")).await;
    let mut client = Client::connect(&proxy).await;
    client
        .send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answer = client.answer(&Method::GET).await;
    assert_eq!(answer.head.headers["transfer-encoding"], "chunked");
    assert_eq!(answer.text(), "one two three");
    client.send(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(client.answer(&Method::GET).await.text(), "one two three");
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_gone_inside_its_body_fails_the_upload_not_the_proxy() {
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let upstream = upstream_h1(move |req: Request<Incoming>| {
        let seen_tx = seen_tx.clone();
        async move {
            let outcome = req.into_body().collect().await.map(|b| b.to_bytes().len());
            let _ = seen_tx.send(outcome.is_err());
            Response::new(Body::from("late"))
        }
    })
    .await;
    let proxy = proxy(&service("s", &format!("http://{upstream}"), "")).await;
    let mut client = Client::connect(&proxy).await;
    client
        .send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly this")
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(client);
    let upload_failed = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv())
        .await
        .expect("the upstream hears of the cut within 10 s")
        .unwrap();
    assert!(
        upload_failed,
        "the upstream must not take a cut body as whole"
    );
    // The proxy serves on.
    let (parts, _) = get(&proxy.url("/fine")).await;
    assert_eq!(parts.status, StatusCode::OK);
    proxy.shutdown().await.unwrap();
}

/// Reports when the request's handler is dropped (finished or cancelled).
struct Dropped(tokio::sync::mpsc::UnboundedSender<()>);

impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[tokio::test]
async fn a_client_that_leaves_drops_its_request_upstream_too() {
    let (dropped_tx, mut dropped) = tokio::sync::mpsc::unbounded_channel();
    let upstream = upstream_h1(move |_req: Request<Incoming>| {
        let guard = Dropped(dropped_tx.clone());
        async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(30)).await;
            Response::new(Body::from("too late"))
        }
    })
    .await;
    let proxy = proxy(&service("s", &format!("http://{upstream}"), "")).await;
    let mut client = Client::connect(&proxy).await;
    client.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(client);
    tokio::time::timeout(Duration::from_secs(5), dropped.recv())
        .await
        .expect("the upstream request is dropped within 5 s of the client leaving");
    let started = std::time::Instant::now();
    proxy.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "nothing left to drain"
    );
}

#[tokio::test]
async fn a_connection_answered_in_http_1_does_not_turn_into_http_2() {
    let proxy = echo_proxy("").await;
    let mut client = Client::connect(&proxy).await;
    client.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        client
            .answer(&Method::GET)
            .await
            .text()
            .starts_with("GET /a\n")
    );
    // The HTTP/2 preface and an empty SETTINGS frame.
    client
        .send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await;
    while client.fill().await > 0 {}
    assert!(
        client.buf.is_empty() || client.buf.starts_with(b"HTTP/1.1 "),
        "an HTTP/2 answer on an HTTP/1.1 connection: {:?}",
        client.buf
    );
    proxy.shutdown().await.unwrap();
}

#[tokio::test]
async fn trailers_go_only_to_a_client_that_takes_them_and_only_those_declared() {
    // An application layer answering itself with a streamed body and two trailers, one declared.
    let layer = tower::layer::layer_fn(|_inner| {
        tower::service_fn(|_req: Request<Body>| async {
            let mut trailers = http::HeaderMap::new();
            trailers.insert("x-sum", http::HeaderValue::from_static("7"));
            trailers.insert("x-undeclared", http::HeaderValue::from_static("no"));
            let frames = futures_util::stream::iter([
                Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from_static(
                    b"body",
                ))),
                Ok(http_body::Frame::trailers(trailers)),
            ]);
            let mut response = Response::new(Body::new(http_body_util::StreamBody::new(frames)));
            response
                .headers_mut()
                .insert("trailer", http::HeaderValue::from_static("x-sum"));
            Ok::<_, std::convert::Infallible>(response)
        })
    });
    let proxy = proxy_with(
        config(&service("s", "http://127.0.0.1:9", "")),
        layer,
        l402_server::AlwaysReady,
    )
    .await;
    let mut client = Client::connect(&proxy).await;
    client
        .send(
            b"GET /t HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\nGET /t HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
    let asked = client.answer(&Method::GET).await;
    assert_eq!(asked.text(), "body");
    let trailers = asked
        .trailers
        .expect("trailers for a client that takes them");
    assert_eq!(trailers["x-sum"], "7");
    assert!(!trailers.contains_key("x-undeclared"), "{trailers:?}");
    let not_asked = client.answer(&Method::GET).await;
    assert_eq!(not_asked.text(), "body");
    assert!(not_asked.trailers.is_none_or(|t| t.is_empty()));
    proxy.shutdown().await.unwrap();
}
