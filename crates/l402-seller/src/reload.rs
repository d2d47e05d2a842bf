//! A new configuration for a running seller (SIGHUP, the admin API's `POST /api/v1/reload`):
//! validated in full first, then put in force for the next request without dropping a
//! connection. A file that does not pass keeps the running configuration and says why.
//!
//! What a reload changes: services, routes, prices, capabilities, token terms, free paths and
//! freebies, client limits, discovery documents, upstreams, limits, the listener's certificate.
//! What needs a restart (refused, nothing changed): `data_dir`, `[backend]`, `[store]`, `[admin]`,
//! `[listen] addr`, and turning listener TLS on or off.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use l402_lightning::LightningBackend;
use l402_server::{Forwarder, Reloader};
use l402_tower::{
    ChallengeObserver, L402Layer, MeterLayer, Paywall, PaywallSettings, RevocationSet,
    SharedKeyRing,
};
use serde_json::Value;
use tower::layer::util::Stack;

use crate::config::SellerConfig;
use crate::config::edit::EditError;
use crate::discovery::Discovery;
use crate::error::SellerError;
use crate::lease;
use crate::mcp::McpToolsLayer;
use crate::metrics::{MetricsLayer, SellerMetrics};
use crate::pricing::{PriceTable, RoutePricer};
use crate::readiness::BackendReadiness;
use crate::seller::SellerOptions;

/// The seller's layer around the forwarder: metrics outermost, then the paywall, the MCP
/// services' priced tool calls, metering, and the token leases as the forwarder's stream
/// deadlines.
pub(crate) type SellerLayer = Stack<
    Stack<Stack<Stack<lease::LeaseDeadlines, MeterLayer>, McpToolsLayer>, L402Layer>,
    MetricsLayer,
>;
/// The service [`SellerLayer`] makes.
pub(crate) type SellerService = <SellerLayer as tower::Layer<Forwarder>>::Service;

/// What a successful reload put in force.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReloadReport {
    /// Services now sold.
    pub services: usize,
    /// Routes now priced, across services.
    pub routes: usize,
    /// Warnings about the new configuration, each starting with `warning:`.
    pub warnings: Vec<String>,
}

/// What every configuration's paywall shares: keys, backend, revocations, the challenge
/// recorder and the metrics.
pub(crate) struct Parts {
    pub(crate) keys: SharedKeyRing,
    pub(crate) backend: Arc<dyn LightningBackend>,
    pub(crate) revocations: RevocationSet,
    pub(crate) observer: ChallengeObserver,
    pub(crate) metrics: Arc<SellerMetrics>,
    pub(crate) node_pubkey: String,
    /// The store, for the `Payment` scheme's secret and single-use ledger.
    pub(crate) store: l402_store::Store,
    /// The backend's network (the `Payment` challenges name it).
    pub(crate) network: l402_core::invoice::Network,
}

/// What one configuration builds on the [`Parts`].
pub(crate) struct Built {
    pub(crate) layer: SellerLayer,
    pub(crate) paywall: Arc<Paywall>,
    pub(crate) readiness: BackendReadiness,
    pub(crate) endpoints: Option<Discovery>,
}

impl Parts {
    /// Builds the layer, readiness and endpoints of `config` (already checked). The paywall
    /// shares `previous`'s run state (freebies, rate-limit buckets, verified cache,
    /// counters). The metrics layer counts into the metrics' slots in force: reconfigure
    /// them for `config` first.
    pub(crate) async fn build(
        &self,
        config: &SellerConfig,
        previous: Option<&Paywall>,
    ) -> Result<Built, SellerError> {
        let prices = PriceTable::new(config)?;
        let discovery = config.l402.discovery.enabled;
        let endpoints = if discovery {
            let upstream = crate::discovery::upstream_documents(config).await;
            Some(Discovery::new(
                config,
                Some(self.node_pubkey.clone()),
                &upstream,
            )?)
        } else {
            None
        };
        let settings = PaywallSettings {
            stream_grace: lease::stream_grace(&config.l402),
            manifest_link: discovery
                .then(|| http::HeaderValue::from_static(l402_discovery::MANIFEST_LINK)),
            ..config.l402.clients.paywall_settings()
        };
        let mut paywall = Paywall::new(
            self.keys.clone(),
            self.backend.clone(),
            self.revocations.clone(),
        )
        .with_settings(settings)
        .with_observer(self.observer.clone());
        if let Some(previous) = previous {
            paywall = paywall.sharing_state_with(previous);
        }
        let mpp = crate::mpp::settings(config, &self.store, self.network).map_err(|source| {
            SellerError::Store {
                what: "loading the Payment challenge secret",
                dir: config.data_dir(),
                source,
            }
        })?;
        if let Some(mpp) = mpp {
            paywall = paywall.with_mpp(mpp);
        }
        if let Some(sessions) =
            crate::sessions::StoreSessions::for_config(config, &self.store, self.network)
        {
            paywall = paywall.with_sessions(Arc::new(sessions));
        }
        let paywall = Arc::new(paywall);
        let prices = Arc::new(prices);
        let layer = Stack::new(
            Stack::new(
                Stack::new(
                    Stack::new(lease::LeaseDeadlines, MeterLayer),
                    McpToolsLayer::new(paywall.clone(), prices.clone()),
                ),
                L402Layer::new(paywall.clone(), RoutePricer::shared(prices)),
            ),
            MetricsLayer::new(self.metrics.clone()),
        );
        let readiness = BackendReadiness {
            backend: self.backend.clone(),
            name: config.l402.backend.kind.as_str().to_owned(),
        };
        Ok(Built {
            layer,
            paywall,
            readiness,
            endpoints,
        })
    }
}

/// Where the configuration came from, to read it again.
pub(crate) struct Source {
    pub(crate) options: SellerOptions,
    /// The sample API's address in zero-config mode.
    pub(crate) sample: Option<SocketAddr>,
}

/// A running seller's means to take a new configuration.
pub(crate) struct Reload {
    parts: Parts,
    reloader: Reloader<SellerService>,
    source: Mutex<Option<Source>>,
    /// What is in force; held for a whole reload, so reloads run one at a time.
    in_force: tokio::sync::Mutex<InForce>,
    /// The admin API's view of the services (shared with the admin listener).
    services_doc: Arc<RwLock<Value>>,
}

/// The configuration in force and the paywall built from it.
struct InForce {
    config: SellerConfig,
    paywall: Arc<Paywall>,
}

impl Reload {
    pub(crate) fn new(
        parts: Parts,
        reloader: Reloader<SellerService>,
        config: SellerConfig,
        paywall: Arc<Paywall>,
        services_doc: Arc<RwLock<Value>>,
    ) -> Self {
        Self {
            parts,
            reloader,
            source: Mutex::new(None),
            in_force: tokio::sync::Mutex::new(InForce { config, paywall }),
            services_doc,
        }
    }

    /// Remembers where the configuration came from, for [`Reload::reread_source`].
    pub(crate) fn set_source(&self, source: Source) {
        *self.source.lock().unwrap_or_else(PoisonError::into_inner) = Some(source);
    }

    /// Reads the configuration again from where it came from (the file, with the same
    /// command-line overrides) and applies it.
    pub(crate) async fn reread_source(&self) -> Result<ReloadReport, SellerError> {
        let config = {
            let source = self.source.lock().unwrap_or_else(PoisonError::into_inner);
            let source = source.as_ref().ok_or(SellerError::NoSource)?;
            source.options.load(
                source
                    .sample
                    .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 1))),
            )?
        };
        self.apply(config).await
    }

    /// Checks `config` in full, refuses changes only a restart can make, then puts it in
    /// force. On any error the running configuration stays.
    pub(crate) async fn apply(&self, config: SellerConfig) -> Result<ReloadReport, SellerError> {
        let mut in_force = self.in_force.lock().await;
        self.apply_locked(&mut in_force, config).await
    }

    /// Changes the configuration file's text with `edit`, loads the result as the file (with
    /// the same overrides) and applies it; only once it is in force is the file replaced
    /// (atomically, keeping its permissions). A change that does not pass leaves both the file
    /// and the running configuration as they were.
    pub(crate) async fn edit_file(
        &self,
        edit: impl FnOnce(&str) -> Result<String, EditError>,
    ) -> Result<ReloadReport, SellerError> {
        let mut in_force = self.in_force.lock().await;
        let (path, overrides) = {
            let source = self.source.lock().unwrap_or_else(PoisonError::into_inner);
            let options = &source.as_ref().ok_or(SellerError::NoSource)?.options;
            let path = options.config_file.clone().ok_or(SellerError::NoSource)?;
            (path, options.overrides())
        };
        let write_error = |source| SellerError::WriteConfig {
            path: path.clone(),
            source,
        };
        let text = std::fs::read_to_string(&path).map_err(write_error)?;
        let changed = edit(&text).map_err(SellerError::Edit)?;
        let mut config = SellerConfig::load_text(&changed, &path)?;
        config.apply(&overrides);
        let old = in_force.config.clone();
        let report = self.apply_locked(&mut in_force, config).await?;
        if let Err(e) = replace_file(&path, &changed) {
            // The file could not take the change: go back to what it says.
            let _ = self.apply_locked(&mut in_force, old).await;
            return Err(write_error(e));
        }
        Ok(report)
    }

    /// Puts `config` in force over `in_force` (whose lock the caller holds).
    async fn apply_locked(
        &self,
        in_force: &mut InForce,
        config: SellerConfig,
    ) -> Result<ReloadReport, SellerError> {
        let warnings = crate::seller::checked_warnings(&config).await?;
        let old = &in_force.config;
        needs_restart(old, &config).map_err(SellerError::NeedsRestart)?;
        let metrics = &self.parts.metrics;
        metrics.reconfigure(&config);
        let built = match self.parts.build(&config, Some(&in_force.paywall)).await {
            Ok(built) => built,
            Err(e) => {
                metrics.reconfigure(old);
                return Err(e);
            }
        };
        let Built {
            layer,
            paywall,
            readiness,
            endpoints,
        } = built;
        let endpoints = endpoints.map(|e| Arc::new(e) as Arc<dyn l402_server::LocalEndpoints>);
        if let Err(e) = self
            .reloader
            .reload(&config.proxy, layer, readiness, endpoints)
        {
            metrics.reconfigure(old);
            return Err(SellerError::Reload(e));
        }
        metrics.read_paywall(&paywall);
        *self
            .services_doc
            .write()
            .unwrap_or_else(PoisonError::into_inner) = crate::admin::api::services_json(&config);
        let report = ReloadReport {
            services: config.proxy.services.len(),
            routes: config.proxy.services.iter().map(|s| s.routes.len()).sum(),
            warnings,
        };
        *in_force = InForce { config, paywall };
        tracing::info!(
            services = report.services,
            routes = report.routes,
            "reloaded the configuration"
        );
        Ok(report)
    }
}

/// Writes `text` to a temporary file beside `path` with `path`'s permissions, then renames it
/// over `path` (readers see the old file or the new one, never half of it).
fn replace_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.l402-edit-{}", std::process::id()));
    let permissions = std::fs::metadata(path)?.permissions();
    let written = std::fs::write(&temp, text)
        .and_then(|()| std::fs::set_permissions(&temp, permissions))
        .and_then(|()| std::fs::File::open(&temp)?.sync_all())
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// The first of the seller's own settings that differs between `running` and `next` and only a
/// restart can change.
fn needs_restart(running: &SellerConfig, next: &SellerConfig) -> Result<(), &'static str> {
    if running.data_dir() != next.data_dir() {
        return Err("data_dir");
    }
    if running.l402.backend != next.l402.backend {
        return Err("[backend]");
    }
    if running.l402.store != next.l402.store {
        return Err("[store]");
    }
    if running.l402.admin != next.l402.admin {
        return Err("[admin]");
    }
    // `[listen] addr` and TLS on or off: the proxy's reloader refuses those itself.
    Ok(())
}
