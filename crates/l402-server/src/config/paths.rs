//! `[paths]`: how request paths are normalised and matched (see
//! [`routing::normalize`](crate::routing::normalize)).

use serde::Deserialize;

use crate::routing::normalize::{EscapedSlashes, NormalizeOptions, PathParameters, normalize};

/// `[paths]`: one canonical path per request. The proxy normalises the path before routing,
/// prices that path, and forwards exactly it (the query string is kept as sent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathsConfig {
    /// `%2F`, `%5C` and raw `\`: `"reject"` (400, the default) or `"decode"` (become `/`).
    #[serde(default)]
    pub escaped_slashes: EscapedSlashes,
    /// `;` path parameters: `"reject"` (400, the default), `"strip"` (removed up to the end of
    /// their segment) or `"keep"` (an ordinary character).
    #[serde(default)]
    pub path_parameters: PathParameters,
    /// Match `path_prefix`, route paths and the layer's path patterns ignoring ASCII case, for
    /// upstreams that fold case. The forwarded path keeps its case. Default `false`.
    #[serde(default)]
    pub case_insensitive: bool,
}

impl PathsConfig {
    /// The normaliser's options.
    pub fn normalize_options(&self) -> NormalizeOptions {
        NormalizeOptions {
            escaped_slashes: self.escaped_slashes,
            path_parameters: self.path_parameters,
        }
    }

    /// Why the path pattern or prefix `pattern` (already known to start with `/`) cannot match
    /// as written: request paths are matched in normal form, so a pattern that is not in normal
    /// form never matches. `None` when it is.
    pub fn pattern_problem(&self, pattern: &str) -> Option<String> {
        match normalize(pattern, self.normalize_options()) {
            Ok(normal) if normal == pattern => None,
            Ok(normal) => Some(format!(
                "`{pattern}` never matches: request paths are matched in normal form; write `{normal}`"
            )),
            Err(e) => Some(format!(
                "`{pattern}` never matches: such request paths are refused ({e})"
            )),
        }
    }
}
