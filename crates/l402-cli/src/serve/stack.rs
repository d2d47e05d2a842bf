//! Starts the whole seller stack: configuration, store, keys, Lightning backend, paywall and
//! proxy (and in zero-config mode the sample API). Used by `l402 serve` and `l402 demo`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use l402_core::invoice::Network;
use l402_lightning::LightningBackend;
use l402_lightning::dev;
use l402_server::{Config, ConfigOverrides, Server};
use l402_store::Store;
use l402_tower::{L402Layer, OsRandom, Paywall, RevocationSet};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::pricing::RoutePricer;
use super::readiness::BackendReadiness;
use super::{backends, recorder, zero_config};
use crate::exit;

/// How often the proxy re-reads revocations from the store.
const REVOCATION_REFRESH: Duration = Duration::from_secs(2);

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Config file; `None` is zero-config dev mode with the sample API.
    pub config: Option<PathBuf>,
    /// Listen address override.
    pub listen: Option<SocketAddr>,
    /// Data directory override.
    pub data_dir: Option<PathBuf>,
    /// Port for the sample API in zero-config mode (0 or `None`: any free port).
    pub sample_port: Option<u16>,
}

/// The running stack.
pub struct Stack {
    /// Where the proxy listens.
    pub proxy_addr: SocketAddr,
    /// The sample API's address, in zero-config mode.
    pub sample_addr: Option<SocketAddr>,
    /// The data directory.
    pub data_dir: PathBuf,
    shutdown: oneshot::Sender<()>,
    proxy: JoinHandle<Result<(), l402_server::ServerError>>,
    wallet_server: Option<dev::http::DevWalletServer>,
    sample: Option<JoinHandle<std::io::Result<()>>>,
}

/// Current Unix time in seconds.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn bad_config(error: impl std::fmt::Display) -> anyhow::Error {
    exit::with_code(
        exit::BAD_INPUT,
        format!(
            "{error}\nhint: run `l402 serve --check --config <file>` after fixing it; every key is documented in crates/l402-server/CONFIG.md"
        ),
    )
}

fn load_config(options: &StackOptions, sample: Option<SocketAddr>) -> anyhow::Result<Config> {
    let mut config = match (&options.config, sample) {
        (Some(path), _) => Config::load(path).map_err(bad_config)?,
        (None, Some(sample)) => {
            Config::from_toml(&zero_config::toml(sample), None).map_err(bad_config)?
        }
        (None, None) => Config::from_toml(
            &zero_config::toml(SocketAddr::from(([127, 0, 0, 1], 1))),
            None,
        )
        .map_err(bad_config)?,
    };
    let mut overrides = ConfigOverrides::new();
    if let Some(addr) = options.listen {
        overrides = overrides.listen_addr(addr);
    }
    if let Some(dir) = &options.data_dir {
        overrides = overrides.data_dir(dir.clone());
    }
    config.apply(&overrides);
    for warning in config.check().map_err(bad_config)? {
        eprintln!("warning: {warning}");
    }
    Ok(config)
}

/// Validates the configuration (`l402 serve --check`); returns what was checked.
pub fn check_config(options: &StackOptions) -> anyhow::Result<String> {
    load_config(options, None)?;
    Ok(options
        .config
        .as_ref()
        .map_or("built-in zero-config".to_owned(), |p| {
            p.display().to_string()
        }))
}

impl Stack {
    /// Starts everything; returns once the proxy is listening.
    pub async fn start(options: StackOptions) -> anyhow::Result<Self> {
        let (sample_addr, sample) = if options.config.is_none() {
            let port = options.sample_port.unwrap_or(0);
            let (addr, task) = l402_sample::spawn(SocketAddr::from(([127, 0, 0, 1], port)))
                .await
                .context("starting the built-in sample API")?;
            (Some(addr), Some(task))
        } else {
            (None, None)
        };
        let config = load_config(&options, sample_addr)?;
        let data_dir = config.data_dir();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;

        let store = Store::open(data_dir.join("l402.db"))
            .with_context(|| format!("opening the database in {}", data_dir.display()))?;
        let keys = store
            .master_keys()
            .load_or_create(&mut OsRandom, now_unix())
            .context("loading the master keys")?;
        let revocations = RevocationSet::from_ids(
            store
                .revocations()
                .load_set()
                .context("loading revocations")?,
        );

        let selected = backends::select(&config.backend, &data_dir).await?;
        let (backend, wallet_server, is_dev) =
            (selected.backend, selected.wallet_server, selected.dev);
        let info = tokio::time::timeout(Duration::from_secs(10), backend.node_info())
            .await
            .map_err(|_| anyhow::anyhow!("the Lightning backend did not answer within 10s"))?
            .context("asking the Lightning backend for its node info")?;
        if is_dev && info.network != Network::Regtest {
            anyhow::bail!(
                "dev mode refuses network {}: it only runs on regtest",
                info.network
            );
        }

        recorder::refresh_revocations(store.clone(), revocations.clone(), REVOCATION_REFRESH);
        let paywall = Paywall::new(keys, backend.clone(), revocations)
            .with_observer(recorder::start(store.clone()));
        recorder::watch_settlements(backend.clone(), store);
        let layer = L402Layer::new(Arc::new(paywall), RoutePricer);
        let readiness = BackendReadiness {
            backend,
            name: config.backend.kind.as_str().to_owned(),
        };
        let server = Server::bind(&config, layer, readiness)
            .await
            .context("starting the proxy")?;
        let proxy_addr = server.local_addr();
        let (shutdown, rx) = oneshot::channel::<()>();
        let proxy = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Ok(Self {
            proxy_addr,
            sample_addr,
            data_dir,
            shutdown,
            proxy,
            wallet_server,
            sample,
        })
    }

    /// Prints where everything listens and how to try it.
    pub fn print_summary(&self) {
        let base = format!("http://{}", self.proxy_addr);
        eprintln!("l402 serve: paywall proxy listening on {base}");
        eprintln!("  data directory: {}", self.data_dir.display());
        if let Some(sample) = self.sample_addr {
            eprintln!("  selling the built-in sample API (upstream {sample}):");
            eprintln!("    POST {base}/api/similarity   5 sat  (cosine similarity)");
            eprintln!("    GET  {base}/api/weather?city=Paris   2 sat");
            eprintln!("    gRPC helloworld.Greeter/SayHello   1 sat");
            eprintln!("  try: l402 fetch '{base}/api/weather?city=Paris'");
        }
        eprintln!("  health: {base}/healthz  readiness: {base}/readyz");
    }

    /// Stops accepting, drains in-flight requests, then stops the helpers.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.proxy.await.context("proxy task")??;
        if let Some(server) = self.wallet_server {
            let _ = dev::remove_connection_file(&self.data_dir);
            server.shutdown().await.context("dev wallet API")?;
        }
        if let Some(sample) = self.sample {
            sample.abort();
        }
        Ok(())
    }
}
