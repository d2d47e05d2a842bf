//! `[wallet]`: the paying wallet. It is the seller's backend specification
//! ([`l402_lightning::spec::BackendSpec`]) built for [`Role::Pay`], with the buyer's two
//! environment variables as the default home of its credentials.

use std::path::PathBuf;
use std::sync::Arc;

use l402_lightning::error::ErrorSource;
use l402_lightning::spec::{
    BackendKind, BackendSpec, Context, NwcSpec, Role, SecretSource, SetupError,
};
use l402_lightning::{BackendError, LightningBackend};

use super::{ClientConfig, ConfigError};
use crate::error::ClientError;

/// The variable holding the `nostr+walletconnect://` URI of an `nwc` wallet; used when
/// `[wallet.nwc]` is absent, and wins over it when set.
pub const ENV_NWC_URI: &str = "L402_NWC_URI";

/// The variable holding an LNbits wallet's admin key (paying needs it); used when
/// `[wallet.lnbits] api_key` is unset, and wins over it when set.
pub const ENV_LNBITS_ADMIN_KEY: &str = "L402_LNBITS_ADMIN_KEY";

impl ClientConfig {
    /// `[wallet]` with the buyer's defaults filled in: an `nwc` wallet without a table reads
    /// its URI from [`ENV_NWC_URI`], an LNbits wallet without `api_key` its key from
    /// [`ENV_LNBITS_ADMIN_KEY`].
    pub fn wallet_spec(&self) -> BackendSpec {
        let mut spec = self.wallet.clone();
        if spec.kind == BackendKind::Nwc && spec.nwc.is_none() {
            spec.nwc = Some(NwcSpec {
                uri: SecretSource::Env(ENV_NWC_URI.to_owned()),
            });
        }
        if let Some(lnbits) = spec.lnbits.as_mut()
            && lnbits.api_key.is_none()
        {
            lnbits.api_key = Some(SecretSource::Env(ENV_LNBITS_ADMIN_KEY.to_owned()));
        }
        spec
    }

    /// The dev wallet's connection file: `[wallet.dev] connection_file`, or
    /// `<data_dir>/dev-wallet.json`.
    pub fn dev_connection_file(&self) -> Result<PathBuf, ConfigError> {
        match self
            .wallet
            .dev
            .as_ref()
            .and_then(|d| d.connection_file.clone())
        {
            Some(f) => Ok(f),
            None => Ok(l402_lightning::dev::connection_file_path(&self.data_dir()?)),
        }
    }

    /// Builds the configured wallet without contacting it (it is first used when a payment is
    /// due). A wallet that cannot be reached (no dev wallet running) is
    /// [`ClientError::Wallet`] with [`BackendError::Unreachable`]; a section that cannot be
    /// used is [`ClientError::Config`] naming the key.
    pub fn open_wallet(&self) -> Result<Arc<dyn LightningBackend>, ClientError> {
        let data_dir = self.data_dir()?;
        let spec = self.wallet_spec();
        let context = Context {
            section: "wallet",
            data_dir: &data_dir,
        };
        spec.connect(Role::Pay, &context).map_err(|e| match e {
            SetupError::Unavailable { message, source } => {
                ClientError::Wallet(BackendError::Unreachable {
                    backend: spec.kind.as_str().to_owned(),
                    address: spec.location(&context),
                    detail: message,
                    source: source.map(ErrorSource::from_boxed),
                })
            }
            e => ClientError::Config(ConfigError::Wallet(e)),
        })
    }
}
