//! TOML text → [`ClientConfig`], with errors that carry file, line and key.

use std::ops::Range;
use std::path::Path;

use serde_path_to_error::Segment;
use toml::de::DeTable;

use super::ClientConfig;
use super::error::{ConfigError, Location};

/// Parses a configuration. Unknown keys, wrong types and bad values are errors naming the file,
/// the line and the key.
pub(crate) fn parse(text: &str, file: Option<&Path>) -> Result<ClientConfig, ConfigError> {
    let invalid = |span: Option<Range<usize>>, key: String, message: &str| ConfigError::Invalid {
        location: Location {
            file: file.map(Path::to_owned),
            line: span.map(|s| line_of(text, s.start)),
            key,
        },
        message: message.to_owned(),
    };
    let root = DeTable::parse(text).map_err(|e| invalid(e.span(), String::new(), e.message()))?;
    let deserializer = toml::de::Deserializer::from(root);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let mut key = key_path(e.path());
        let inner = e.into_inner();
        let message = inner.message().to_owned();
        if let Some(field) =
            unknown_field(&message).filter(|f| key != *f && !key.ends_with(&format!(".{f}")))
        {
            key = if key.is_empty() {
                field.to_owned()
            } else {
                format!("{key}.{field}")
            };
        }
        invalid(inner.span(), key, &message)
    })
}

/// `a.b.c` from a serde path.
fn key_path(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(key.clone()),
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The field named by serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// The 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn unknown_field_names() {
        assert_eq!(
            unknown_field("unknown field `dayly_sat`, expected one of `a`"),
            Some("dayly_sat")
        );
        assert_eq!(unknown_field("invalid type"), None);
    }
}
