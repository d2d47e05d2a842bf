//! Running the (blocking) store on tokio's blocking thread pool.

use l402_store::{Store, StoreError};

use crate::error::ClientError;

/// Runs `f` on a clone of `store` in `spawn_blocking`.
pub(crate) async fn on_store<R, F>(store: &Store, f: F) -> Result<R, ClientError>
where
    R: Send + 'static,
    F: FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| ClientError::Internal(format!("storage task failed: {e}")))?
        .map_err(ClientError::Store)
}
