//! What every backend's section provides to the dispatch in `mod.rs`.

use std::path::Path;
use std::sync::Arc;

use super::preflight::{self, Described};
use super::{Context, Findings, Opened, Role, SetupError};
use crate::LightningBackend;

/// A backend's section. Besides this trait, each section has inherent `connect` and `open`
/// methods behind its backend's feature (see any sibling module).
pub(crate) trait Kind: Sized {
    /// The kind's name in files and messages (`lnd`).
    const NAME: &'static str;

    /// The section used when the table is absent (`dev` has one; the others must be written).
    const DEFAULT: Option<Self> = None;

    /// Checks the values for `role`, with keys under the kind's name (`lnd.address`).
    fn check(&self, role: Role, f: &mut Findings);

    /// Makes relative paths relative to `base`.
    fn resolve_relative_paths(&mut self, base: &Path);

    /// Where the backend is, for messages (never a credential).
    fn location(&self, ctx: &Context<'_>) -> String;
}

/// How a section becomes its backend (behind the backend's feature). `backend` and `described`
/// are each section's own; building without contacting ([`connect`](Build::connect)) and
/// building with the preflight ([`open`](Build::open)) are shared.
#[allow(dead_code)] // unused when no backend feature is on
pub(crate) trait Build: Kind {
    /// The backend this section builds.
    type Backend: LightningBackend + 'static;

    /// Builds the backend for `role` without contacting it.
    fn backend(&self, role: Role, ctx: &Context<'_>) -> Result<Self::Backend, SetupError>;

    /// What the preflight's messages say about this backend.
    fn described(&self, role: Role, ctx: &Context<'_>, backend: &Self::Backend) -> Described;

    /// What the operator should know once the backend answered.
    async fn warnings(
        &self,
        _role: Role,
        _ctx: &Context<'_>,
        _backend: &Self::Backend,
    ) -> Vec<String> {
        Vec::new()
    }

    /// The backend as a trait object, built without contacting it.
    fn connect(
        &self,
        role: Role,
        ctx: &Context<'_>,
    ) -> Result<Arc<dyn LightningBackend>, SetupError> {
        Ok(Arc::new(self.backend(role, ctx)?))
    }

    /// The backend, built and preflighted.
    async fn open(&self, role: Role, ctx: &Context<'_>) -> Result<Opened, SetupError> {
        let backend = self.backend(role, ctx)?;
        preflight::answers(Self::NAME, &backend, self.described(role, ctx, &backend)).await?;
        let warnings = self.warnings(role, ctx, &backend).await;
        let mut opened = Opened::real(Arc::new(backend));
        opened.warnings = warnings;
        Ok(opened)
    }
}
