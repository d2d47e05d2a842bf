//! Serving [`L402McpServer`](crate::L402McpServer) (or any server, e.g. [`UpstreamMcpServer`](crate::UpstreamMcpServer)) over stdio (local agents) and streamable HTTP (mounted at
//! [`MCP_PATH`] in axum).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::error::McpError;
use crate::http_auth::{self, BearerToken, Gate};

/// Where the streamable HTTP endpoint is mounted.
pub const MCP_PATH: &str = "/mcp";

/// How long open HTTP connections get to finish after the shutdown signal.
pub const HTTP_DRAIN: Duration = Duration::from_secs(5);

/// Serves MCP over stdin/stdout until the client closes the connection (or the server task
/// fails).
///
/// stdout carries the protocol: nothing else may write to it while this runs. Send logs to
/// stderr (e.g. `tracing_subscriber::fmt().with_writer(std::io::stderr)`).
pub async fn serve_stdio<S: rmcp::ServerHandler>(server: S) -> Result<(), McpError> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| McpError::Initialize(e.to_string()))?;
    let reason = running
        .waiting()
        .await
        .map_err(|e| McpError::Task(e.to_string()))?;
    tracing::debug!(?reason, "MCP stdio session ended");
    Ok(())
}

/// Options of the streamable HTTP transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The token every request must carry as `Authorization: Bearer <token>` (else 401);
    /// see [`load_or_create_token`](crate::load_or_create_token).
    pub token: BearerToken,
    /// `Origin` values accepted besides loopback ones (else 403); a request without `Origin`
    /// (a non-browser client) is accepted. E.g. `https://agent.example.com`.
    pub allowed_origins: Vec<String>,
    /// Allow a non-loopback listen address. Anyone who can reach the endpoint and has the
    /// token spends the budget, and the token travels in clear over plain HTTP: only set this
    /// behind a reverse proxy that terminates TLS, and list the public host names in
    /// [`allowed_hosts`](Self::allowed_hosts).
    pub allow_remote: bool,
    /// `Host` header values accepted besides `localhost`, `127.0.0.1` and `::1` (DNS-rebinding
    /// protection), e.g. `mcp.example.com` or `mcp.example.com:443`.
    pub allowed_hosts: Vec<String>,
}

impl HttpOptions {
    /// Options requiring `token`, loopback only, loopback origins only.
    pub fn new(token: BearerToken) -> Self {
        Self {
            token,
            allowed_origins: Vec::new(),
            allow_remote: false,
            allowed_hosts: Vec::new(),
        }
    }

    /// Allows a non-loopback listen address (see [`allow_remote`](Self::allow_remote)).
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.allow_remote = allow;
        self
    }

    /// Adds an accepted `Host` value (see [`allowed_hosts`](Self::allowed_hosts)).
    pub fn allowed_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    /// Adds accepted `Origin` values (see [`allowed_origins`](Self::allowed_origins)).
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = String>) -> Self {
        self.allowed_origins.extend(origins);
        self
    }
}

/// A running streamable HTTP server.
#[derive(Debug)]
pub struct HttpServer {
    local_addr: SocketAddr,
    task: JoinHandle<Result<(), McpError>>,
}

impl HttpServer {
    /// The bound address (useful with port 0). The endpoint is `http://<addr>/mcp`.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The endpoint URL, `http://<addr>/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{MCP_PATH}", self.local_addr)
    }

    /// Waits until the server stopped: the shutdown future completed and open connections
    /// finished (or [`HTTP_DRAIN`] passed).
    pub async fn wait(self) -> Result<(), McpError> {
        self.task.await.map_err(|e| McpError::Task(e.to_string()))?
    }
}

/// Serves `server` (an [`L402McpServer`](crate::L402McpServer), an [`UpstreamMcpServer`](crate::UpstreamMcpServer))
/// over streamable HTTP at `http://<addr>/mcp` until `shutdown` completes. Binds
/// before returning, so the returned [`HttpServer::local_addr`] is ready for clients.
///
/// Every request needs `Authorization: Bearer <token>` (else 401); a request with an `Origin`
/// that is not a loopback origin gets 403; requests whose `Host` is not a loopback name are
/// refused (DNS-rebinding protection). Loopback only: a non-loopback `addr` is refused with
/// [`McpError::NotLoopback`]. For remote agents, put a TLS-terminating reverse proxy in front
/// and use [`serve_http_with`] with [`HttpOptions::allow_remote`].
pub async fn serve_http<S, F>(
    server: S,
    addr: SocketAddr,
    token: BearerToken,
    shutdown: F,
) -> Result<HttpServer, McpError>
where
    S: rmcp::ServerHandler + Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    serve_http_with(server, addr, shutdown, HttpOptions::new(token)).await
}

/// [`serve_http`] with options.
pub async fn serve_http_with<S, F>(
    server: S,
    addr: SocketAddr,
    shutdown: F,
    options: HttpOptions,
) -> Result<HttpServer, McpError>
where
    S: rmcp::ServerHandler + Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    if !addr.ip().is_loopback() && !options.allow_remote {
        return Err(McpError::NotLoopback(addr));
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| McpError::Io {
            context: format!("binding the MCP HTTP endpoint on {addr}"),
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| McpError::Io {
        context: "reading the bound address".into(),
        source,
    })?;
    let mut config = StreamableHttpServerConfig::default();
    if !options.allowed_hosts.is_empty() {
        let mut hosts = config.allowed_hosts.clone();
        hosts.extend(options.allowed_hosts.iter().cloned());
        config = config.with_allowed_hosts(hosts);
    }
    let cancel = config.cancellation_token.clone();
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let gate = Gate {
        token: options.token.clone(),
        allowed_origins: options.allowed_origins.clone(),
    };
    let app = axum::Router::new().route_service(MCP_PATH, service).layer(
        axum::middleware::from_fn_with_state(gate, http_auth::require),
    );
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let graceful = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            // Ends the sessions and their SSE streams, so connections can close.
            cancel.cancel();
            let _ = stopping_tx.send(());
        });
        let drain_deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(HTTP_DRAIN).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = graceful => r.map_err(|source| McpError::Io { context: "serving MCP over HTTP".into(), source }),
            () = drain_deadline => {
                tracing::warn!("MCP HTTP connections still open after {HTTP_DRAIN:?}; stopping anyway");
                Ok(())
            }
        }
    });
    tracing::info!(url = %format!("http://{local_addr}{MCP_PATH}"), "MCP streamable HTTP endpoint listening");
    Ok(HttpServer { local_addr, task })
}
