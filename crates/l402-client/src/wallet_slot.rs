//! The client's wallet, opened when it is first needed: fetching a free page, a dry run, or
//! reading tokens, receipts and budgets never touches it, and a wallet that cannot be opened
//! is reported when a payment is due, before anything is reserved or journaled.

use std::sync::Arc;

use l402_lightning::LightningBackend;

use crate::error::ClientError;

/// Opens a wallet on first use.
pub type WalletOpener =
    Box<dyn Fn() -> Result<Arc<dyn LightningBackend>, ClientError> + Send + Sync>;

/// A wallet given open, or an opener run once on first use.
pub(crate) struct WalletSlot {
    opener: Option<WalletOpener>,
    opened: tokio::sync::OnceCell<Arc<dyn LightningBackend>>,
}

impl WalletSlot {
    /// A wallet that is already open.
    pub(crate) fn open(wallet: Arc<dyn LightningBackend>) -> Self {
        Self {
            opener: None,
            opened: tokio::sync::OnceCell::new_with(Some(wallet)),
        }
    }

    /// A wallet `opener` opens on first use (again on the next use if it failed).
    pub(crate) fn lazy(opener: WalletOpener) -> Self {
        Self {
            opener: Some(opener),
            opened: tokio::sync::OnceCell::new(),
        }
    }

    /// The wallet, opening it now if needed.
    pub(crate) async fn get(&self) -> Result<&Arc<dyn LightningBackend>, ClientError> {
        self.opened
            .get_or_try_init(|| async {
                match &self.opener {
                    Some(open) => open(),
                    None => Err(ClientError::Internal("the wallet slot is empty".into())),
                }
            })
            .await
    }

    /// True once the wallet is open.
    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        self.opened.initialized()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn the_opener_runs_on_first_use_only_and_again_after_a_failure() {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let slot = WalletSlot::lazy(Box::new(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            Err(ClientError::Build("no wallet here".into()))
        }));
        assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing opened before use");
        assert!(!slot.is_open());
        for attempt in 1..=2 {
            let err = slot.get().await.err().unwrap();
            assert!(err.to_string().contains("no wallet here"), "{err}");
            assert_eq!(calls.load(Ordering::SeqCst), attempt);
        }
    }
}
