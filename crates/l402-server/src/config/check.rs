//! The list of problems a configuration check builds, each located in the file.

use std::fmt;
use std::path::Path;

use super::source::{Seg, format_key_path};
use super::{Config, ConfigError, ConfigWarning, Diagnostic, SecretSource};

/// Collects the errors and warnings of a configuration check, each located by its key path
/// (`services[1].upstream`) in the file the configuration came from. The proxy's checks and an
/// extension's checks add to the same list, so one run reports every problem in file order.
#[derive(Debug)]
pub struct Checks<'a> {
    config: &'a Config,
    errors: Vec<Diagnostic>,
    warnings: Vec<ConfigWarning>,
}

impl<'a> Checks<'a> {
    /// An empty list for `config` (whose origin locates the keys).
    pub fn new(config: &'a Config) -> Self {
        Self {
            config,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn diag(&self, key: &str, message: String) -> Diagnostic {
        Diagnostic {
            location: self.config.locate(key),
            message,
        }
    }

    /// Records an error at `key`.
    pub fn error(&mut self, key: &str, message: impl fmt::Display) {
        let d = self.diag(key, message.to_string());
        self.errors.push(d);
    }

    /// Records a warning at `key`.
    pub fn warn(&mut self, key: &str, message: impl fmt::Display) {
        let d = self.diag(key, message.to_string());
        self.warnings.push(ConfigWarning(d));
    }

    /// Checks that the secret at `key` can be read now (an error if not) and warns when it is
    /// written inline; returns its value.
    pub fn secret(&mut self, key: &str, secret: &SecretSource) -> Option<String> {
        if secret.is_inline() {
            self.warn(key, l402_secret::INLINE_WARNING);
        }
        match secret.resolve() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(key, e.to_string());
                None
            }
        }
    }

    /// Checks that `file`, named at `key`, can be opened now.
    pub fn readable_file(&mut self, key: &str, file: &Path) {
        if let Err(e) = std::fs::File::open(file) {
            self.error(key, format!("cannot open {}: {e}", file.display()));
        }
    }

    /// The warnings if no error was recorded, else every error sorted by line.
    pub fn finish(mut self) -> Result<Vec<ConfigWarning>, ConfigError> {
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            self.errors
                .sort_by_key(|d| (d.location.line, d.location.column));
            Err(ConfigError::Invalid(self.errors))
        }
    }

    pub(super) fn error_at(&mut self, path: &[Seg], message: impl fmt::Display) {
        self.error(&format_key_path(path), message);
    }

    pub(super) fn warn_at(&mut self, path: &[Seg], message: impl fmt::Display) {
        self.warn(&format_key_path(path), message);
    }

    pub(super) fn secret_at(&mut self, path: &[Seg], secret: &SecretSource) -> Option<String> {
        self.secret(&format_key_path(path), secret)
    }
}
