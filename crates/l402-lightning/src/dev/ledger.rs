//! The dev wallet's ledger: node key, invoices and payments in one JSON file (the snapshot),
//! plus a journal of invoices issued since the snapshot was last written. Both change only under
//! an exclusive file lock. Blocking IO; the wallet calls it from `spawn_blocking`.
//!
//! Where money moves (a settlement, a payment, a cancel) the snapshot is rewritten atomically
//! and fsynced, folding the journal in. Issuing an invoice moves no money: it appends one line
//! to the journal, without fsync and without reading the snapshot, so its cost does not grow
//! with the ledger. A crash can lose the last invoices issued (their buyers cannot have paid
//! them yet through this ledger) or leave a torn last line, which is ignored.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DevWalletError;
use super::fsutil::{lock_file, private_open_options, write_private_atomic};
use l402_core::env::now_unix;

/// The ledger's file name inside the data directory.
pub const LEDGER_FILE_NAME: &str = "dev-wallet-ledger.json";
/// The lock file's name inside the data directory.
pub const LOCK_FILE_NAME: &str = "dev-wallet-ledger.lock";
/// The journal's file name inside the data directory: one JSON object per line, each an
/// invoice issued since the ledger file was last written.
pub const JOURNAL_FILE_NAME: &str = "dev-wallet-invoices.jsonl";

/// A journal this large, or as large as the snapshot if that is larger, is folded into the
/// snapshot by the append that reaches it. Readers then replay at most about as much as they
/// parse anyway, and each fold (which rewrites the snapshot) is paid for by as many bytes of
/// appends: issuing stays O(1) amortised however large the ledger grows.
const FOLD_JOURNAL_AT_BYTES: u64 = 1 << 20;

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

/// One line of the journal.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalEntry {
    /// Payment hash, hex.
    hash: String,
    invoice: InvoiceRecord,
}

/// One issued invoice.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvoiceRecord {
    pub bolt11: String,
    /// The preimage, hex (secret).
    pub preimage: String,
    /// The amount the invoice names; 0 for an amountless invoice (it settles with what is
    /// paid, recorded in [`InvoiceRecordState::Settled`]).
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

/// The ledger file (and its journal) of one data directory.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    path: PathBuf,
    lock_path: PathBuf,
    journal_path: PathBuf,
}

impl Ledger {
    /// The ledger in `data_dir` (which must exist).
    pub(crate) fn in_dir(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(LEDGER_FILE_NAME),
            lock_path: data_dir.join(LOCK_FILE_NAME),
            journal_path: data_dir.join(JOURNAL_FILE_NAME),
        }
    }

    /// The ledger file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the ledger under the exclusive file lock and writes the result back
    /// (atomically, fsynced) if `f` changed it or the journal held invoices, then empties the
    /// journal. When no ledger exists yet, `init` makes the first one. Blocking.
    pub(crate) fn transact<R>(
        &self,
        init: impl FnOnce() -> LedgerData,
        f: impl FnOnce(&mut LedgerData) -> R,
    ) -> Result<R, DevWalletError> {
        let _lock = lock_file(&self.lock_path)?;
        self.transact_locked(|| Ok(init()), f)
    }

    /// Runs `f` on the ledger as it stands (journal included) under the file lock, writing
    /// nothing. Blocking.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&LedgerData) -> R) -> Result<R, DevWalletError> {
        let _lock = lock_file(&self.lock_path)?;
        Ok(f(&self.read_unlocked()?))
    }

    /// Records a newly issued open invoice: one journal line, no fsync. The ledger file must
    /// exist (the wallet creates it when it opens). Blocking.
    pub(crate) fn append_invoice(
        &self,
        hash: String,
        invoice: InvoiceRecord,
    ) -> Result<(), DevWalletError> {
        let mut line = serde_json::to_vec(&JournalEntry { hash, invoice }).map_err(|e| {
            DevWalletError::Corrupt {
                path: self.journal_path.clone(),
                detail: format!("cannot encode invoice: {}", e.classify_name()),
            }
        })?;
        line.push(b'\n');
        let io_err = |source| DevWalletError::Io {
            path: self.journal_path.clone(),
            source,
        };
        let _lock = lock_file(&self.lock_path)?;
        let mut journal = private_open_options()
            .append(true)
            .create(true)
            .open(&self.journal_path)
            .map_err(io_err)?;
        // One write of a whole line: a crash leaves at worst a torn last line, which is skipped.
        journal.write_all(&line).map_err(io_err)?;
        let len = journal.metadata().map_err(io_err)?.len();
        drop(journal);
        if len >= FOLD_JOURNAL_AT_BYTES && len >= self.snapshot_len()? {
            // The ledger file existed a moment ago, under this lock: gone now, it is an error
            // (folding must never start a new ledger with a new node key).
            let gone = || {
                Err(DevWalletError::Io {
                    path: self.path.clone(),
                    source: io::ErrorKind::NotFound.into(),
                })
            };
            self.transact_locked(gone, |_| ())?;
        }
        Ok(())
    }

    /// The snapshot's size in bytes.
    fn snapshot_len(&self) -> Result<u64, DevWalletError> {
        fs::metadata(&self.path)
            .map(|m| m.len())
            .map_err(|source| DevWalletError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// [`transact`](Self::transact) with the file lock already held.
    fn transact_locked<R>(
        &self,
        init: impl FnOnce() -> Result<LedgerData, DevWalletError>,
        f: impl FnOnce(&mut LedgerData) -> R,
    ) -> Result<R, DevWalletError> {
        let (original, mut data) = match fs::read(&self.path) {
            Ok(bytes) => {
                let data = self.decode(&bytes)?;
                (Some(bytes), data)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (None, init()?),
            Err(source) => {
                return Err(DevWalletError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let journaled = self.replay_journal(&mut data)?;
        let out = f(&mut data);
        if journaled > 0 {
            data.prune(now_unix());
        }
        let encoded = serde_json::to_vec_pretty(&data).map_err(|e| DevWalletError::Corrupt {
            path: self.path.clone(),
            detail: format!("cannot encode ledger: {}", e.classify_name()),
        })?;
        if original.as_deref() != Some(encoded.as_slice()) {
            write_private_atomic(&self.path, &encoded)?;
        }
        if journaled > 0 {
            // The snapshot holding these invoices is durable; replaying them again after a crash
            // here would be harmless (an invoice already present is kept as it is).
            private_open_options()
                .truncate(true)
                .open(&self.journal_path)
                .map_err(|source| DevWalletError::Io {
                    path: self.journal_path.clone(),
                    source,
                })?;
        }
        Ok(out)
    }

    /// Reads the ledger without the lock (safe: the snapshot is only ever replaced by an atomic
    /// rename, and a journal line being appended is incomplete and skipped).
    pub(crate) fn read_unlocked(&self) -> Result<LedgerData, DevWalletError> {
        let bytes = fs::read(&self.path).map_err(|source| DevWalletError::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut data = self.decode(&bytes)?;
        self.replay_journal(&mut data)?;
        Ok(data)
    }

    /// Adds the journal's invoices that `data` does not hold yet; returns how many lines the
    /// journal has. A missing journal is an empty one; a last line without its newline (a torn
    /// append) is skipped.
    fn replay_journal(&self, data: &mut LedgerData) -> Result<usize, DevWalletError> {
        let bytes = match fs::read(&self.journal_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(source) => {
                return Err(DevWalletError::Io {
                    path: self.journal_path.clone(),
                    source,
                });
            }
        };
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut lines = 0;
        for (index, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let entry: JournalEntry =
                serde_json::from_slice(line).map_err(|e| DevWalletError::Corrupt {
                    path: self.journal_path.clone(),
                    detail: format!("{} error on line {}", e.classify_name(), index + 1),
                })?;
            data.invoices.entry(entry.hash).or_insert(entry.invoice);
            lines += 1;
        }
        Ok(lines)
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

    /// Appends an open invoice `hash` that expires in an hour.
    fn append_open(ledger: &Ledger, hash: &str) {
        let far = now_unix() + 3600;
        ledger
            .append_invoice(hash.into(), invoice(far, InvoiceRecordState::Open))
            .unwrap();
    }

    fn ledger_with_key(dir: &Path) -> Ledger {
        let ledger = Ledger::in_dir(dir);
        ledger
            .transact(|| LedgerData::new("ab".repeat(32)), |_| ())
            .unwrap();
        ledger
    }

    #[test]
    fn appended_invoices_are_read_then_folded_into_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_with_key(dir.path());
        let snapshot = fs::read(ledger.path()).unwrap();
        append_open(&ledger, "h1");
        append_open(&ledger, "h2");
        // Issuing leaves the snapshot alone; readers see the journal.
        assert_eq!(fs::read(ledger.path()).unwrap(), snapshot);
        assert_eq!(ledger.read(|d| d.invoices.len()).unwrap(), 2);
        assert_eq!(ledger.read_unlocked().unwrap().invoices.len(), 2);
        // A change folds the journal in and empties it.
        ledger
            .transact(
                || unreachable!(),
                |d| {
                    d.invoices.get_mut("h1").unwrap().state = InvoiceRecordState::Canceled;
                },
            )
            .unwrap();
        assert_eq!(fs::read(&ledger.journal_path).unwrap(), b"");
        let folded = ledger.read_unlocked().unwrap();
        assert_eq!(folded.invoices.len(), 2);
        assert!(folded.invoices["h1"].state == InvoiceRecordState::Canceled);
    }

    #[test]
    fn replaying_a_journal_already_folded_changes_nothing() {
        // A crash between the snapshot's rename and the journal's truncation.
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_with_key(dir.path());
        append_open(&ledger, "h1");
        let journal = fs::read(&ledger.journal_path).unwrap();
        let settled = InvoiceRecordState::Settled {
            amount_received_msat: 1000,
            settled_at_unix: 5,
        };
        ledger
            .transact(
                || unreachable!(),
                |d| d.invoices.get_mut("h1").unwrap().state = settled,
            )
            .unwrap();
        fs::write(&ledger.journal_path, journal).unwrap();
        let data = ledger.read_unlocked().unwrap();
        assert!(data.invoices["h1"].state == settled);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_a_corrupt_line_is_reported_without_content() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_with_key(dir.path());
        append_open(&ledger, "h1");
        let mut journal = fs::read(&ledger.journal_path).unwrap();
        let whole = journal.clone();
        journal.extend_from_slice(&whole[..whole.len() / 2]);
        fs::write(&ledger.journal_path, &journal).unwrap();
        assert_eq!(ledger.read(|d| d.invoices.len()).unwrap(), 1);

        fs::write(&ledger.journal_path, b"{\"hash\":\"SECRET\"}\n").unwrap();
        let err = ledger.read(|_| ()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DevWalletError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("line 1") && !msg.contains("SECRET"), "{msg}");
    }

    #[test]
    fn a_long_journal_is_folded_by_the_append_that_reaches_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_with_key(dir.path());
        let far = now_unix() + 3600;
        let mut appended = 0;
        while fs::metadata(ledger.path()).unwrap().len() < 1000 {
            ledger
                .append_invoice(
                    format!("h{appended}"),
                    invoice(far, InvoiceRecordState::Open),
                )
                .unwrap();
            appended += 1;
            assert!(
                fs::metadata(&ledger.journal_path).unwrap().len() < FOLD_JOURNAL_AT_BYTES,
                "the journal outgrew its limit"
            );
        }
        assert!(appended > 1, "the first append folded already");
        assert_eq!(ledger.read(|d| d.invoices.len()).unwrap(), appended);
    }

    #[test]
    fn a_journal_grows_as_large_as_a_large_snapshot_before_it_is_folded() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_with_key(dir.path());
        let far = now_unix() + 3600;
        let record = invoice(far, InvoiceRecordState::Open);
        ledger
            .transact(
                || unreachable!(),
                |d| {
                    for i in 0..8_000 {
                        d.invoices.insert(format!("old{i}"), record.clone());
                    }
                },
            )
            .unwrap();
        let snapshot = ledger.snapshot_len().unwrap();
        assert!(snapshot > FOLD_JOURNAL_AT_BYTES, "{snapshot}");
        let mut largest = 0;
        for i in 0.. {
            ledger
                .append_invoice(format!("new{i}"), record.clone())
                .unwrap();
            let journal = fs::metadata(&ledger.journal_path).unwrap().len();
            if journal == 0 {
                break;
            }
            largest = journal;
        }
        // Folded by the append that made the journal as large as the snapshot, not before.
        assert!(largest < snapshot, "{largest} {snapshot}");
        assert!(
            largest + 300 > snapshot,
            "folded early: {largest} of {snapshot}"
        );
        assert!(ledger.snapshot_len().unwrap() > 2 * FOLD_JOURNAL_AT_BYTES);
    }

    #[test]
    fn folding_prunes_long_expired_open_invoices() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_with_key(dir.path());
        ledger
            .append_invoice("stale".into(), invoice(1, InvoiceRecordState::Open))
            .unwrap();
        ledger
            .append_invoice(
                "fresh".into(),
                invoice(now_unix() + 60, InvoiceRecordState::Open),
            )
            .unwrap();
        ledger.transact(|| unreachable!(), |_| ()).unwrap();
        let left: Vec<_> = ledger
            .read_unlocked()
            .unwrap()
            .invoices
            .into_keys()
            .collect();
        assert_eq!(left, vec!["fresh".to_owned()]);
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
