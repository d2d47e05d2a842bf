//! A generic reverse proxy: typed TOML configuration, host/path routing, a streaming forwarder
//! (HTTP/1.1, HTTP/2, h2c, WebSocket, SSE, gRPC trailers), a TLS listener, request limits,
//! health and readiness endpoints, and graceful shutdown. Does network and file IO. It knows
//! nothing about what is sold: an application (such as `l402-seller`, which adds the L402
//! paywall) plugs in as a [`tower::Layer`] in front of the [`Forwarder`], and adds its own keys
//! to the configuration file through a [`ConfigExtension`](config::ConfigExtension).
//!
//! The request path is: accept → TLS (optional) → HTTP/1.1 or HTTP/2 → built-in `/healthz` and
//! `/readyz` → header-size and body-size limits → the application's own [`LocalEndpoints`]
//! (answered before routing) → routing ([`RouteDecision`], [`ClientAddr`] and
//! [`ClientIp`] are inserted as request extensions) → the application's layer → [`Forwarder`] → upstream.

pub mod access_log;
pub mod body;
pub mod client_ip;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod forward;
mod h1_io;
pub mod health;
mod ip_text;
mod response;
pub mod routing;
pub mod server;
mod shutdown;

pub use body::{Body, BoxError};
pub use client_ip::ClientIp;
pub use config::{Config, ConfigError, ConfigOverrides, ConfigWarning, ServiceConfig};
pub use endpoints::LocalEndpoints;
pub use error::ServerError;
pub use forward::Forwarder;
pub use forward::deadline::StreamDeadline;
pub use health::{AlwaysReady, Readiness, ReadinessCheck};
pub use routing::{RouteDecision, Router};
pub use server::{ClientAddr, ConnectionInfo, ProxyService, Reloader, Server, serve};
