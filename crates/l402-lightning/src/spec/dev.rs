//! `[<section>.dev]`: the embedded development wallet (regtest).
//!
//! A seller without `connection_file` runs the wallet in its own process and serves its
//! loopback API (so `l402 fetch` can pay it); with `connection_file`, and always for a buyer,
//! the wallet is reached through the connection file the running wallet wrote
//! (`<data_dir>/dev-wallet.json` by default).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::kind::Kind;
use super::{Context, Findings, Role};

/// `[<section>.dev]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevSpec {
    /// The `dev-wallet.json` a running dev wallet (`l402 serve` in dev mode, or
    /// `l402 wallet serve`) wrote. Unset: a seller runs the wallet itself; a buyer reads
    /// `<data_dir>/dev-wallet.json`.
    pub connection_file: Option<PathBuf>,
    /// Port of the embedded wallet's loopback API (seller only; 0 or unset: any free port).
    pub wallet_port: Option<u16>,
}

impl Kind for DevSpec {
    const NAME: &'static str = "dev";

    const DEFAULT: Option<Self> = Some(DevSpec {
        connection_file: None,
        wallet_port: None,
    });

    fn check(&self, role: Role, f: &mut Findings) {
        if role == Role::Pay && self.wallet_port.is_some() {
            f.warn(
                "dev.wallet_port",
                "ignored: a buyer reaches the dev wallet through its connection file",
            );
        }
        if self.connection_file.is_some() && self.wallet_port.is_some() {
            f.warn(
                "dev.wallet_port",
                "ignored with `connection_file`: the wallet runs in another process",
            );
        }
    }

    fn resolve_relative_paths(&mut self, base: &Path) {
        if let Some(p) = self.connection_file.as_mut() {
            l402_secret::resolve_relative_path(p, base);
        }
    }

    fn location(&self, ctx: &Context<'_>) -> String {
        #[cfg(feature = "dev")]
        let default = || crate::dev::connection_file_path(ctx.data_dir);
        #[cfg(not(feature = "dev"))]
        let default = || ctx.data_dir.to_path_buf();
        let file = self.connection_file.clone().unwrap_or_else(default);
        file.display().to_string()
    }
}

#[cfg(feature = "dev")]
mod build {
    use std::path::Path;
    use std::sync::Arc;

    use l402_core::invoice::Network;

    use super::DevSpec;
    use crate::dev::{self, DevWallet, DevWalletClient};
    use crate::spec::kind::{Build, Kind};
    use crate::spec::preflight::Described;
    use crate::spec::{Context, Opened, Role, SetupError};

    impl Build for DevSpec {
        type Backend = DevWalletClient;

        /// The client of a running dev wallet, through its connection file.
        fn backend(&self, _role: Role, ctx: &Context<'_>) -> Result<DevWalletClient, SetupError> {
            let path = self
                .connection_file
                .clone()
                .unwrap_or_else(|| dev::connection_file_path(ctx.data_dir));
            let info = dev::read_connection_file_at(&path).map_err(|e| {
                SetupError::unavailable_because(
                    format!(
                        "no dev wallet at {} ({section}.dev connection_file): is `l402 serve` \
                         (dev mode) or `l402 wallet serve` running with this data directory?",
                        path.display(),
                        section = ctx.section
                    ),
                    e,
                )
            })?;
            DevWalletClient::from_connection(&info)
                .map_err(|e| SetupError::unavailable_because("connecting to the dev wallet", e))
        }

        fn described(&self, _role: Role, ctx: &Context<'_>, _: &DevWalletClient) -> Described {
            let at = self.location(ctx);
            Described {
                label: format!("the dev wallet of {at}"),
                refused: format!(
                    "the dev wallet refused the access token in {at}: restart `l402 wallet serve` \
                     or `l402 serve`, which rewrite it"
                ),
                silent: "check that the process that wrote it is still running",
            }
        }

        /// A seller without `connection_file` runs the wallet in this process and serves its
        /// loopback API; otherwise the running wallet is reached (and preflighted) through its
        /// connection file.
        async fn open(&self, role: Role, ctx: &Context<'_>) -> Result<Opened, SetupError> {
            if role == Role::Pay || self.connection_file.is_some() {
                let client = self.backend(role, ctx)?;
                let url = client.base_url().to_owned();
                crate::spec::preflight::answers(
                    Self::NAME,
                    &client,
                    self.described(role, ctx, &client),
                )
                .await?;
                let mut opened = Opened::real(Arc::new(client));
                opened.dev_wallet_url = Some(url);
                return Ok(opened);
            }
            let wallet = Arc::new(
                DevWallet::open(ctx.data_dir.join("dev-wallet"), Network::Regtest)
                    .map_err(|e| SetupError::unavailable_because("opening the dev wallet", e))?,
            );
            let server =
                start_wallet_api(wallet.clone(), ctx.data_dir, self.wallet_port.unwrap_or(0))
                    .await?;
            let mut opened = Opened::real(wallet);
            opened.dev_wallet_url = Some(server.url());
            opened.embedded = Some(server);
            Ok(opened)
        }
    }

    /// Serves `wallet`'s loopback API and writes the connection file buyers read. A token
    /// already in that file is kept, so a restarted wallet stays reachable by the clients that
    /// knew it.
    pub async fn start_wallet_api(
        wallet: Arc<DevWallet>,
        data_dir: &Path,
        port: u16,
    ) -> Result<dev::http::DevWalletServer, SetupError> {
        let token = dev::read_connection_file(data_dir)
            .map(|info| info.access_token)
            .unwrap_or_else(|_| dev::generate_access_token());
        let server = dev::http::serve_loopback(wallet, token.clone(), port)
            .await
            .map_err(|e| {
                SetupError::unavailable_because(
                    format!("starting the dev wallet's loopback API on port {port}"),
                    e,
                )
            })?;
        dev::write_connection_file(
            data_dir,
            &dev::ConnectionInfo {
                url: server.url(),
                access_token: token,
            },
        )
        .map_err(|e| {
            SetupError::unavailable_because("writing the dev wallet connection file", e)
        })?;
        Ok(server)
    }
}

#[cfg(feature = "dev")]
pub use build::start_wallet_api;
