//! The streamable HTTP endpoint: 401 without the bearer token, 403 for a foreign `Origin`,
//! 200 with the token (with no `Origin`, a loopback one, or one the configuration allows).

use std::net::SocketAddr;

use l402_client::ClientConfig;
use l402_mcp::{HttpServer, L402McpServer, http_options, serve_http_with, token_path};
use serde_json::{Value, json};

async fn start(config: &ClientConfig) -> (HttpServer, String, tokio::sync::oneshot::Sender<()>) {
    let options = http_options(config).unwrap();
    let token = std::fs::read_to_string(token_path(&config.data_dir().unwrap())).unwrap();
    let server = L402McpServer::from_config(config).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = serve_http_with(
        server,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        async {
            let _ = rx.await;
        },
        options,
    )
    .await
    .unwrap();
    (running, token, tx)
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "auth-test", "version": "0"}
    }})
}

async fn post(url: &str, authorization: Option<&str>, origin: Option<&str>) -> u16 {
    let http = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap();
    let mut req = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize());
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_needs_the_token_and_an_allowed_origin() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ClientConfig {
        data_dir: Some(dir.path().to_owned()),
        ..ClientConfig::default()
    };
    config.mcp.allowed_origins = vec!["https://agent.example.com".into()];
    let (running, token, stop) = start(&config).await;
    let url = running.url();
    let bearer = format!("Bearer {token}");

    assert_eq!(post(&url, None, None).await, 401, "no token");
    assert_eq!(
        post(&url, Some("Bearer wrong-token-000000"), None).await,
        401
    );
    assert_eq!(
        post(&url, Some(&token), None).await,
        401,
        "no Bearer scheme"
    );
    let almost = format!("Bearer {}", &token[..token.len() - 1]);
    assert_eq!(post(&url, Some(&almost), None).await, 401, "a prefix");
    assert_eq!(
        post(&url, Some(&bearer), Some("https://evil.example")).await,
        403
    );
    assert_eq!(post(&url, None, Some("https://evil.example")).await, 403);
    assert_eq!(post(&url, Some(&bearer), None).await, 200);
    assert_eq!(
        post(&url, Some(&bearer), Some("http://localhost:5173")).await,
        200
    );
    assert_eq!(
        post(&url, Some(&bearer), Some("https://agent.example.com")).await,
        200
    );

    stop.send(()).unwrap();
    running.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = ClientConfig {
        data_dir: Some(dir.path().to_owned()),
        ..ClientConfig::default()
    };
    let (first, token, stop) = start(&config).await;
    stop.send(()).unwrap();
    first.wait().await.unwrap();
    let (second, again, stop) = start(&config).await;
    assert_eq!(token, again);
    assert_eq!(
        post(&second.url(), Some(&format!("Bearer {token}")), None).await,
        200
    );
    stop.send(()).unwrap();
    second.wait().await.unwrap();
}
