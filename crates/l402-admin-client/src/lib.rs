//! A client of `l402 serve`'s admin API (the admin listener's `/api/v1`, see
//! `docs/OPERATIONS.md`): sends an admin macaroon, returns the JSON answer or a typed error
//! carrying the API's code and message. Used by `l402 admin`, `l402 mcp --admin` and scripts.
//!
//! ```no_run
//! use l402_admin_client::{AdminClient, Method};
//!
//! # async fn demo() -> Result<(), l402_admin_client::AdminClientError> {
//! let data_dir = std::path::Path::new("/var/lib/l402");
//! let admin = AdminClient::new(
//!     "http://127.0.0.1:9402",
//!     &data_dir.join(l402_admin_client::READ_ONLY_MACAROON_FILE),
//! )?;
//! let stats = admin.call(Method::Get, "/api/v1/stats?days=7", None).await?;
//! println!("{}", stats["revenue_by_service"]);
//! # Ok(()) }
//! ```

mod client;
mod encode;

pub use client::{AdminClient, AdminClientError, Method, read_macaroon};
pub use encode::encode_component;

/// The full-access admin macaroon's file name in the seller's data directory.
pub const FULL_MACAROON_FILE: &str = "admin.macaroon";
/// The read-only admin macaroon's file name in the seller's data directory.
pub const READ_ONLY_MACAROON_FILE: &str = "admin-readonly.macaroon";
