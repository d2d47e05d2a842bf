//! Embedded SQLite storage for L402 (does file IO, blocking): the buyer's token cache, payment
//! journal, receipts and spend ledger, and the seller's revocations, invoices, master keys and
//! settings, consumed `Payment` charges and prepaid sessions (and the buyer's held sessions), in one file that several threads and processes can
//! share. With the `postgres` feature the seller's tables can live in PostgreSQL instead
//! ([`Store::open_url`]), shared by several seller instances; the queries are written once for
//! both engines.
//!
//! Open a [`Store`] with [`Store::open`], then reach each table through its handle:
//! [`Store::tokens`], [`Store::journal`], [`Store::receipts`], [`Store::spend`],
//! [`Store::revocations`], [`Store::invoices`], [`Store::mpp_charges`], [`Store::sessions`], [`Store::held_sessions`], [`Store::master_keys`], [`Store::settings`].
//! Every method blocks; async code calls them inside `tokio::task::spawn_blocking`.

mod codec;
mod engine;
mod error;
mod held_sessions;
mod invoices;
mod journal;
mod master_keys;
mod migrations;
mod mpp_charges;
mod receipts;
mod revocations;
mod sessions;
mod settings;
mod spend;
mod store;
mod tokens;
mod url;

pub use error::StoreError;
pub use held_sessions::{HeldSession, HeldSessionTable, SessionClosing};
pub use invoices::{DailyRevenue, InvoiceFilter, InvoiceRecord, InvoiceTable, InvoiceUpdate};
pub use journal::{NewPayment, PaymentJournal, PaymentRecord, PaymentStatus, PaymentSuccess};
pub use l402_core::session::{Close, Credit, Opened, RefundOutcome, Reserve};
pub use master_keys::{FIRST_EPOCH, MasterKeyTable, Retired, StoredMasterKey};
pub use migrations::SCHEMA_VERSION;
pub use mpp_charges::{ConsumedCharge, MppChargeTable};
pub use receipts::{Receipt, ReceiptLog};
pub use revocations::{Revocation, RevocationTable};
pub use sessions::{LedgerLine, NewSession, SessionRecord, SessionTable};
pub use settings::SettingsTable;
pub use spend::{SpendLedger, SpendQuery, SpendTotals};
pub use store::{BUSY_TIMEOUT, Store, create_private_dir, write_private_file};
pub use tokens::{ReportedStatus, TokenRecord, TokenTable};
pub use url::{PostgresUrl, StoreUrl};
