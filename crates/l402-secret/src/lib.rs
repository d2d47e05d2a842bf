//! Secret values in a configuration: inline (accepted, but callers should warn), from an
//! environment variable, or from a file. The value is never printed by `Debug`.
//!
//! ```
//! use l402_secret::SecretSource;
//!
//! #[derive(serde::Deserialize)]
//! struct Section {
//!     key: SecretSource,
//! }
//! let s: Section = toml::from_str("key = { env = \"MY_API_KEY\" }").unwrap();
//! assert_eq!(s.key, SecretSource::Env("MY_API_KEY".into()));
//! assert_eq!(format!("{:?}", SecretSource::Inline("hunter2".into())), "Inline(<redacted>)");
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// What a configuration check says of a secret written inline ([`SecretSource::Inline`]).
pub const INLINE_WARNING: &str = "secret written inline in the configuration file; prefer \
                                  `{ env = \"VAR\" }` or `{ file = \"path\" }`";

/// Where a secret comes from. In TOML: `"value"` (inline), `{ env = "VAR" }` or
/// `{ file = "path" }`. A file's content is used without its trailing newline.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the configuration file itself (discouraged: a warning is reported).
    Inline(String),
    /// Read from this environment variable when the server starts.
    Env(String),
    /// Read from this file when the server starts (relative paths are relative to the
    /// configuration file's directory).
    File(PathBuf),
}

impl SecretSource {
    /// True for [`SecretSource::Inline`].
    pub fn is_inline(&self) -> bool {
        matches!(self, Self::Inline(_))
    }

    /// Reads the secret now.
    pub fn resolve(&self) -> Result<String, SecretError> {
        match self {
            Self::Inline(v) => Ok(v.clone()),
            Self::Env(name) => std::env::var(name).map_err(|source| SecretError::Env {
                name: name.clone(),
                source,
            }),
            Self::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                .map_err(|source| SecretError::File {
                    path: path.clone(),
                    source,
                }),
        }
    }

    /// Makes a relative [`SecretSource::File`] path relative to `base`.
    pub fn resolve_relative_path(&mut self, base: &Path) {
        if let Self::File(path) = self {
            resolve_relative_path(path, base);
        }
    }
}

/// Makes a relative `path` relative to `base` (a configuration file's directory); an absolute
/// path is left as it is.
///
/// ```
/// let mut p = std::path::PathBuf::from("keys/api.key");
/// l402_secret::resolve_relative_path(&mut p, std::path::Path::new("/etc/l402"));
/// assert_eq!(p, std::path::Path::new("/etc/l402/keys/api.key"));
/// ```
pub fn resolve_relative_path(path: &mut PathBuf, base: &Path) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

/// A secret that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The environment variable is not set or not UTF-8.
    #[error("environment variable `{name}` is not set (or not UTF-8)")]
    Env {
        /// The variable.
        name: String,
        /// Why it cannot be read.
        #[source]
        source: std::env::VarError,
    },
    /// The file cannot be read.
    #[error("cannot read secret file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
            Self::Env(name) => f.debug_tuple("Env").field(name).finish(),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = SecretSource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, `{ env = \"VAR\" }` or `{ file = \"path\" }`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline(v.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretSource, A::Error> {
        let mut found: Option<SecretSource> = None;
        while let Some(key) = map.next_key::<String>()? {
            let value: String = map.next_value()?;
            let source = match key.as_str() {
                "env" => SecretSource::Env(value),
                "file" => SecretSource::File(PathBuf::from(value)),
                other => return Err(de::Error::unknown_field(other, &["env", "file"])),
            };
            if found.replace(source).is_some() {
                return Err(de::Error::custom("give exactly one of `env` or `file`"));
            }
        }
        found.ok_or_else(|| de::Error::custom("give exactly one of `env` or `file`"))
    }
}

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Section {
        key: SecretSource,
    }

    fn parse(text: &str) -> Result<SecretSource, toml::de::Error> {
        toml::from_str::<Section>(text).map(|s| s.key)
    }

    #[test]
    fn the_three_sources_parse() {
        assert_eq!(
            parse("key = \"v\"").unwrap(),
            SecretSource::Inline("v".into())
        );
        assert_eq!(
            parse("key = { env = \"A\" }").unwrap(),
            SecretSource::Env("A".into())
        );
        assert_eq!(
            parse("key = { file = \"k.txt\" }").unwrap(),
            SecretSource::File("k.txt".into())
        );
    }

    #[test]
    fn two_sources_or_an_unknown_key_are_refused() {
        let err = parse("key = { env = \"A\", file = \"b\" }").unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
        let err = parse("key = { vault = \"x\" }").unwrap_err();
        assert!(err.to_string().contains("vault"), "{err}");
        assert!(parse("key = {}").is_err());
    }

    #[test]
    fn a_file_is_read_without_its_trailing_newline_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), "s3cret\r\n").unwrap();
        let mut source = SecretSource::File("k".into());
        source.resolve_relative_path(dir.path());
        assert_eq!(source.resolve().unwrap(), "s3cret");
        let missing = SecretSource::File(dir.path().join("nope"));
        let err = missing.resolve().unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn debug_never_shows_an_inline_value() {
        let shown = format!("{:?}", SecretSource::Inline("hunter2".into()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
