//! The sample API over real loopback HTTP/1.1 and gRPC (h2c) on one port.

use tonic::metadata::MetadataMap;

/// Sends `request` and reads the answer's JSON body.
async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn http_and_grpc_on_one_port() {
    let (addr, _task) = l402_sample::spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap();
    let sim = json_of(
        http.post(format!("http://{addr}/api/similarity"))
            .json(&serde_json::json!({"a": [1.0, 2.0], "b": [2.0, 4.0]})),
    )
    .await;
    assert!((sim["cosine"].as_f64().unwrap() - 1.0).abs() < 1e-9);

    let bad = http
        .post(format!("http://{addr}/api/similarity"))
        .json(&serde_json::json!({"a": [1.0], "b": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let weather = json_of(http.get(format!("http://{addr}/api/weather?city=Paris"))).await;
    assert_eq!(weather["city"], "Paris");
    assert_eq!(
        http.get(format!("http://{addr}/api/weather"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let reply = l402_sample::greeter::say_hello(channel.clone(), "agent", MetadataMap::new())
        .await
        .unwrap();
    assert_eq!(reply.into_inner().message, "Hello, agent!");
    let err = l402_sample::greeter::say_hello(channel, "", MetadataMap::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
}
