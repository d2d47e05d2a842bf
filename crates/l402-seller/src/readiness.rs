//! `/readyz` includes the Lightning backend: ready only while it answers.

use std::sync::Arc;
use std::time::Duration;

use l402_lightning::LightningBackend;
use l402_server::health::{BoxFuture, CheckResult, Readiness, ReadinessCheck};

/// Checks the backend with `node_info`, bounded by two seconds.
pub(crate) struct BackendReadiness {
    /// The backend.
    pub(crate) backend: Arc<dyn LightningBackend>,
    /// Its name for the report.
    pub(crate) name: String,
}

impl ReadinessCheck for BackendReadiness {
    fn check(&self) -> BoxFuture<'_, Readiness> {
        Box::pin(async move {
            let result =
                tokio::time::timeout(Duration::from_secs(2), self.backend.node_info()).await;
            // `/readyz` is public: it says whether the backend answers, not where it is or what
            // it said (that goes to the log).
            let (ok, detail) = match result {
                Ok(Ok(info)) => (true, format!("{} on {}", self.name, info.network)),
                Ok(Err(e)) => {
                    tracing::warn!(backend = %self.name, error = %e, "readiness: the Lightning backend failed");
                    (false, format!("{}: backend unavailable", self.name))
                }
                Err(_) => {
                    tracing::warn!(backend = %self.name, "readiness: the Lightning backend did not answer within 2s");
                    (
                        false,
                        format!("{}: backend unavailable (no answer within 2s)", self.name),
                    )
                }
            };
            Readiness::from_checks(vec![CheckResult {
                name: "lightning".into(),
                ok,
                detail: Some(detail),
            }])
        })
    }
}
