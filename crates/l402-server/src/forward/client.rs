//! Upstream HTTP clients for `https://` and h2c upstreams: hyper-util's pooled legacy client over
//! the TLS home's connector (plain `http://` upstreams use [`super::h1_pool`]).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::h1_pool::H1Pool;
use crate::body::Body;
use crate::error::ClientBuildError;

/// The client type used for every upstream.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Body>;

/// How an upstream's certificate is verified: the workspace's one trust choice.
pub(crate) use l402_tls::Trust as TlsTrust;

/// Checks that a PEM file of CA certificates can be used as an upstream's trust roots.
pub(crate) fn load_roots(path: &Path) -> Result<(), ClientBuildError> {
    TlsTrust::CaFile(path.to_owned()).client_config()?;
    Ok(())
}

/// Builds clients, sharing one pool between services with the same settings (and one HTTP/1.1
/// pool between the services of one plain `http://` upstream).
pub(crate) struct ClientFactory {
    connect_timeout: Duration,
    cache: HashMap<(TlsTrust, bool), HttpClient>,
    pools: HashMap<(String, u16), H1Pool>,
}

impl ClientFactory {
    pub(crate) fn new(connect_timeout: Duration) -> Self {
        // As when every upstream had a rustls client: the process-wide provider is installed
        // when a forwarder is built, even if all its upstreams are plain `http://`, so rustls
        // clients built later in the process without one of their own keep working.
        l402_tls::install_default_provider();
        Self {
            connect_timeout,
            cache: HashMap::new(),
            pools: HashMap::new(),
        }
    }

    /// The HTTP/1.1 pool for a plain `http://` upstream at `host:port`, shared by every service
    /// of this configuration that names the same host (as written) and port.
    pub(crate) fn h1_pool(&mut self, host: &str, port: u16) -> H1Pool {
        let connect_timeout = self.connect_timeout;
        self.pools
            .entry((host.to_owned(), port))
            .or_insert_with(|| H1Pool::new(host, port, connect_timeout))
            .clone()
    }

    /// A client for `trust`; `h2_only` selects HTTP/2 prior knowledge (h2c).
    pub(crate) fn client(
        &mut self,
        trust: TlsTrust,
        h2_only: bool,
    ) -> Result<HttpClient, ClientBuildError> {
        let key = (trust, h2_only);
        if let Some(client) = self.cache.get(&key) {
            return Ok(client.clone());
        }
        let connector = l402_tls::https_connector(&key.0, Some(self.connect_timeout))?;
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .http2_only(h2_only)
            .build(connector);
        self.cache.insert(key, client.clone());
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_of_one_http_upstream_share_its_pool() {
        let mut factory = ClientFactory::new(Duration::from_secs(1));
        let first = factory.h1_pool("127.0.0.1", 8080);
        assert!(first.is_same_pool(&factory.h1_pool("127.0.0.1", 8080)));
        assert!(!first.is_same_pool(&factory.h1_pool("127.0.0.1", 8081)));
        assert!(!first.is_same_pool(&factory.h1_pool("localhost", 8080)));
    }
}
