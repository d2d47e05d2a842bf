//! Starts the whole seller stack: configuration, store, keys, Lightning backend, paywall and
//! proxy (and in zero-config mode the sample API). Used by `l402 serve` and `l402 demo`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use l402_core::invoice::Network;
use l402_lightning::LightningBackend;
use l402_lightning::dev::{self, DevWallet};
use l402_server::config::BackendKind;
use l402_server::{Config, ConfigOverrides, Server};
use l402_store::Store;
use l402_tower::{L402Layer, OsRandom, Paywall, RevocationSet};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::pricing::RoutePricer;
use super::readiness::BackendReadiness;
use super::{recorder, zero_config};
use crate::{banner, exit};

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

/// Serves `wallet`'s loopback API and writes the connection file `l402 fetch` reads. A token
/// already in that file is kept, so a restarted wallet is reachable by the clients that knew it.
pub async fn start_wallet_api(
    wallet: Arc<DevWallet>,
    data_dir: &std::path::Path,
    port: u16,
) -> anyhow::Result<dev::http::DevWalletServer> {
    let token = dev::read_connection_file(data_dir)
        .map(|info| info.access_token)
        .unwrap_or_else(|_| dev::generate_access_token());
    let server = dev::http::serve_loopback(wallet, token.clone(), port)
        .await
        .with_context(|| format!("starting the dev wallet's loopback API on port {port}"))?;
    dev::write_connection_file(
        data_dir,
        &dev::ConnectionInfo {
            url: server.url(),
            access_token: token,
        },
    )
    .context("writing the dev wallet connection file")?;
    Ok(server)
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

        let (backend, dev_wallet, wallet_server): (Arc<dyn LightningBackend>, _, _) =
            match config.backend.kind {
                BackendKind::Dev => match config
                    .backend
                    .dev
                    .as_ref()
                    .and_then(|d| d.connection_file.clone())
                {
                    Some(file) => {
                        let info = dev::read_connection_file_at(&file).with_context(|| {
                            format!("reading the dev wallet connection file {}", file.display())
                        })?;
                        banner::dev_mode(&info.url);
                        let client = dev::DevWalletClient::from_connection(&info)
                            .context("connecting to the dev wallet")?;
                        (Arc::new(client), None, None)
                    }
                    None => {
                        let wallet = Arc::new(
                            DevWallet::open(data_dir.join("dev-wallet"), Network::Regtest)
                                .context("opening the dev wallet")?,
                        );
                        let port = config
                            .backend
                            .dev
                            .as_ref()
                            .and_then(|d| d.wallet_port)
                            .unwrap_or(0);
                        let server = start_wallet_api(wallet.clone(), &data_dir, port).await?;
                        banner::dev_mode(&server.url());
                        (wallet.clone(), Some(wallet), Some(server))
                    }
                },
                other => {
                    return Err(exit::with_code(
                        exit::BAD_INPUT,
                        format!(
                            "backend `{}` is not available in this build yet; use kind = \"dev\"",
                            other.as_str()
                        ),
                    ));
                }
            };
        let info = tokio::time::timeout(Duration::from_secs(10), backend.node_info())
            .await
            .map_err(|_| anyhow::anyhow!("the Lightning backend did not answer within 10s"))?
            .context("asking the Lightning backend for its node info")?;
        if dev_wallet.is_some() && info.network != Network::Regtest {
            anyhow::bail!(
                "dev mode refuses network {}: it only runs on regtest",
                info.network
            );
        }

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
