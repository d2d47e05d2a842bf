//! The crypto provider: `ring`, installed as rustls' process default once.

use std::sync::{Arc, Once};

use rustls::crypto::CryptoProvider;

static INSTALL: Once = Once::new();

/// Makes `ring` the process-wide rustls provider, once. If other code installed a provider
/// first, that one is kept (and used by [`provider`]).
pub fn install_default_provider() {
    INSTALL.call_once(|| {
        // Fails only when a provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The provider every configuration of this crate is built with: the process default, after
/// [`install_default_provider`].
pub fn provider() -> Arc<CryptoProvider> {
    install_default_provider();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_a_process_default_once() {
        let first = provider();
        let second = provider();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(CryptoProvider::get_default().is_some());
    }
}
