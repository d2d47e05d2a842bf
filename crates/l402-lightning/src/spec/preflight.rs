//! The one preflight: ask the backend for its node info, within a bound, and turn each way it
//! can fail into a message that says what to fix.

use std::time::Duration;

use crate::{BackendError, LightningBackend};

use super::SetupError;

/// How long a backend may take to answer the preflight.
pub const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the messages say about one backend.
pub(crate) struct Described {
    /// The backend and where it is, with the key that sets it: "LNbits at https://… ([backend.lnbits] url)".
    pub label: String,
    /// The whole message when the backend refuses the credential: which key, what it must allow.
    pub refused: String,
    /// What to check when it does not answer in time.
    pub silent: &'static str,
}

/// Checks that `backend` (of kind `kind`, which starts every message) answers with its node info within [`PREFLIGHT_TIMEOUT`].
#[allow(dead_code)] // unused when no real backend's feature is on
pub(crate) async fn answers(
    kind: &str,
    backend: &dyn LightningBackend,
    described: Described,
) -> Result<(), SetupError> {
    let Described {
        label,
        refused,
        silent,
    } = described;
    let silent = || {
        SetupError::unavailable(format!(
            "{kind} backend: {label} did not answer within {}s; {silent}",
            PREFLIGHT_TIMEOUT.as_secs()
        ))
    };
    match tokio::time::timeout(PREFLIGHT_TIMEOUT, backend.node_info()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(BackendError::Unauthorized)) => {
            Err(SetupError::invalid(format!("{kind} backend: {refused}")))
        }
        Ok(Err(BackendError::Timeout)) | Err(_) => Err(silent()),
        Ok(Err(e)) => Err(SetupError::unavailable_because(
            format!("{kind} backend: cannot use {label}"),
            e,
        )),
    }
}
