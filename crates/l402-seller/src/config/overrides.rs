//! Values from command-line flags and environment variables that win over the file.

use std::net::SocketAddr;
use std::path::PathBuf;

use l402_server::ConfigOverrides;

use super::SellerConfig;
use l402_lightning::spec::BackendKind;

/// Overrides the binary fills from flags and environment variables; `None` keeps the file's
/// value. Apply with [`SellerConfig::apply`], then run [`SellerConfig::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SellerOverrides {
    /// The proxy's keys (`[listen]`, `[limits]`).
    pub proxy: ConfigOverrides,
    /// `data_dir`.
    pub data_dir: Option<PathBuf>,
    /// `[backend] kind`.
    pub backend_kind: Option<BackendKind>,
    /// `[admin] listen`.
    pub admin_listen: Option<SocketAddr>,
}

impl SellerOverrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `[listen] addr`.
    pub fn listen_addr(mut self, addr: SocketAddr) -> Self {
        self.proxy = self.proxy.listen_addr(addr);
        self
    }

    /// Sets `data_dir`.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Sets `[backend] kind`.
    pub fn backend_kind(mut self, kind: BackendKind) -> Self {
        self.backend_kind = Some(kind);
        self
    }

    /// Sets `[admin] listen`.
    pub fn admin_listen(mut self, addr: SocketAddr) -> Self {
        self.admin_listen = Some(addr);
        self
    }

    pub(super) fn apply_to(&self, config: &mut SellerConfig) {
        config.proxy.apply(&self.proxy);
        if let Some(dir) = &self.data_dir {
            config.l402.data_dir = Some(dir.clone());
        }
        if let Some(kind) = self.backend_kind {
            config.l402.backend.kind = kind;
        }
        if let Some(addr) = self.admin_listen {
            config.l402.admin.listen = Some(addr);
        }
    }
}
