//! [`ConfigError`]: every configuration problem names its file, line and key (or variable).

use std::fmt;
use std::path::PathBuf;

/// Where in a configuration file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, if the text came from one.
    pub file: Option<PathBuf>,
    /// The 1-based line, if known.
    pub line: Option<usize>,
    /// The key path, e.g. `budget.daily_sat` (empty for syntax errors outside any key).
    pub key: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            None => f.write_str("<config>")?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": key `{}`", self.key)?;
        }
        Ok(())
    }
}

/// Why the client configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not parse, has an unknown key, or a value of the wrong type.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// An environment variable holds an unusable value.
    #[error("environment variable {var}: {message}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong.
        message: String,
    },
    /// The `[wallet]` section cannot be used (a missing table, an unreadable credential, a
    /// malformed value): the message names the key to fix.
    #[error(transparent)]
    Wallet(#[from] l402_lightning::spec::SetupError),
    /// No home directory, so no default configuration directory.
    #[error("cannot find the {what} directory (no home directory?); set {hint}")]
    NoDefaultDir {
        /// Which directory.
        what: &'static str,
        /// How to set it explicitly.
        hint: &'static str,
    },
}
