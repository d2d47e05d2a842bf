//! Starts the whole seller in-process: configuration, store, keys, Lightning backend, paywall
//! and proxy (and in zero-config mode the sample API), and stops it again.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use l402_core::invoice::Network;
use l402_core::keys::KeyRing;
use l402_lightning::{LightningBackend, dev};
use l402_server::Server;
use l402_server::config::ConfigWarning;
use l402_store::Store;
use l402_tower::{OsRandom, RevocationSet, SharedKeyRing};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admin::auth::AdminAuth;
use crate::admin::{AdminServer, AdminState};
use crate::config::{ClientRole, SellerConfig, SellerOverrides};
use crate::error::SellerError;
use crate::metrics::{MeteredBackend, SellerMetrics};
use crate::pricing::PriceTable;
use crate::reload::{Parts, Reload, ReloadReport, Source};
use crate::{prune, recorder, refresh};
use l402_core::env::now_unix;
use l402_lightning::spec::{Context, Opened, Role};

/// How often the proxy re-reads revocations and master keys from the store.
const STORE_REFRESH: Duration = Duration::from_secs(2);
/// How long the backend may take to answer its first node-info request.
const NODE_INFO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the challenge recorder may take to write what is queued at shutdown.
const RECORDER_FLUSH: Duration = Duration::from_secs(5);

/// Where the seller's configuration comes from, and what overrides it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SellerOptions {
    /// The configuration file; `None` is zero-config dev mode: the built-in sample API sold
    /// through the embedded dev wallet.
    pub config_file: Option<PathBuf>,
    /// Listen address, overriding `[listen] addr` (port 0 picks a free port).
    pub listen: Option<SocketAddr>,
    /// Data directory, overriding `data_dir`.
    pub data_dir: Option<PathBuf>,
    /// Admin listener address, overriding `[admin] listen` (port 0 picks a free port).
    pub admin_listen: Option<SocketAddr>,
    /// Port for the sample API in zero-config mode (0 or `None`: any free port).
    pub sample_port: Option<u16>,
}

impl SellerOptions {
    /// Zero-config dev mode with no overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the configuration from `path`.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Listens on `addr`.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Serves the admin listener (metrics) on `addr`.
    pub fn admin_listen(mut self, addr: SocketAddr) -> Self {
        self.admin_listen = Some(addr);
        self
    }

    /// Keeps keys, database and dev wallet in `dir`.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    pub(crate) fn overrides(&self) -> SellerOverrides {
        let mut overrides = SellerOverrides::new();
        if let Some(addr) = self.listen {
            overrides = overrides.listen_addr(addr);
        }
        if let Some(dir) = &self.data_dir {
            overrides = overrides.data_dir(dir.clone());
        }
        if let Some(addr) = self.admin_listen {
            overrides = overrides.admin_listen(addr);
        }
        overrides
    }

    /// Loads the file (or the zero-config setup selling `sample`) and applies the overrides.
    pub(crate) fn load(&self, sample: SocketAddr) -> Result<SellerConfig, SellerError> {
        let mut config = match &self.config_file {
            Some(path) => SellerConfig::load(path)?,
            None => SellerConfig::zero_config(sample)?,
        };
        config.apply(&self.overrides());
        Ok(config)
    }
}

/// What [`Seller::check`] found acceptable.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckReport {
    /// The file checked, or `None` for the built-in zero-config setup.
    pub config_file: Option<PathBuf>,
    /// Accepted, but worth telling the operator.
    pub warnings: Vec<ConfigWarning>,
}

/// The L402 seller: a paywalled reverse proxy in this process.
#[derive(Debug, Clone, Copy)]
pub struct Seller;

impl Seller {
    /// Validates the configuration the options select (`l402 serve --check`) without starting
    /// anything.
    /// Fetches the services' OpenAPI documents when configured (see [`crate::openapi`]).
    pub async fn check(options: &SellerOptions) -> Result<CheckReport, SellerError> {
        let config = options.load(SocketAddr::from(([127, 0, 0, 1], 1)))?;
        let mut warnings = config.check()?;
        // Zero-config: the sample's document is built in (and its address not known here).
        if options.config_file.is_some() {
            warnings.extend(crate::openapi::config_warnings(&config).await);
        }
        Ok(CheckReport {
            config_file: options.config_file.clone(),
            warnings,
        })
    }

    /// Loads the configuration the options select (starting the sample API first in
    /// zero-config mode) and starts the seller; returns once the proxy is listening.
    pub async fn start(options: SellerOptions) -> Result<SellerHandle, SellerError> {
        let sample = match options.config_file {
            Some(_) => None,
            None => {
                let port = options.sample_port.unwrap_or(0);
                let (addr, task) = l402_sample::spawn(SocketAddr::from(([127, 0, 0, 1], port)))
                    .await
                    .map_err(SellerError::Sample)?;
                Some((addr, task))
            }
        };
        let sample_addr = sample.as_ref().map(|(addr, _)| *addr);
        let config = options.load(sample_addr.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 1))));
        let started = match config {
            Ok(config) => Self::start_config(config).await,
            Err(e) => Err(e),
        };
        match started {
            Ok(mut handle) => {
                handle.running.reload.set_source(Source {
                    options,
                    sample: sample_addr,
                });
                handle.sample = sample;
                Ok(handle)
            }
            Err(e) => {
                if let Some((_, task)) = sample {
                    task.abort();
                }
                Err(e)
            }
        }
    }

    /// Starts the seller for an already loaded configuration (checked here); returns once the
    /// proxy is listening.
    pub async fn start_config(config: SellerConfig) -> Result<SellerHandle, SellerError> {
        let mut warnings = checked_warnings(&config).await?;
        // Prices are checked before anything is opened (the paywall builds its own table).
        PriceTable::new(&config)?;
        let data_dir = config.data_dir();
        l402_store::create_private_dir(&data_dir).map_err(|source| SellerError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store_error = |what: &'static str| {
            let dir = data_dir.clone();
            move |source| SellerError::Store { what, dir, source }
        };
        let store_url = config.store_url().map_err(SellerError::StoreUrl)?;
        let store = Store::open_url(&store_url).map_err(store_error("opening the database"))?;
        let keys = store
            .master_keys()
            .load_or_create(&mut OsRandom, now_unix())
            .map_err(store_error("loading the master keys"))?;
        let revocations = RevocationSet::from_ids(
            store
                .revocations()
                .load_set()
                .map_err(store_error("loading the revocations"))?,
        );

        let context = Context {
            section: "backend",
            data_dir: &data_dir,
        };
        let Opened {
            backend,
            embedded: wallet_server,
            dev_wallet_url,
            warnings: backend_warnings,
        } = config.l402.backend.open(Role::Receive, &context).await?;
        warnings.extend(backend_warnings.iter().map(|w| format!("warning: {w}")));
        let dev = dev_wallet_url.is_some();
        let metrics = Arc::new(SellerMetrics::new(
            &config,
            config.l402.backend.kind.as_str(),
        ));
        let backend: Arc<dyn LightningBackend> =
            Arc::new(MeteredBackend::new(backend, metrics.clone()));
        let state = State {
            store,
            keys,
            revocations,
            metrics,
        };
        let started = Running::start(config, backend, dev, state).await;
        match started {
            Ok(running) => Ok(SellerHandle {
                data_dir,
                warnings,
                dev_wallet_url,
                wallet_server,
                sample: None,
                running,
            }),
            Err(e) => {
                if let Some(server) = wallet_server {
                    let _ = dev::remove_connection_file(&data_dir);
                    let _ = server.shutdown().await;
                }
                Err(e)
            }
        }
    }
}

/// Checks `config` in full (as `l402 serve --check` does, the services' OpenAPI documents
/// included) and returns its warnings as the operator reads them.
pub(crate) async fn checked_warnings(config: &SellerConfig) -> Result<Vec<String>, SellerError> {
    let mut warnings: Vec<String> = config.check()?.iter().map(ToString::to_string).collect();
    warnings.extend(
        crate::openapi::config_warnings(config)
            .await
            .iter()
            .map(ToString::to_string),
    );
    Ok(warnings)
}

/// What the seller loaded before starting: store, keys and the metrics to count into.
struct State {
    store: Store,
    keys: KeyRing,
    revocations: RevocationSet,
    metrics: Arc<SellerMetrics>,
}

/// The proxy and the background tasks around the paywall.
struct Running {
    proxy_addr: SocketAddr,
    admin: Option<AdminServer>,
    shutdown: oneshot::Sender<()>,
    proxy: JoinHandle<Result<(), l402_server::ServerError>>,
    recorder: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
    reload: Arc<Reload>,
}

impl Running {
    /// Checks the backend answers (on regtest for the dev wallet), then starts the background
    /// tasks and the proxy with the paywall as its layer.
    async fn start(
        config: SellerConfig,
        backend: Arc<dyn LightningBackend>,
        dev: bool,
        state: State,
    ) -> Result<Self, SellerError> {
        let State {
            store,
            keys,
            revocations,
            metrics,
        } = state;
        let info = tokio::time::timeout(NODE_INFO_TIMEOUT, backend.node_info())
            .await
            .map_err(|_| SellerError::BackendTimeout(NODE_INFO_TIMEOUT.as_secs()))?
            .map_err(SellerError::NodeInfo)?;
        if dev && info.network != Network::Regtest {
            return Err(SellerError::DevOffRegtest(info.network));
        }

        let services_doc = Arc::new(RwLock::new(crate::admin::api::services_json(&config)));
        let (observer, updates, recorder) = recorder::start(store.clone(), metrics.clone());
        let admin_state = match config.l402.admin.listen {
            Some(_) => Some(AdminState {
                auth: AdminAuth::load_or_create(&store, &config.data_dir())
                    .map_err(SellerError::AdminSetup)?,
                store: store.clone(),
                revocations: revocations.clone(),
                metrics: metrics.clone(),
                recorded: updates.downgrade(),
                backend: backend.clone(),
                backend_kind: config.l402.backend.kind.as_str().to_owned(),
                services: services_doc.clone(),
                reload: OnceLock::new(),
                started: std::time::Instant::now(),
                client_role: config.l402.admin.client_ca.as_ref().map(|_| {
                    match config.l402.admin.client_role.unwrap_or_default() {
                        ClientRole::Full => crate::admin::auth::Role::Full,
                        ClientRole::Read => crate::admin::auth::Role::Read,
                    }
                }),
            }),
            None => None,
        };
        let keys = SharedKeyRing::new(keys);
        let refresh = refresh::revocations(store.clone(), revocations.clone(), STORE_REFRESH);
        let key_refresh = refresh::key_ring(store.clone(), keys.clone(), STORE_REFRESH);
        let pruner = prune::expired_unpaid(store.clone(), prune::PRUNE_EVERY);
        let charge_pruner = prune::expired_charges(store.clone(), prune::PRUNE_EVERY);
        let idle_sessions = crate::sessions::close_idle(
            store.clone(),
            backend.clone(),
            info.network,
            crate::sessions::sweep_every(&config),
        );
        let settlements = recorder::watch_settlements(backend.clone(), updates, metrics.clone());
        let abort = || {
            refresh.abort();
            key_refresh.abort();
            pruner.abort();
            charge_pruner.abort();
            idle_sessions.abort();
            settlements.abort();
            recorder.abort();
        };
        let parts = Parts {
            keys,
            backend,
            revocations,
            observer,
            metrics: metrics.clone(),
            node_pubkey: info.pubkey_hex.clone(),
            store: store.clone(),
            network: info.network,
        };
        let built = match parts.build(&config, None).await {
            Ok(built) => built,
            Err(e) => {
                abort();
                return Err(e);
            }
        };
        metrics.read_paywall(&built.paywall);
        let bound = Server::bind(&config.proxy, built.layer, built.readiness)
            .await
            .map(|server| match built.endpoints {
                Some(endpoints) => server.with_endpoints(endpoints),
                None => server,
            })
            .map_err(SellerError::ProxyStart);
        let server = match bound {
            Ok(server) => server,
            Err(e) => {
                abort();
                return Err(e);
            }
        };
        let reload = Arc::new(Reload::new(
            parts,
            server.reloader(),
            config.clone(),
            built.paywall,
            services_doc,
        ));
        let admin_tls = match config.l402.admin.server_tls() {
            Ok(tls) => tls.map(Arc::new),
            Err(e) => {
                abort();
                return Err(SellerError::AdminTls(e));
            }
        };
        let admin = match config.l402.admin.listen.zip(admin_state) {
            Some((addr, state)) => {
                let _ = state.reload.set(Arc::downgrade(&reload));
                match AdminServer::start(addr, state, admin_tls).await {
                    Ok(admin) => Some(admin),
                    Err(source) => {
                        abort();
                        return Err(SellerError::AdminStart { addr, source });
                    }
                }
            }
            None => None,
        };
        let proxy_addr = server.local_addr();
        let (shutdown, rx) = oneshot::channel::<()>();
        let proxy = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Ok(Self {
            proxy_addr,
            admin,
            shutdown,
            proxy,
            recorder,
            background: vec![
                refresh,
                key_refresh,
                settlements,
                pruner,
                charge_pruner,
                idle_sessions,
            ],
            reload,
        })
    }
}

/// A running seller. Stop it with [`SellerHandle::shutdown`]: dropping the handle only starts
/// the proxy's drain, and leaves the background tasks to the end of the runtime.
pub struct SellerHandle {
    data_dir: PathBuf,
    warnings: Vec<String>,
    dev_wallet_url: Option<String>,
    wallet_server: Option<dev::http::DevWalletServer>,
    sample: Option<(SocketAddr, JoinHandle<std::io::Result<()>>)>,
    running: Running,
}

impl std::fmt::Debug for SellerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SellerHandle")
            .field("proxy_addr", &self.running.proxy_addr)
            .field("sample_addr", &self.sample_addr())
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl SellerHandle {
    /// Where the proxy listens.
    pub fn proxy_addr(&self) -> SocketAddr {
        self.running.proxy_addr
    }

    /// Where the admin listener (metrics) listens, when `[admin] listen` is set.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.running.admin.as_ref().map(|admin| admin.addr)
    }

    /// The built-in sample API's address, in zero-config mode.
    pub fn sample_addr(&self) -> Option<SocketAddr> {
        self.sample.as_ref().map(|(addr, _)| *addr)
    }

    /// The data directory (keys, database, dev wallet and its connection file).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The dev wallet's loopback API URL when the backend is the dev wallet (show the dev-mode
    /// banner then); `None` for a real Lightning backend.
    pub fn dev_wallet_url(&self) -> Option<&str> {
        self.dev_wallet_url.as_deref()
    }

    /// Puts `config` in force without dropping a connection, after checking it in full (see
    /// [`ReloadReport`]). A configuration that does not pass, or that changes what only a
    /// restart can (`data_dir`, `[backend]`, `[store]`, `[admin]`, `[listen] addr`, listener TLS on or
    /// off), is refused with the reason and the running configuration stays.
    pub async fn reload(&self, config: SellerConfig) -> Result<ReloadReport, SellerError> {
        self.running.reload.apply(config).await
    }

    /// Reads the configuration again from the file it was started with (with the same
    /// overrides) and applies it as [`SellerHandle::reload`] does: what SIGHUP does.
    pub async fn reload_from_file(&self) -> Result<ReloadReport, SellerError> {
        self.running.reload.reread_source().await
    }

    /// Configuration and backend warnings found at start, each starting with `warning:`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Stops accepting, drains in-flight requests (up to `[limits] drain_timeout`), then stops
    /// the background tasks, the dev wallet's API and the sample API.
    pub async fn shutdown(self) -> Result<(), SellerError> {
        let Self {
            data_dir,
            sample,
            running,
            wallet_server,
            ..
        } = self;
        let _ = running.shutdown.send(());
        // The reload state holds the paywall's challenge recorder queue: gone before the
        // recorder is awaited below.
        drop(running.reload);
        let proxy = running.proxy.await;
        if let Some(admin) = running.admin {
            admin.shutdown().await;
        }
        for task in running.background {
            task.abort();
        }
        // The paywall (and with it the recorder's queue) is gone with the proxy: let the
        // writer finish what is queued.
        let mut recorder = running.recorder;
        if tokio::time::timeout(RECORDER_FLUSH, &mut recorder)
            .await
            .is_err()
        {
            recorder.abort();
        }
        let wallet = match wallet_server {
            Some(server) => {
                let _ = dev::remove_connection_file(&data_dir);
                server.shutdown().await
            }
            None => Ok(()),
        };
        if let Some((_, task)) = sample {
            task.abort();
        }
        proxy
            .map_err(|e| SellerError::Task("proxy", e))?
            .map_err(SellerError::ProxyRun)?;
        wallet.map_err(SellerError::WalletShutdown)
    }
}
