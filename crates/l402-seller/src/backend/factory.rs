//! Builds the Lightning backend `[backend]` selects, and checks it answers (preflight) so a
//! wrong URL or credential fails at start with what to fix. Each kind is one arm; credentials
//! come from files or the environment, never from visible command-line arguments.

use std::path::Path;
use std::sync::Arc;

use l402_core::invoice::Network;
use l402_lightning::LightningBackend;
use l402_lightning::dev::{self, DevWallet};
use l402_server::config::SecretSource;

use super::{BackendConfig, BackendKind};

type Source = Box<dyn std::error::Error + Send + Sync>;

/// Why the backend `[backend]` selects could not be built or did not pass its preflight.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendSetupError {
    /// The `[backend]` settings cannot be used: a missing section, an unreadable or malformed
    /// credential, or a credential the backend refused. The message names the key to fix.
    #[error("{message}")]
    Invalid {
        /// What is wrong, naming the section and key.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Source>,
    },
    /// The backend could not be opened or reached, or did not answer in time.
    #[error("{message}")]
    Unavailable {
        /// What failed, naming the backend and where it was looked for.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Source>,
    },
}

impl BackendSetupError {
    /// True when the configuration must change (exit code 2 in the binary).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Invalid { .. })
    }
}

fn invalid(message: impl Into<String>) -> BackendSetupError {
    BackendSetupError::Invalid {
        message: message.into(),
        source: None,
    }
}

fn invalid_because(message: impl Into<String>, source: impl Into<Source>) -> BackendSetupError {
    BackendSetupError::Invalid {
        message: message.into(),
        source: Some(source.into()),
    }
}

fn unavailable(message: impl Into<String>) -> BackendSetupError {
    BackendSetupError::Unavailable {
        message: message.into(),
        source: None,
    }
}

fn unavailable_because(message: impl Into<String>, source: impl Into<Source>) -> BackendSetupError {
    BackendSetupError::Unavailable {
        message: message.into(),
        source: Some(source.into()),
    }
}

/// The backend and what must live as long as it.
pub struct SelectedBackend {
    /// The backend.
    pub backend: Arc<dyn LightningBackend>,
    /// The embedded dev wallet's loopback API, when it runs inside this process.
    pub wallet_server: Option<dev::http::DevWalletServer>,
    /// The dev wallet's API URL, for the dev-mode banner; `None` for a real backend (which
    /// must never be confused with it).
    pub dev_wallet_url: Option<String>,
    /// Things the operator should know (an admin key where an invoice key is enough).
    pub warnings: Vec<String>,
}

impl SelectedBackend {
    fn real(backend: Arc<dyn LightningBackend>) -> Self {
        Self {
            backend,
            wallet_server: None,
            dev_wallet_url: None,
            warnings: Vec::new(),
        }
    }
}

/// Builds the backend `config` selects and checks that it answers.
pub async fn select(
    config: &BackendConfig,
    data_dir: &Path,
) -> Result<SelectedBackend, BackendSetupError> {
    match config.kind {
        BackendKind::Dev => dev_backend(config, data_dir).await,
        BackendKind::Lnbits => lnbits_backend(config).await,
        BackendKind::Lnd => lnd_backend(config),
        BackendKind::Nwc => nwc_backend(config).await,
        BackendKind::Cln => cln_backend(config).await,
    }
}

async fn dev_backend(
    config: &BackendConfig,
    data_dir: &Path,
) -> Result<SelectedBackend, BackendSetupError> {
    let dev_config = config.dev.clone().unwrap_or_default();
    if let Some(file) = dev_config.connection_file {
        let info = dev::read_connection_file_at(&file).map_err(|e| {
            unavailable_because(
                format!("reading the dev wallet connection file {}", file.display()),
                e,
            )
        })?;
        let client = dev::DevWalletClient::from_connection(&info)
            .map_err(|e| unavailable_because("connecting to the dev wallet", e))?;
        return Ok(SelectedBackend {
            backend: Arc::new(client),
            wallet_server: None,
            dev_wallet_url: Some(info.url),
            warnings: Vec::new(),
        });
    }
    let wallet = Arc::new(
        DevWallet::open(data_dir.join("dev-wallet"), Network::Regtest)
            .map_err(|e| unavailable_because("opening the dev wallet", e))?,
    );
    let server = start_wallet_api(
        wallet.clone(),
        data_dir,
        dev_config.wallet_port.unwrap_or(0),
    )
    .await?;
    Ok(SelectedBackend {
        backend: wallet,
        dev_wallet_url: Some(server.url()),
        wallet_server: Some(server),
        warnings: Vec::new(),
    })
}

/// Serves `wallet`'s loopback API and writes the connection file `l402 fetch` reads. A token
/// already in that file is kept, so a restarted wallet is reachable by the clients that knew it.
pub async fn start_wallet_api(
    wallet: Arc<DevWallet>,
    data_dir: &std::path::Path,
    port: u16,
) -> Result<dev::http::DevWalletServer, BackendSetupError> {
    let token = dev::read_connection_file(data_dir)
        .map(|info| info.access_token)
        .unwrap_or_else(|_| dev::generate_access_token());
    let server = dev::http::serve_loopback(wallet, token.clone(), port)
        .await
        .map_err(|e| {
            unavailable_because(
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
    .map_err(|e| unavailable_because("writing the dev wallet connection file", e))?;
    Ok(server)
}

/// `[backend.lnd]`: over REST when `rest_address` is set, else over gRPC at `address`; TLS
/// pinned to `tls_cert_path`, authenticated with `macaroon_path` (an `invoice.macaroon` is
/// enough).
fn lnd_backend(config: &BackendConfig) -> Result<SelectedBackend, BackendSetupError> {
    use l402_lightning::lnd::{CredentialSource, LndConfig, LndGrpc, LndRest};
    let lnd = config
        .lnd
        .as_ref()
        .ok_or_else(|| invalid("`kind = \"lnd\"` needs a `[backend.lnd]` section"))?;
    // Text credentials: PEM stays bytes; otherwise hex if it is hex, else base64.
    let text_source = |key: &str, source: &SecretSource| {
        let text = source
            .resolve()
            .map_err(|e| invalid_because(format!("[backend.lnd] {key}"), e))?;
        let text = text.trim();
        Ok::<_, BackendSetupError>(if text.starts_with("-----BEGIN") {
            CredentialSource::Bytes(text.as_bytes().to_vec())
        } else if text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            CredentialSource::Hex(text.to_owned())
        } else {
            CredentialSource::Base64(text.to_owned())
        })
    };
    let tls_cert = match (&lnd.tls_cert_path, &lnd.tls_cert) {
        (Some(path), _) => Some(CredentialSource::Path(path.clone())),
        (None, Some(source)) => Some(text_source("tls_cert", source)?),
        (None, None) => None,
    };
    let macaroon = match (&lnd.macaroon_path, &lnd.macaroon) {
        (Some(path), _) => CredentialSource::Path(path.clone()),
        (None, Some(source)) => text_source("macaroon", source)?,
        (None, None) => {
            return Err(invalid("[backend.lnd] needs `macaroon_path` or `macaroon`"));
        }
    };
    let lnd_config = |address: &str| LndConfig::new(address, tls_cert.clone(), macaroon.clone());
    let bad = |e: l402_lightning::lnd::LndSetupError| invalid_because("[backend.lnd]", e);
    let backend: Arc<dyn LightningBackend> = match lnd.rest_address.as_deref() {
        Some(rest) => Arc::new(LndRest::new(lnd_config(rest)).map_err(bad)?),
        None => Arc::new(LndGrpc::new(lnd_config(&lnd.address)).map_err(bad)?),
    };
    Ok(SelectedBackend::real(backend))
}

/// `[backend.lnbits]`: the seller's LNbits wallet through its invoice/read key (the proxy never
/// pays, so it never needs the admin key). Checks the URL and key before the proxy starts, so a
/// wrong one fails at once with what to fix.
async fn lnbits_backend(config: &BackendConfig) -> Result<SelectedBackend, BackendSetupError> {
    use l402_lightning::BackendError;
    use l402_lightning::lnbits::LnbitsBackend;

    let Some(c) = &config.lnbits else {
        return Err(invalid(
            "backend kind \"lnbits\" needs a [backend.lnbits] section with `url` and `api_key`",
        ));
    };
    let key = c
        .api_key
        .resolve()
        .map_err(|e| invalid_because("[backend.lnbits] api_key", e))?;
    let backend = LnbitsBackend::new(&c.url, &key, None)
        .map_err(|e| invalid_because("[backend.lnbits]", e))?;
    let url = backend.base_url().to_owned();
    match tokio::time::timeout(std::time::Duration::from_secs(10), backend.node_info()).await {
        Ok(Ok(_)) => {}
        Ok(Err(BackendError::Unauthorized)) => {
            return Err(invalid(format!(
                "lnbits backend: LNbits at {url} rejected the API key from [backend.lnbits] \
                     api_key. Check that it is the invoice/read key of the wallet that should \
                     receive the payments (LNbits: open the wallet, \"API info\"), that the \
                     wallet still exists, and that `url` points at that LNbits instance"
            )));
        }
        Ok(Err(e)) => {
            return Err(unavailable_because(
                format!("lnbits backend: cannot use LNbits at {url} ([backend.lnbits] url)"),
                e,
            ));
        }
        Err(_) => {
            return Err(unavailable(format!(
                "lnbits backend: LNbits at {url} ([backend.lnbits] url) did not answer within \
                 10s; check that it is running and reachable from here"
            )));
        }
    }
    let admin_key = matches!(backend.invoice_key_is_admin_key().await, Ok(true));
    let mut selected = SelectedBackend::real(Arc::new(backend));
    if admin_key {
        selected.warnings.push(
            "[backend.lnbits] api_key is the wallet's admin key, which can spend its balance; \
             the proxy needs only the invoice/read key"
                .to_owned(),
        );
    }
    Ok(selected)
}

/// `[backend.nwc]`: a Nostr Wallet Connect wallet through the connection URI in `uri` (inline,
/// `{ env = "…" }` or `{ file = "…" }`; it holds the connection's secret and is never printed).
/// Connects and asks the wallet for its info before the proxy starts, so a wrong URI, a dead
/// relay or a silent wallet fails at once with what to fix.
async fn nwc_backend(config: &BackendConfig) -> Result<SelectedBackend, BackendSetupError> {
    use l402_lightning::BackendError;
    use l402_lightning::nwc::NwcBackend;

    let Some(c) = &config.nwc else {
        return Err(invalid(
            "backend kind \"nwc\" needs a [backend.nwc] section with `uri` \
             (e.g. uri = { env = \"L402_NWC_URI\" })",
        ));
    };
    let uri = c
        .uri
        .resolve()
        .map_err(|e| invalid_because("[backend.nwc] uri", e))?;
    let backend = NwcBackend::new(&uri).map_err(|e| invalid_because("[backend.nwc] uri", e))?;
    let relay = backend.relay_url().to_owned();
    match backend.node_info().await {
        Ok(_) => {}
        Err(BackendError::Unauthorized) => {
            return Err(invalid(format!(
                "nwc backend: the wallet service behind [backend.nwc] uri (relay {relay}) \
                     refused this connection; the connection may have been deleted in the \
                     wallet, or lack the get_info/make_invoice/lookup_invoice permissions"
            )));
        }
        Err(BackendError::Timeout) => {
            return Err(unavailable(format!(
                "nwc backend: the wallet service did not answer through relay {relay} within \
                 {}s; check that the wallet (e.g. Alby Hub) is running and connected to that \
                 relay",
                l402_lightning::nwc::DEFAULT_REQUEST_TIMEOUT.as_secs()
            )));
        }
        Err(e) => {
            return Err(unavailable_because(
                format!(
                    "nwc backend: cannot use the wallet behind [backend.nwc] uri (relay {relay})"
                ),
                e,
            ));
        }
    }
    Ok(SelectedBackend::real(Arc::new(backend)))
}

/// `[backend.cln]`: Core Lightning through CLNRest at `rest_url`, authorized by `rune` (a seller
/// rune allowing getinfo, invoice, listinvoices and waitanyinvoice is enough), TLS trusting CLN's
/// `ca.pem` at `rest_ca_cert_path`. Asks the node for its info before the proxy starts, so an
/// unreachable CLNRest or a refused rune fails at once with what to check.
async fn cln_backend(config: &BackendConfig) -> Result<SelectedBackend, BackendSetupError> {
    use l402_lightning::BackendError;
    use l402_lightning::cln::{ClnConfig, ClnRest, PinnedCa, Rune};

    let Some(c) = &config.cln else {
        return Err(invalid(
            "backend kind \"cln\" needs a [backend.cln] section with `rest_url` and `rune`",
        ));
    };
    let Some(url) = c.rest_url.as_deref() else {
        return Err(invalid(
            "[backend.cln]: this build talks to Core Lightning through CLNRest only; set \
             `rest_url` (and `rune`, `rest_ca_cert_path`) instead of `grpc_address` or \
             `rpc_socket_path`",
        ));
    };
    let bad = |what: &str, e: Source| invalid_because(format!("[backend.cln] {what}"), e);
    let rune = c
        .rune
        .as_ref()
        .ok_or_else(|| invalid("[backend.cln] rune: required with `rest_url`"))?
        .resolve()
        .map_err(|e| bad("rune", e.into()))?;
    let rune = Rune::new(rune).map_err(|e| bad("rune", e.into()))?;
    let ca = c
        .rest_ca_cert_path
        .as_ref()
        .map(PinnedCa::load)
        .transpose()
        .map_err(|e| bad("rest_ca_cert_path", e.into()))?;
    let backend =
        ClnRest::new(ClnConfig::new(url, rune, ca)).map_err(|e| bad("rest_url", e.into()))?;
    let url = backend.url().to_owned();
    match tokio::time::timeout(std::time::Duration::from_secs(10), backend.node_info()).await {
        Ok(Ok(_)) => {}
        Ok(Err(BackendError::Unauthorized)) => {
            return Err(invalid(format!(
                "cln backend: CLNRest at {url} refused the rune from [backend.cln] rune. \
                     Check that it is a rune of this node (`lightning-cli showrunes`) that allows \
                     getinfo, invoice, listinvoices and waitanyinvoice"
            )));
        }
        Ok(Err(e @ BackendError::Unreachable { .. })) => {
            // The error names the URL and carries the hint (plugin options, TLS and CA).
            return Err(unavailable_because(
                "cln backend ([backend.cln] rest_url)",
                e,
            ));
        }
        Ok(Err(e)) => {
            return Err(unavailable_because(
                format!("cln backend: cannot use CLNRest at {url} ([backend.cln] rest_url)"),
                e,
            ));
        }
        Err(_) => {
            return Err(unavailable(format!(
                "cln backend: CLNRest at {url} ([backend.cln] rest_url) did not answer getinfo \
                 within 10s; check that lightningd is running and reachable from here"
            )));
        }
    }
    Ok(SelectedBackend::real(Arc::new(backend)))
}
