//! Helpers shared by the integration tests: tiny upstream servers, a proxy on an ephemeral
//! port, and clients. Everything listens on 127.0.0.1.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use l402_server::{
    AlwaysReady, Body, Config, ConfigOverrides, ReadinessCheck, Server, ServerError,
};
use l402_testkit::serve::serve_each;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A unique temporary path for this test process.
pub fn temp_path(name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("l402-server-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{n}-{name}"))
}

/// `handler` as a hyper service.
fn handler_service<F, Fut>(
    handler: F,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send,
> + Clone
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    service_fn(move |req| {
        let handler = handler.clone();
        async move { Ok::<_, Infallible>(handler(req).await) }
    })
}

/// The protocol an upstream speaks.
#[derive(Clone, Copy)]
pub enum Protocol {
    /// HTTP/1.1, with upgrades.
    Http1,
    /// HTTP/2 with prior knowledge (h2c).
    H2c,
}

/// Serves `handler` in `protocol` on an ephemeral port.
pub async fn upstream<F, Fut>(handler: F, protocol: Protocol) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    serve_each(move |tcp| {
        let svc = handler_service(handler.clone());
        async move {
            let io = TokioIo::new(tcp);
            let _ = match protocol {
                Protocol::Http1 => {
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .with_upgrades()
                        .await
                }
                Protocol::H2c => {
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, svc)
                        .await
                }
            };
        }
    })
    .await
}

/// Serves `handler` over HTTP/1.1 (with upgrades) on an ephemeral port.
pub async fn upstream_h1<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    upstream(handler, Protocol::Http1).await
}

/// An upstream that answers with the request line and headers, then the request body.
pub async fn echo_upstream() -> SocketAddr {
    upstream_h1(|req: Request<Incoming>| async move {
        let mut head = format!("{} {}\n", req.method(), req.uri());
        for (name, value) in req.headers() {
            head.push_str(&format!("{}: {}\n", name, value.to_str().unwrap_or("?")));
        }
        head.push('\n');
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let mut all = head.into_bytes();
        all.extend_from_slice(&body);
        Response::new(Body::from(all))
    })
    .await
}

/// A free port with nothing listening on it.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// A proxy running in this process.
pub struct Proxy {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<Result<(), ServerError>>,
}

impl Proxy {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Starts the shutdown and waits for `run` to return.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.await.unwrap()
    }

    /// Starts the shutdown without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits for `run` to return.
    pub async fn join(self) -> Result<(), ServerError> {
        self.handle.await.unwrap()
    }
}

/// Parses `toml` (listen address forced to 127.0.0.1:0).
pub fn config(toml: &str) -> Config {
    let mut config = Config::from_toml(toml, None).unwrap();
    config.apply(&ConfigOverrides::new().listen_addr("127.0.0.1:0".parse().unwrap()));
    config
}

/// Starts a plain proxy (identity paywall) for `toml`.
pub async fn proxy(toml: &str) -> Proxy {
    proxy_with(
        config(toml),
        tower::layer::util::Identity::new(),
        AlwaysReady,
    )
    .await
}

/// Starts a proxy with a paywall layer and readiness check.
pub async fn proxy_with<L, R, ResB>(config: Config, layer: L, readiness: R) -> Proxy
where
    L: tower::Layer<l402_server::Forwarder>,
    L::Service:
        tower::Service<Request<Body>, Response = Response<ResB>> + Clone + Send + Sync + 'static,
    <L::Service as tower::Service<Request<Body>>>::Future: Send + 'static,
    <L::Service as tower::Service<Request<Body>>>::Error: Into<l402_server::BoxError>,
    ResB: http_body::Body<Data = Bytes> + Send + 'static,
    ResB::Error: Into<l402_server::BoxError>,
    R: ReadinessCheck,
{
    let server = Server::bind(&config, layer, readiness).await.unwrap();
    let addr = server.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Proxy {
        addr,
        shutdown: Some(tx),
        handle,
    }
}

pub type TestClient = Client<HttpConnector, Body>;

/// An HTTP/1.1 client.
pub fn h1_client() -> TestClient {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// An HTTP/2 prior-knowledge (h2c) client.
pub fn h2c_client() -> TestClient {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(HttpConnector::new())
}

/// Sends `req` and collects the whole response.
pub async fn send(client: &TestClient, req: Request<Body>) -> (http::response::Parts, Bytes) {
    let response = client.request(req).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts, body)
}

/// GET `url` over HTTP/1.1.
pub async fn get(url: &str) -> (http::response::Parts, Bytes) {
    let req = Request::get(url).body(Body::empty()).unwrap();
    send(&h1_client(), req).await
}

/// A full in-memory body.
pub fn full(data: impl Into<Bytes>) -> Body {
    Body::new(Full::new(data.into()))
}

/// The service TOML for one upstream.
pub fn service(name: &str, upstream: &str, extra: &str) -> String {
    format!("[[services]]\nname = \"{name}\"\nupstream = \"{upstream}\"\n{extra}\n")
}
