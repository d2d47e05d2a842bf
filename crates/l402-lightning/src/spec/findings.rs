//! What a check of a backend section found, each finding at a key relative to the section.

use std::path::Path;

use l402_secret::SecretSource;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The section cannot be used as it is.
    Error,
    /// The section works, but something should change (an inline secret, an ignored table).
    Warning,
}

/// One problem in a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// The key, relative to the section: `kind`, `lnd.address`, `lnbits.api_key`.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The findings of one check, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings(Vec<Finding>);

impl Findings {
    /// Every finding.
    pub fn iter(&self) -> impl Iterator<Item = &Finding> {
        self.0.iter()
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.0.iter().filter(|f| f.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.0.iter().filter(|f| f.severity == Severity::Warning)
    }

    /// True when nothing is an error.
    pub fn is_usable(&self) -> bool {
        self.errors().next().is_none()
    }

    pub(crate) fn error(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, key.into(), message.into());
    }

    pub(crate) fn warn(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, key.into(), message.into());
    }

    fn push(&mut self, severity: Severity, key: String, message: String) {
        self.0.push(Finding {
            severity,
            key,
            message,
        });
    }

    /// Checks that the secret at `key` can be read now (an error if not) and warns when it is
    /// written inline; returns its value.
    pub(crate) fn secret(&mut self, key: &str, secret: &SecretSource) -> Option<String> {
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
    pub(crate) fn readable_file(&mut self, key: &str, file: &Path) {
        if let Err(e) = std::fs::File::open(file) {
            self.error(key, format!("cannot open {}: {e}", file.display()));
        }
    }
}

impl IntoIterator for Findings {
    type Item = Finding;
    type IntoIter = std::vec::IntoIter<Finding>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// True for `host:port` with a numeric port and no scheme or path.
pub(crate) fn looks_like_host_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok()
    })
}
