//! Configuration errors and warnings that name the file, line, column and key.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration problem is: file, 1-based line and column, and the key path
/// (`services[1].upstream`). Any part may be unknown (for example for overrides from flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The configuration file, if the configuration came from one.
    pub file: Option<PathBuf>,
    /// 1-based line in the file.
    pub line: Option<usize>,
    /// 1-based column in the file.
    pub column: Option<usize>,
    /// Dotted key path, with `[i]` for array elements (`services[0].routes[2].path`).
    pub key: String,
}

/// `file:line:column: key `k``, like compilers print it; parts that are unknown are left out
/// (`line 3, column 1: …` without a file).
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        match (&self.file, self.line) {
            (Some(file), Some(line)) => {
                write!(f, "{}:{line}", file.display())?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
                wrote = true;
            }
            (Some(file), None) => {
                write!(f, "{}", file.display())?;
                wrote = true;
            }
            (None, Some(line)) => {
                write!(f, "line {line}")?;
                if let Some(column) = self.column {
                    write!(f, ", column {column}")?;
                }
                wrote = true;
            }
            (None, None) => {}
        }
        if !self.key.is_empty() {
            write!(f, "{}key `{}`", if wrote { ": " } else { "" }, self.key)?;
        }
        Ok(())
    }
}

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location.to_string();
        if location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{location}: {}", self.message)
        }
    }
}

/// A configuration that could not be read, parsed or accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not have the expected shape (unknown key, wrong type,
    /// missing required key).
    #[error("invalid configuration: {0}")]
    Syntax(Box<Diagnostic>),
    /// The file parsed, but some values are not acceptable. Every problem found is listed.
    #[error("invalid configuration: {}", DisplayList(.0))]
    Invalid(Vec<Diagnostic>),
}

impl ConfigError {
    /// Every problem this error carries, in file order where known.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        match self {
            ConfigError::Read { .. } => Vec::new(),
            ConfigError::Syntax(d) => vec![d.as_ref()],
            ConfigError::Invalid(list) => list.iter().collect(),
        }
    }
}

struct DisplayList<'a>(&'a [Diagnostic]);

impl fmt::Display for DisplayList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems", many.len())?;
                for d in many {
                    write!(f, "\n  - {d}")?;
                }
                Ok(())
            }
        }
    }
}

/// Something accepted but worth telling the operator (an inline secret, an ignored section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning(pub Diagnostic);

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}", self.0)
    }
}
