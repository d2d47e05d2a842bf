//! gRPC `helloworld.Greeter/SayHello`, with stubs written by hand (no `protoc` at build time).
//! The messages match the classic `helloworld.proto`:
//! `message HelloRequest { string name = 1; }`, `message HelloReply { string message = 1; }`.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};

use http::uri::PathAndQuery;
use tonic::client::GrpcService;
use tonic::metadata::MetadataMap;
use tonic::server::UnaryService;
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

/// The method's HTTP/2 path.
pub const SAY_HELLO_PATH: &str = "/helloworld.Greeter/SayHello";

/// `helloworld.HelloRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    /// Who to greet.
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `helloworld.HelloReply`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    /// The greeting.
    #[prost(string, tag = "1")]
    pub message: String,
}

#[derive(Clone, Copy)]
struct SayHello;

impl UnaryService<HelloRequest> for SayHello {
    type Response = HelloReply;
    type Future = Ready<Result<Response<HelloReply>, Status>>;

    fn call(&mut self, request: Request<HelloRequest>) -> Self::Future {
        let paid = request.metadata().get("x-l402-token-id").is_some();
        let name = request.into_inner().name;
        if name.is_empty() || name.len() > 200 {
            return ready(Err(Status::invalid_argument("name must be 1 to 200 bytes")));
        }
        let suffix = if paid { " (paid with L402)" } else { "" };
        ready(Ok(Response::new(HelloReply {
            message: format!("Hello, {name}!{suffix}"),
        })))
    }
}

/// The Greeter as a tower service for an axum router (`route_service(SAY_HELLO_PATH, ..)`).
pub fn service() -> impl tower::Service<
    http::Request<axum::body::Body>,
    Response = http::Response<tonic::body::Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<http::Response<tonic::body::Body>, Infallible>> + Send,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(|request: http::Request<axum::body::Body>| async move {
        let mut grpc = tonic::server::Grpc::new(ProstCodec::<HelloReply, HelloRequest>::default());
        Ok::<_, Infallible>(grpc.unary(SayHello, request).await)
    })
}

/// Calls `SayHello` over `channel` with `metadata` (e.g. the L402 `macaroon` metadata).
pub async fn say_hello<T>(
    channel: T,
    name: &str,
    metadata: MetadataMap,
) -> Result<Response<HelloReply>, Status>
where
    T: GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.into().to_string()))?;
    let mut request = Request::new(HelloRequest {
        name: name.to_owned(),
    });
    *request.metadata_mut() = metadata;
    grpc.unary(
        request,
        PathAndQuery::from_static(SAY_HELLO_PATH),
        ProstCodec::<HelloRequest, HelloReply>::default(),
    )
    .await
}
