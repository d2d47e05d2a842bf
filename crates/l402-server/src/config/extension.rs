//! Keys an application built on the proxy adds to the configuration file.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The keys an application adds to the proxy's configuration file, and the type they
/// deserialize into. [`Config::from_toml_with`](super::Config::from_toml_with) sets these keys
/// aside before the proxy reads the rest, and deserializes them into `Self` from a table of the
/// same shape as the file: the [`TOP_LEVEL_KEYS`](Self::TOP_LEVEL_KEYS), then (when
/// [`SERVICE_KEYS`](Self::SERVICE_KEYS) or [`ROUTE_KEYS`](Self::ROUTE_KEYS) is not empty) a
/// `services` array with one table per `[[services]]` entry, in file order, holding that
/// service's extension keys and a `routes` array with one table per `[[services.routes]]`
/// entry. Errors keep the key path and line of the file.
pub trait ConfigExtension: DeserializeOwned {
    /// Top-level keys and sections of the extension.
    const TOP_LEVEL_KEYS: &'static [&'static str];
    /// Keys of each `[[services]]` entry (never `routes`).
    const SERVICE_KEYS: &'static [&'static str];
    /// Keys of each `[[services.routes]]` entry.
    const ROUTE_KEYS: &'static [&'static str];

    /// Makes relative paths inside the extension relative to `base`, the configuration file's
    /// directory (see [`resolve_relative_path`](super::resolve_relative_path)).
    fn resolve_relative_paths(&mut self, base: &Path);
}

/// No extension: the file holds only the proxy's keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoExtension {}

impl ConfigExtension for NoExtension {
    const TOP_LEVEL_KEYS: &'static [&'static str] = &[];
    const SERVICE_KEYS: &'static [&'static str] = &[];
    const ROUTE_KEYS: &'static [&'static str] = &[];

    fn resolve_relative_paths(&mut self, _base: &Path) {}
}
