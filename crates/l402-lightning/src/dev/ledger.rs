//! The dev wallet's ledger: node key, invoices and payments in one JSON file, changed only
//! under an exclusive file lock. Blocking IO; the wallet calls it from `spawn_blocking`.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DevWalletError;
use super::fsutil::{lock_file, write_private_atomic};

/// The ledger's file name inside the data directory.
pub const LEDGER_FILE_NAME: &str = "dev-wallet-ledger.json";
/// The lock file's name inside the data directory.
pub const LOCK_FILE_NAME: &str = "dev-wallet-ledger.lock";

const LEDGER_VERSION: u32 = 1;

/// Open invoices this long past their expiry are dropped from the ledger, which keeps it small
/// under floods of unpaid challenges. Their state then reads as unknown.
pub(crate) const PRUNE_AFTER_SECS: u64 = 24 * 3600;

/// Everything the dev wallet persists. Holds secrets: no `Debug`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct LedgerData {
    /// Format version, currently 1.
    pub version: u32,
    /// The node's secp256k1 secret key, hex.
    pub node_secret_key: String,
    /// Invoices by payment hash (hex).
    pub invoices: BTreeMap<String, InvoiceRecord>,
    /// Payments made through this ledger, by payment hash (hex).
    pub payments: BTreeMap<String, PaymentRecord>,
}

/// One issued invoice.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvoiceRecord {
    pub bolt11: String,
    /// The preimage, hex (secret).
    pub preimage: String,
    pub amount_msat: u64,
    pub memo: String,
    pub created_at_unix: u64,
    pub expires_at_unix: u64,
    pub state: InvoiceRecordState,
}

/// Stored invoice state; "expired" is derived from the clock, not stored.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum InvoiceRecordState {
    Open,
    Settled {
        amount_received_msat: u64,
        settled_at_unix: u64,
    },
    Canceled,
}

/// One payment attempt's final outcome.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentRecord {
    pub amount_msat: u64,
    pub fee_msat: u64,
    pub updated_at_unix: u64,
    pub outcome: PaymentOutcome,
}

/// How a payment ended.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum PaymentOutcome {
    /// Paid; the preimage is hex (secret).
    Succeeded { preimage: String },
    /// Failed for good.
    Failed { reason: String },
}

impl LedgerData {
    /// A new, empty ledger for the node key `node_secret_key` (hex).
    pub(crate) fn new(node_secret_key: String) -> Self {
        Self {
            version: LEDGER_VERSION,
            node_secret_key,
            invoices: BTreeMap::new(),
            payments: BTreeMap::new(),
        }
    }

    /// Drops open invoices that expired more than [`PRUNE_AFTER_SECS`] before `now_unix`.
    pub(crate) fn prune(&mut self, now_unix: u64) {
        self.invoices.retain(|_, inv| {
            !(inv.state == InvoiceRecordState::Open
                && inv.expires_at_unix.saturating_add(PRUNE_AFTER_SECS) < now_unix)
        });
    }
}

/// The ledger file of one data directory.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    path: PathBuf,
    lock_path: PathBuf,
}

impl Ledger {
    /// The ledger in `data_dir` (which must exist).
    pub(crate) fn in_dir(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(LEDGER_FILE_NAME),
            lock_path: data_dir.join(LOCK_FILE_NAME),
        }
    }

    /// The ledger file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the ledger under the exclusive file lock and writes the result back
    /// (atomically) if `f` changed it. When no ledger exists yet, `init` makes the first one.
    /// Blocking.
    pub(crate) fn transact<R>(
        &self,
        init: impl FnOnce() -> LedgerData,
        f: impl FnOnce(&mut LedgerData) -> R,
    ) -> Result<R, DevWalletError> {
        let _lock = lock_file(&self.lock_path)?;
        let (original, mut data) = match fs::read(&self.path) {
            Ok(bytes) => (Some(bytes.clone()), self.decode(&bytes)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (None, init()),
            Err(source) => {
                return Err(DevWalletError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let out = f(&mut data);
        let encoded = serde_json::to_vec_pretty(&data).map_err(|e| DevWalletError::Corrupt {
            path: self.path.clone(),
            detail: format!("cannot encode ledger: {}", e.classify_name()),
        })?;
        if original.as_deref() != Some(encoded.as_slice()) {
            write_private_atomic(&self.path, &encoded)?;
        }
        Ok(out)
    }

    /// Reads the ledger without the lock (safe: it is only ever replaced by an atomic rename).
    pub(crate) fn read_unlocked(&self) -> Result<LedgerData, DevWalletError> {
        let bytes = fs::read(&self.path).map_err(|source| DevWalletError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.decode(&bytes)
    }

    fn decode(&self, bytes: &[u8]) -> Result<LedgerData, DevWalletError> {
        // Report only where and what kind of error: serde messages can quote file content,
        // and this file holds secrets.
        let data: LedgerData =
            serde_json::from_slice(bytes).map_err(|e| DevWalletError::Corrupt {
                path: self.path.clone(),
                detail: format!(
                    "{} error at line {} column {}",
                    e.classify_name(),
                    e.line(),
                    e.column()
                ),
            })?;
        if data.version != LEDGER_VERSION {
            return Err(DevWalletError::Corrupt {
                path: self.path.clone(),
                detail: format!(
                    "unsupported ledger version {} (expected {LEDGER_VERSION})",
                    data.version
                ),
            });
        }
        Ok(data)
    }
}

/// A short name for a serde_json error category.
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "unexpected end of file",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(expires_at_unix: u64, state: InvoiceRecordState) -> InvoiceRecord {
        InvoiceRecord {
            bolt11: "lnbcrt1".into(),
            preimage: "00".repeat(32),
            amount_msat: 1000,
            memo: String::new(),
            created_at_unix: 0,
            expires_at_unix,
            state,
        }
    }

    #[test]
    fn transact_creates_persists_and_skips_unchanged_writes() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_dir(dir.path());
        ledger
            .transact(
                || LedgerData::new("ab".repeat(32)),
                |d| {
                    d.invoices
                        .insert("h".into(), invoice(10, InvoiceRecordState::Open));
                },
            )
            .unwrap();
        let modified = fs::metadata(ledger.path()).unwrap().modified().unwrap();
        let seen = ledger
            .transact(
                || panic!("ledger exists"),
                |d| (d.node_secret_key.clone(), d.invoices.len()),
            )
            .unwrap();
        assert_eq!(seen, ("ab".repeat(32), 1));
        assert_eq!(
            fs::metadata(ledger.path()).unwrap().modified().unwrap(),
            modified
        );
    }

    #[test]
    fn corrupt_ledger_is_reported_without_content_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_dir(dir.path());
        let secret = "{\"version\":1,\"node_secret_key\":\"SECRETSECRET\",\"invoices\":7}";
        fs::write(ledger.path(), secret).unwrap();
        let err = ledger
            .transact(|| LedgerData::new(String::new()), |_| ())
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(matches!(err, DevWalletError::Corrupt { .. }), "{msg}");
        assert!(!msg.contains("SECRET"), "{msg}");
        assert_eq!(fs::read_to_string(ledger.path()).unwrap(), secret);
    }

    #[test]
    fn unknown_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_dir(dir.path());
        let mut data = LedgerData::new("ab".repeat(32));
        data.version = 2;
        fs::write(ledger.path(), serde_json::to_vec(&data).unwrap()).unwrap();
        let err = ledger.transact(|| unreachable!(), |_| ()).err().unwrap();
        assert!(err.to_string().contains("version 2"), "{err}");
    }

    #[test]
    fn prune_drops_only_long_expired_open_invoices() {
        let mut d = LedgerData::new(String::new());
        let now = 10 * PRUNE_AFTER_SECS;
        let old = now - PRUNE_AFTER_SECS - 1;
        d.invoices
            .insert("old-open".into(), invoice(old, InvoiceRecordState::Open));
        d.invoices.insert(
            "old-settled".into(),
            invoice(
                old,
                InvoiceRecordState::Settled {
                    amount_received_msat: 1,
                    settled_at_unix: 1,
                },
            ),
        );
        d.invoices.insert(
            "recent-open".into(),
            invoice(now - 10, InvoiceRecordState::Open),
        );
        d.prune(now);
        let left: Vec<_> = d.invoices.keys().cloned().collect();
        assert_eq!(
            left,
            vec!["old-settled".to_owned(), "recent-open".to_owned()]
        );
    }
}
