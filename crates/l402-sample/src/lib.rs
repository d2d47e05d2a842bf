//! The sample API `l402 serve` sells when started with no configuration, so a newcomer sees the
//! whole paid flow with nothing else running. Plain HTTP and gRPC on one port (h2c):
//!
//! | endpoint | what |
//! |---|---|
//! | `POST /api/similarity` | cosine similarity of two vectors `{"a": [..], "b": [..]}` |
//! | `GET /api/weather?city=Paris` | a small deterministic weather report |
//! | `POST /api/complete` | an LLM-like completion `{"prompt": ".."}`, streamed as server-sent events, one per generated token, usage reported at the end (sold per token) |
//! | `GET /` | a free landing page listing the endpoints |
//! | `GET /openapi.json` | the OpenAPI 3.1 document of the HTTP endpoints |
//! | gRPC `helloworld.Greeter/SayHello` | a greeting, priced per call |
//!
//! Does network IO (it is a server).

mod complete;
pub mod greeter;
mod similarity;
mod weather;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The sample API's routes, HTTP and gRPC.
pub fn router() -> Router {
    Router::new()
        .route("/", get(landing))
        .route("/openapi.json", get(openapi))
        .route("/api/similarity", post(similarity::handler))
        .route("/api/weather", get(weather::handler))
        .route("/api/complete", post(complete::handler))
        .route_service(greeter::SAY_HELLO_PATH, greeter::service())
}

async fn landing() -> &'static str {
    "l402 sample API\n\nPOST /api/similarity  {\"a\":[1,2],\"b\":[2,4]}\nGET  /api/weather?city=Paris\nPOST /api/complete    {\"prompt\":\"hello\"}  (server-sent events, per token)\ngRPC helloworld.Greeter/SayHello\n"
}

/// The OpenAPI document of the sample's HTTP endpoints.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

async fn openapi() -> ([(http::header::HeaderName, &'static str); 1], &'static str) {
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON,
    )
}

/// Serves the sample API on `addr` (port 0 picks one); returns the bound address.
pub async fn spawn(
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let handle = tokio::spawn(async move { axum::serve(listener, router()).await });
    Ok((bound, handle))
}
