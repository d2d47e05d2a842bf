//! [`DevWallet`]: the embedded regtest wallet (see the [module docs](super) for the design).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{All, PublicKey, Secp256k1, SecretKey};
use l402_core::invoice::{Network, parse_bolt11};
use l402_core::{Msat, PaymentHash, Preimage};
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use tokio::sync::{Mutex, broadcast};

use super::ledger::{
    InvoiceRecord, InvoiceRecordState, Ledger, LedgerData, PaymentOutcome, PaymentRecord,
};
use super::watch::SettlementHub;
use super::{BACKEND_NAME, DevWalletError, fsutil};
use crate::backend::{
    Balance, CreateInvoice, CreatedInvoice, InvoiceState, LightningBackend, NodeInfo, PayOptions,
    PaymentResult, PaymentState, Settlement,
};
use crate::error::BackendError;
use l402_core::env::now_unix;

/// The alias the dev wallet reports in [`NodeInfo`].
const ALIAS: &str = "l402-dev-wallet";
/// BOLT11 default `min_final_cltv_expiry_delta`; meaningless here, but real nodes expect one.
const MIN_FINAL_CLTV_EXPIRY_DELTA: u64 = 18;

/// A fault the dev wallet pretends to have, for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DevFault {
    /// Behave normally.
    #[default]
    None,
    /// Every call fails with [`BackendError::Unreachable`].
    Down,
    /// Every call sleeps this long first (payments still honour their timeout).
    Slow(Duration),
}

/// The embedded regtest wallet. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct DevWallet {
    data_dir: PathBuf,
    ledger: Ledger,
    /// Serializes this value's ledger transactions so blocking threads do not queue on the file
    /// lock; the file lock is what serializes across values and processes.
    op_lock: Mutex<()>,
    secp: Secp256k1<All>,
    node_key: SecretKey,
    node_pubkey: PublicKey,
    settlements: Arc<SettlementHub>,
    fault: StdMutex<DevFault>,
}

impl fmt::Debug for DevWallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevWallet")
            .field("data_dir", &self.data_dir)
            .field("pubkey", &self.pubkey_hex())
            .field("node_key", &"<redacted>")
            .field("fault", &self.fault())
            .finish()
    }
}

impl DevWallet {
    /// Opens the dev wallet in `data_dir`, creating the directory (mode 0700), a node key and an
    /// empty ledger on first use. Fails for any `network` but regtest. Blocking file IO: call it
    /// at startup or from `spawn_blocking`.
    pub fn open(data_dir: impl Into<PathBuf>, network: Network) -> Result<Self, DevWalletError> {
        if network != Network::Regtest {
            return Err(DevWalletError::WrongNetwork(network));
        }
        let data_dir = data_dir.into();
        fsutil::ensure_private_dir(&data_dir)?;
        let ledger = Ledger::in_dir(&data_dir);
        let key_hex = ledger.transact(
            || LedgerData::new(hex::encode(random_secret_key().secret_bytes())),
            |d| d.node_secret_key.clone(),
        )?;
        let node_key = decode_secret_key(&key_hex).ok_or_else(|| DevWalletError::Corrupt {
            path: ledger.path().to_owned(),
            detail: "node_secret_key is not a valid secp256k1 secret key".into(),
        })?;
        let secp = Secp256k1::new();
        let node_pubkey = PublicKey::from_secret_key(&secp, &node_key);
        Ok(Self {
            data_dir,
            ledger,
            op_lock: Mutex::new(()),
            secp,
            node_key,
            node_pubkey,
            settlements: SettlementHub::new(),
            fault: StdMutex::new(DevFault::None),
        })
    }

    /// The data directory holding the ledger.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The node's compressed public key, lower-case hex (the payee of every invoice it issues).
    pub fn pubkey_hex(&self) -> String {
        hex::encode(self.node_pubkey.serialize())
    }

    /// Injects a fault into every later call (on this value and, through it, its HTTP server).
    pub fn set_fault(&self, fault: DevFault) {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner) = fault;
    }

    /// The fault currently injected.
    pub fn fault(&self) -> DevFault {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Cancels an open invoice (as `lncli cancelinvoice` would). Settled invoices cannot be
    /// canceled.
    pub async fn cancel_invoice(&self, hash: &PaymentHash) -> Result<(), BackendError> {
        self.apply_fault().await?;
        let hash = *hash;
        self.transact(move |l| match l.invoices.get_mut(&hash.to_hex()) {
            None => Err(BackendError::UnknownInvoice(hash)),
            Some(rec) => match rec.state {
                InvoiceRecordState::Settled { .. } => Err(BackendError::AlreadyPaid),
                InvoiceRecordState::Open | InvoiceRecordState::Canceled => {
                    rec.state = InvoiceRecordState::Canceled;
                    Ok(())
                }
            },
        })
        .await?
    }

    async fn apply_fault(&self) -> Result<(), BackendError> {
        match self.fault() {
            DevFault::None => Ok(()),
            DevFault::Down => Err(BackendError::Unreachable {
                backend: BACKEND_NAME.into(),
                address: self.data_dir.display().to_string(),
                detail: "the dev wallet is down (injected fault)".into(),
                source: None,
            }),
            DevFault::Slow(delay) => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
        }
    }

    /// Runs `f` on the ledger under both locks, on a blocking thread, writing back what it
    /// changes.
    async fn transact<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut LedgerData) -> R + Send + 'static,
    ) -> Result<R, BackendError> {
        let ledger = self.ledger.clone();
        let key_hex = hex::encode(self.node_key.secret_bytes());
        self.blocking(move || ledger.transact(|| LedgerData::new(key_hex), f))
            .await
    }

    /// Runs `f` on the ledger as it stands, under both locks, on a blocking thread.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&LedgerData) -> R + Send + 'static,
    ) -> Result<R, BackendError> {
        let ledger = self.ledger.clone();
        self.blocking(move || ledger.read(f)).await
    }

    /// Runs one ledger operation on a blocking thread, holding this value's operation lock.
    async fn blocking<R: Send + 'static>(
        &self,
        op: impl FnOnce() -> Result<R, DevWalletError> + Send + 'static,
    ) -> Result<R, BackendError> {
        let _guard = self.op_lock.lock().await;
        tokio::task::spawn_blocking(op)
            .await
            .map_err(|e| BackendError::Other(format!("dev wallet ledger task failed: {e}")))?
            .map_err(|e| BackendError::Other(format!("dev wallet ledger: {e}")))
    }

    /// Pays `bolt11`: its own amount when `requested` is `None` ([`pay_invoice`]), else
    /// `requested` under the rules of [`pay_amount`].
    ///
    /// [`pay_invoice`]: LightningBackend::pay_invoice
    /// [`pay_amount`]: LightningBackend::pay_amount
    async fn pay(
        &self,
        bolt11: &str,
        requested: Option<Msat>,
    ) -> Result<PaymentResult, BackendError> {
        self.apply_fault().await?;
        let parsed =
            parse_bolt11(bolt11).map_err(|e| BackendError::InvalidInvoice(e.to_string()))?;
        let amount = match (requested, parsed.amount) {
            (Some(requested), _) => {
                crate::pay_checks::amount_to_name(&parsed, requested)?;
                requested
            }
            (None, Some(named)) => named,
            (None, None) => {
                return Err(BackendError::InvalidInvoice(
                    "amountless invoices cannot be paid without an amount (use pay_amount)".into(),
                ));
            }
        };
        if parsed.network != Network::Regtest {
            return Err(BackendError::InvalidInvoice(format!(
                "the invoice is for {}, the dev wallet only pays regtest invoices",
                parsed.network
            )));
        }
        if parsed.payee_pubkey_hex != self.pubkey_hex() {
            // Only invoices of this ledger's node are reachable.
            return Err(BackendError::NoRoute);
        }
        let hash = parsed.payment_hash;
        let now = now_unix();

        let (preimage_hex, settlement) = self
            .transact(move |l| settle(l, &hash, amount, now))
            .await??;
        let preimage = Preimage::from_hex(&preimage_hex).map_err(|_| {
            BackendError::Other("dev wallet ledger holds a malformed preimage".into())
        })?;
        self.settlements.announce(settlement);
        tracing::debug!(payment_hash = %hash, %amount, "dev wallet settled invoice");
        Ok(PaymentResult {
            preimage,
            fee: Msat(0),
            amount,
            payment_hash: hash,
        })
    }
}

/// Settles invoice `hash` with `amount` in the ledger and records the payment; returns the
/// preimage (hex). An amountless invoice (recorded with amount 0) settles with any amount the
/// caller checked to be positive; any other only with its own amount.
fn settle(
    l: &mut LedgerData,
    hash: &PaymentHash,
    amount: Msat,
    now: u64,
) -> Result<(String, Settlement), BackendError> {
    let key = hash.to_hex();
    if let Some(PaymentRecord {
        outcome: PaymentOutcome::Succeeded { .. },
        ..
    }) = l.payments.get(&key)
    {
        return Err(BackendError::AlreadyPaid);
    }
    let Some(rec) = l.invoices.get_mut(&key) else {
        return Err(BackendError::NoRoute);
    };
    let failure = match rec.state {
        InvoiceRecordState::Settled { .. } => return Err(BackendError::AlreadyPaid),
        InvoiceRecordState::Canceled => {
            BackendError::InvalidInvoice("the invoice was canceled".into())
        }
        InvoiceRecordState::Open if now >= rec.expires_at_unix => BackendError::InvoiceExpired,
        InvoiceRecordState::Open if rec.amount_msat != 0 && rec.amount_msat != amount.0 => {
            return Err(BackendError::InvalidInvoice(
                "the amount does not match the issued invoice".into(),
            ));
        }
        InvoiceRecordState::Open => {
            rec.state = InvoiceRecordState::Settled {
                amount_received_msat: amount.0,
                settled_at_unix: now,
            };
            let preimage = rec.preimage.clone();
            l.payments.insert(
                key,
                fee_free_payment(
                    amount,
                    now,
                    PaymentOutcome::Succeeded {
                        preimage: preimage.clone(),
                    },
                ),
            );
            return Ok((
                preimage,
                Settlement {
                    payment_hash: *hash,
                    amount_received: amount,
                    settled_at_unix: now,
                },
            ));
        }
    };
    l.payments.insert(
        key,
        fee_free_payment(
            amount,
            now,
            PaymentOutcome::Failed {
                reason: failure.to_string(),
            },
        ),
    );
    Err(failure)
}

/// The ledger record of a payment of `amount` that ended at `now` with `outcome` (a dev payment
/// never pays a fee).
fn fee_free_payment(amount: Msat, now: u64, outcome: PaymentOutcome) -> PaymentRecord {
    PaymentRecord {
        amount_msat: amount.0,
        fee_msat: 0,
        updated_at_unix: now,
        outcome,
    }
}

#[async_trait]
impl LightningBackend for DevWallet {
    /// An amount of zero issues an amountless invoice, which settles with what its payer sends.
    async fn create_invoice(&self, req: CreateInvoice) -> Result<CreatedInvoice, BackendError> {
        self.apply_fault().await?;
        if req.expiry_secs == 0 {
            return Err(BackendError::InvalidInvoice(
                "the expiry must be at least 1 second".into(),
            ));
        }
        let preimage = Preimage(random_bytes());
        let payment_hash = preimage.payment_hash();
        let now = now_unix();
        let expires_at_unix = now.saturating_add(req.expiry_secs);
        let mut builder = InvoiceBuilder::new(Currency::Regtest)
            .description(req.memo.clone())
            .payment_hash(sha256::Hash::from_byte_array(payment_hash.0))
            .payment_secret(PaymentSecret(random_bytes()))
            .duration_since_epoch(Duration::from_secs(now))
            .min_final_cltv_expiry_delta(MIN_FINAL_CLTV_EXPIRY_DELTA)
            .expiry_time(Duration::from_secs(req.expiry_secs));
        if req.amount.0 > 0 {
            builder = builder.amount_milli_satoshis(req.amount.0);
        }
        let invoice = builder
            .build_signed(|msg| self.secp.sign_ecdsa_recoverable(msg, &self.node_key))
            .map_err(|e| BackendError::InvalidInvoice(e.to_string()))?;
        let bolt11 = invoice.to_string();

        let record = InvoiceRecord {
            bolt11: bolt11.clone(),
            preimage: preimage.to_hex(),
            amount_msat: req.amount.0,
            memo: req.memo,
            created_at_unix: now,
            expires_at_unix,
            state: InvoiceRecordState::Open,
        };
        let ledger = self.ledger.clone();
        self.blocking(move || ledger.append_invoice(payment_hash.to_hex(), record))
            .await?;
        tracing::debug!(%payment_hash, amount = %req.amount, "dev wallet issued invoice");
        Ok(CreatedInvoice {
            bolt11,
            payment_hash,
            expires_at_unix,
        })
    }

    async fn invoice_state(&self, hash: &PaymentHash) -> Result<InvoiceState, BackendError> {
        self.apply_fault().await?;
        let key = hash.to_hex();
        let found = self
            .read(move |l| l.invoices.get(&key).map(|r| (r.state, r.expires_at_unix)))
            .await?;
        let (state, expires_at) = found.ok_or(BackendError::UnknownInvoice(*hash))?;
        Ok(match state {
            InvoiceRecordState::Settled {
                amount_received_msat,
                settled_at_unix,
            } => InvoiceState::Settled {
                amount_received: Msat(amount_received_msat),
                settled_at_unix,
            },
            InvoiceRecordState::Canceled => InvoiceState::Canceled,
            InvoiceRecordState::Open if now_unix() >= expires_at => InvoiceState::Expired,
            InvoiceRecordState::Open => InvoiceState::Open,
        })
    }

    async fn subscribe_settlements(
        &self,
    ) -> Result<Option<broadcast::Receiver<Settlement>>, BackendError> {
        self.apply_fault().await?;
        let rx = self.settlements.subscribe();
        if self.settlements.claim_watch() {
            let hub = Arc::clone(&self.settlements);
            let snapshot = self.read(move |l| hub.mark_settled_seen(l)).await;
            if let Err(e) = snapshot {
                self.settlements.release_watch();
                return Err(e);
            }
            Arc::clone(&self.settlements).spawn_watcher(self.ledger.clone());
        }
        Ok(Some(rx))
    }

    async fn pay_invoice(
        &self,
        bolt11: &str,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        // The fee is always 0, so any `max_fee` is met. A timeout leaves the outcome unknown to
        // the caller (the ledger write may still complete), exactly like a real node.
        tokio::time::timeout(opts.timeout, self.pay(bolt11, None))
            .await
            .map_err(|_| BackendError::Timeout)?
    }

    /// As `pay_invoice`, sending `amount`: an amountless invoice settles with it.
    async fn pay_amount(
        &self,
        bolt11: &str,
        amount: Msat,
        opts: PayOptions,
    ) -> Result<PaymentResult, BackendError> {
        tokio::time::timeout(opts.timeout, self.pay(bolt11, Some(amount)))
            .await
            .map_err(|_| BackendError::Timeout)?
    }

    async fn payment_state(&self, hash: &PaymentHash) -> Result<PaymentState, BackendError> {
        self.apply_fault().await?;
        let key = hash.to_hex();
        let record = self.read(move |l| l.payments.get(&key).cloned()).await?;
        Ok(match record {
            None => PaymentState::Unknown,
            Some(PaymentRecord {
                outcome: PaymentOutcome::Failed { .. },
                ..
            }) => PaymentState::Failed,
            Some(PaymentRecord {
                outcome: PaymentOutcome::Succeeded { preimage },
                fee_msat,
                ..
            }) => PaymentState::Succeeded {
                preimage: Preimage::from_hex(&preimage).map_err(|_| {
                    BackendError::Other("dev wallet ledger holds a malformed preimage".into())
                })?,
                fee: Msat(fee_msat),
            },
        })
    }

    async fn node_info(&self) -> Result<NodeInfo, BackendError> {
        self.apply_fault().await?;
        Ok(NodeInfo {
            network: Network::Regtest,
            alias: ALIAS.into(),
            pubkey_hex: self.pubkey_hex(),
        })
    }

    /// The dev wallet pays from a regtest ledger with no funds to run out of: no limit.
    async fn balance(&self) -> Result<Balance, BackendError> {
        self.apply_fault().await?;
        Ok(Balance { spendable: None })
    }
}

fn random_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    UnwrapErr(SysRng).fill_bytes(&mut b);
    b
}

fn random_secret_key() -> SecretKey {
    loop {
        // Fails only for zero or values >= the curve order (probability ~2^-128).
        if let Ok(k) = SecretKey::from_slice(&random_bytes()) {
            return k;
        }
    }
}

fn decode_secret_key(hex_str: &str) -> Option<SecretKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_str, &mut bytes).ok()?;
    SecretKey::from_slice(&bytes).ok()
}
