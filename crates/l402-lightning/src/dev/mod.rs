//! The embedded development wallet: zero setup, regtest only.
//!
//! # Design
//!
//! * [`DevWallet`] is a fake Lightning node that issues **real** signed BOLT11 invoices (prefix
//!   `lnbcrt`, built with `lightning-invoice` from a persistent secp256k1 node key) and settles
//!   them instantly when they are paid *by a dev wallet that shares its ledger*. There are no
//!   channels, no routing and no balance: paying is a state change in the ledger that hands back
//!   the real preimage, so the whole L402 flow (challenge, pay, retry with the preimage) runs on
//!   a laptop exactly as it would against a node.
//! * The node key and the ledger (invoices with their preimages, payments) live in one JSON file
//!   in the data directory ([`LEDGER_FILE_NAME`]), mode 0600 on unix, rewritten atomically
//!   (temporary file, fsync, rename, fsync of the directory) whenever money moves: a settlement,
//!   a payment, a cancel. Issuing an invoice moves no money, so it only appends a line to a
//!   journal ([`JOURNAL_FILE_NAME`], mode 0600, no fsync) that the next rewrite folds in: its
//!   cost does not grow with the ledger. Every operation takes an exclusive OS file lock on
//!   [`LOCK_FILE_NAME`], so several `DevWallet` values, in one process or in several, can share a
//!   data directory; an in-process tokio mutex keeps blocking threads from queueing on that
//!   lock. This is what makes "two concurrent payments of one invoice succeed exactly once"
//!   hold.
//! * The wallet refuses every network but regtest, so dev invoices can never be mistaken for
//!   real money.
//! * Fault injection ([`DevFault`]) makes the wallet look down or slow, for testing how callers
//!   handle a broken node.
//! * To let a separate process pay (for example `l402 fetch` paying the wallet that
//!   `l402 serve` runs), [`http`] exposes the wallet as a small JSON API on loopback, guarded by
//!   a bearer token compared in constant time, and [`DevWalletClient`] implements
//!   [`LightningBackend`](crate::LightningBackend) against it. The server writes the URL and
//!   token to [`CONNECTION_FILE_NAME`] in the data directory (mode 0600) so the client finds it
//!   with zero configuration.
//!
//! Settlement streams: a `DevWallet` announces the settlements it makes at once, and while anyone
//! is subscribed it polls the ledger file (every 200 ms, skipped when the file is unchanged) to
//! announce settlements made by other values or processes sharing the ledger. Each settlement is
//! announced once per `DevWallet` value; settlements older than the first subscription are not
//! replayed. [`DevWalletClient`] cannot stream and returns `None` (poll `invoice_state`).

mod client;
mod connection;
mod fsutil;
pub mod http;
mod ledger;
mod wallet;
mod watch;
mod wire;

use std::path::PathBuf;

use l402_core::invoice::Network;

pub use client::DevWalletClient;
pub use connection::{
    CONNECTION_FILE_NAME, ConnectionInfo, connection_file_path, generate_access_token,
    read_connection_file, read_connection_file_at, remove_connection_file, write_connection_file,
};
pub use ledger::{JOURNAL_FILE_NAME, LEDGER_FILE_NAME, LOCK_FILE_NAME};
pub use wallet::{DevFault, DevWallet};

/// The name this backend uses in errors and logs.
pub const BACKEND_NAME: &str = "dev-wallet";

/// Why the dev wallet (or its connection file) could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevWalletError {
    /// The dev wallet runs on regtest only.
    #[error("the dev wallet only runs on regtest, not on {0}")]
    WrongNetwork(Network),
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but does not hold what it should. It is left untouched.
    #[error("{} is corrupt: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the file's secret content).
        detail: String,
    },
}
