//! Values from command-line flags and environment variables that win over the file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Config;

/// Overrides the binary fills from flags and environment variables; `None` keeps the file's
/// value. Apply with [`Config::apply`], then run [`Config::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigOverrides {
    /// `[listen] addr`.
    pub listen_addr: Option<SocketAddr>,
    /// `[listen] tls_cert`.
    pub tls_cert: Option<PathBuf>,
    /// `[listen] tls_key`.
    pub tls_key: Option<PathBuf>,
    /// `[limits] max_body_bytes`.
    pub max_body_bytes: Option<u64>,
    /// `[limits] request_timeout`.
    pub request_timeout: Option<Duration>,
    /// `[limits] drain_timeout`.
    pub drain_timeout: Option<Duration>,
}

impl ConfigOverrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `[listen] addr`.
    pub fn listen_addr(mut self, addr: SocketAddr) -> Self {
        self.listen_addr = Some(addr);
        self
    }

    /// Sets both TLS files.
    pub fn tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls_cert = Some(cert.into());
        self.tls_key = Some(key.into());
        self
    }

    pub(super) fn apply_to(&self, config: &mut Config) {
        if let Some(addr) = self.listen_addr {
            config.listen.addr = addr;
        }
        if let Some(cert) = &self.tls_cert {
            config.listen.tls_cert = Some(cert.clone());
        }
        if let Some(key) = &self.tls_key {
            config.listen.tls_key = Some(key.clone());
        }
        if let Some(max) = self.max_body_bytes {
            config.limits.max_body_bytes = max;
        }
        if let Some(t) = self.request_timeout {
            config.limits.request_timeout = t;
        }
        if let Some(t) = self.drain_timeout {
            config.limits.drain_timeout = t;
        }
    }
}
