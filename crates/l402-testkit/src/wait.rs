//! Bounded waits. Each panics with what it waited for when the time is up.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Polls `ready` every 50 ms until it returns true; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, limit: Duration) {
    wait_until(&format!("a listener on {addr}"), limit, || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
}

/// Waits until `path` exists.
pub fn wait_for_file(path: &Path, limit: Duration) {
    wait_until(&format!("the file {}", path.display()), limit, || {
        path.exists()
    });
}

#[cfg(feature = "http")]
pub use self::http::{http_client, wait_for_status};

#[cfg(feature = "http")]
mod http {
    use std::time::{Duration, Instant};

    use crate::process::ChildGuard;

    /// A client for loopback tests from the workspace's TLS home (webpki roots; a bare
    /// `reqwest::Client::new()` has no crypto provider in this build): no proxy, 30 s timeout.
    pub fn http_client() -> reqwest::Client {
        l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
            .expect("the TLS home builds a webpki client")
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("building a plain reqwest client")
    }

    /// Polls `GET url` every 100 ms until it answers `status`. With `process`, panics with its
    /// log as soon as it exits; panics (with the log) after `limit`.
    pub async fn wait_for_status(
        url: &str,
        status: u16,
        limit: Duration,
        mut process: Option<&mut ChildGuard>,
    ) {
        let client = http_client();
        let start = Instant::now();
        loop {
            if let Some(p) = process.as_deref_mut() {
                p.assert_running();
            }
            if let Ok(r) = client.get(url).send().await
                && r.status().as_u16() == status
            {
                return;
            }
            if start.elapsed() > limit {
                let log = process.as_deref().map(ChildGuard::log).unwrap_or_default();
                panic!("{url} never answered {status} within {limit:?}; log:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
