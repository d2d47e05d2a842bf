//! `/healthz` (the process is up) and `/readyz` (it can serve: pluggable checks, such as the
//! state of a service the application depends on).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed `Send` future, as returned by [`ReadinessCheck::check`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The outcome of one named check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Short name, e.g. `database`.
    pub name: String,
    /// Whether this check passed.
    pub ok: bool,
    /// Optional human-readable detail (must not contain secrets).
    pub detail: Option<String>,
}

/// The answer of a [`ReadinessCheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// True if the proxy can serve traffic (`/readyz` answers 200, otherwise 503).
    pub ready: bool,
    /// The individual checks, listed in the JSON body.
    pub checks: Vec<CheckResult>,
}

impl Readiness {
    /// Ready, with no detail.
    pub fn ready() -> Self {
        Self {
            ready: true,
            checks: Vec::new(),
        }
    }

    /// Ready exactly when every check passed.
    pub fn from_checks(checks: Vec<CheckResult>) -> Self {
        Self {
            ready: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

/// Decides what `/readyz` answers. An application implements it to include what it depends on.
/// A check that takes longer than 5 seconds counts as not ready.
pub trait ReadinessCheck: Send + Sync + 'static {
    /// Runs the checks now.
    fn check(&self) -> BoxFuture<'_, Readiness>;
}

/// A [`ReadinessCheck`] that is always ready.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysReady;

impl ReadinessCheck for AlwaysReady {
    fn check(&self) -> BoxFuture<'_, Readiness> {
        Box::pin(async { Readiness::ready() })
    }
}

impl<T: ReadinessCheck + ?Sized> ReadinessCheck for Arc<T> {
    fn check(&self) -> BoxFuture<'_, Readiness> {
        (**self).check()
    }
}

/// The JSON body for a readiness answer.
pub(crate) fn readiness_json(readiness: &Readiness) -> String {
    use crate::response::json_escape;
    let checks: Vec<String> = readiness
        .checks
        .iter()
        .map(|c| {
            let detail = c
                .detail
                .as_deref()
                .map(|d| format!(",\"detail\":\"{}\"", json_escape(d)))
                .unwrap_or_default();
            format!(
                "{{\"name\":\"{}\",\"ok\":{}{detail}}}",
                json_escape(&c.name),
                c.ok
            )
        })
        .collect();
    format!(
        "{{\"status\":\"{}\",\"checks\":[{}]}}\n",
        if readiness.ready {
            "ready"
        } else {
            "not_ready"
        },
        checks.join(",")
    )
}
