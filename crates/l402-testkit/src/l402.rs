//! The `l402` binary, as an end-to-end test crate sees it.
//!
//! Only the binary's own crate (`l402-cli`) gets `CARGO_BIN_EXE_l402`; its tests pass it in:
//! `L402Bin::new(env!("CARGO_BIN_EXE_l402"))`. Nothing here builds or looks for the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Variables the binary reads that would leak the developer's setup into a test.
const ISOLATED_VARS: &[&str] = &[
    "L402_CONFIG",
    "L402_CLIENT_CONFIG",
    "L402_DATA_DIR",
    "L402_LISTEN",
    "L402_WALLET",
    "L402_NETWORK",
    "L402_NWC_URI",
    "L402_LOG",
];

/// The `l402` binary.
#[derive(Debug, Clone)]
pub struct L402Bin {
    path: PathBuf,
}

impl L402Bin {
    /// The binary at `path`: pass `env!("CARGO_BIN_EXE_l402")`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `l402 <args>` with the developer's `L402_*` settings removed and colours off.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(&self.path);
        command.args(args).env("NO_COLOR", "1");
        for var in ISOLATED_VARS {
            command.env_remove(var);
        }
        command
    }
}
