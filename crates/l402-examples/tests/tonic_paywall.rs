//! Runs the `tonic_paywall` example's own code: an unpaid call gets the gRPC payment-required
//! answer, the invoice is paid through the dev wallet, the retry with `macaroon` metadata gets the
//! greeting; then the server shuts down cleanly.

#[allow(dead_code)] // the example's `main` and usage printer are not called from here
#[path = "../examples/tonic_paywall.rs"]
mod tonic_paywall;

#[tokio::test]
async fn unpaid_code_13_then_paid_greeting() {
    let running = tonic_paywall::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let greeting = tonic_paywall::self_test(&running).await.unwrap();
    assert_eq!(greeting, "Hello, agent! (paid with L402)");
    tokio::time::timeout(std::time::Duration::from_secs(10), running.shutdown())
        .await
        .expect("graceful shutdown within 10 s")
        .unwrap();
}

/// The unpaid answer on the wire: HTTP 200 whose headers already carry `grpc-status: 13`,
/// `grpc-message: payment required` and both challenges, with an empty body (Trailers-Only).
#[tokio::test]
async fn unpaid_answer_is_trailers_only() {
    use tonic::codegen::Service;

    let running = tonic_paywall::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = http::Request::post(format!(
        "http://{}{}",
        running.addr,
        l402_sample::greeter::SAY_HELLO_PATH
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(tonic::body::Body::empty())
    .unwrap();
    std::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .unwrap();
    let response = channel.call(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["grpc-status"], "13");
    assert_eq!(headers["grpc-message"], "payment required");
    let challenges: Vec<_> = headers.get_all("www-authenticate").iter().collect();
    assert_eq!(challenges.len(), 2);
    assert!(
        challenges[0]
            .to_str()
            .unwrap()
            .starts_with("LSAT macaroon=\"")
    );
    assert!(
        challenges[1]
            .to_str()
            .unwrap()
            .starts_with("L402 macaroon=\"")
    );
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap();
    assert!(
        body.trailers().is_none(),
        "Trailers-Only: no separate trailers"
    );
    assert!(body.to_bytes().is_empty(), "Trailers-Only: no body");
    drop(channel);
    running.shutdown().await.unwrap();
}
