//! TOML text → [`Config`], with errors that carry file, line, column and key path.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_path_to_error::Segment;
use toml::de::{DeTable, DeValue};

use super::{Config, ConfigError, Diagnostic, Location};

/// The text a configuration came from, kept to locate problems found after parsing.
pub(crate) struct Origin {
    file: Option<PathBuf>,
    text: String,
}

/// The text may hold inline secrets: only the file name is shown.
impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl Origin {
    /// Location of `key` (`services[1].upstream`): the line of the deepest part of the path
    /// that exists in the text.
    pub(crate) fn locate(&self, key: &str) -> Location {
        let span = DeTable::parse(&self.text)
            .ok()
            .and_then(|root| find_span(root.get_ref(), &parse_key_path(key)));
        location(self.file.as_deref(), &self.text, span, key.to_owned())
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Formats a key path: `services[1].upstream_headers."X.Y"`.
pub(crate) fn format_key_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    out.push_str(k);
                } else {
                    out.push('"');
                    out.push_str(&k.replace('\\', "\\\\").replace('"', "\\\""));
                    out.push('"');
                }
            }
        }
    }
    out
}

/// Inverse of [`format_key_path`] (best effort; used only to find a line number).
pub(crate) fn parse_key_path(text: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut chars = text.chars().peekable();
    let mut current = String::new();
    let flush = |current: &mut String, segs: &mut Vec<Seg>| {
        if !current.is_empty() {
            segs.push(Seg::Key(std::mem::take(current)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut current, &mut segs),
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => current.extend(chars.next()),
                        '"' => break,
                        c => current.push(c),
                    }
                }
            }
            '[' => {
                flush(&mut current, &mut segs);
                let digits: String = chars.by_ref().take_while(|&c| c != ']').collect();
                if let Ok(i) = digits.parse() {
                    segs.push(Seg::Index(i));
                }
            }
            c => current.push(c),
        }
    }
    flush(&mut current, &mut segs);
    segs
}

fn find_span(root: &DeTable<'_>, path: &[Seg]) -> Option<Range<usize>> {
    let mut table = Some(root);
    let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
    let mut best = None;
    for seg in path {
        let value = match (seg, table, array) {
            (Seg::Key(k), Some(t), _) => {
                let (key, value) = t.iter().find(|(key, _)| key.get_ref() == k)?;
                best = Some(key.span());
                value
            }
            (Seg::Index(i), _, Some(items)) => {
                let item = items.get(*i)?;
                best = Some(item.span());
                item
            }
            _ => break,
        };
        (table, array) = match value.get_ref() {
            DeValue::Table(t) => (Some(t), None),
            DeValue::Array(a) => (None, Some(&a[..])),
            _ => (None, None),
        };
    }
    best
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn location(file: Option<&Path>, text: &str, span: Option<Range<usize>>, key: String) -> Location {
    let (line, column) = match span {
        Some(span) => {
            let (l, c) = line_column(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    Location {
        file: file.map(Path::to_owned),
        line,
        column,
        key,
    }
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// Parses and deserializes; syntax and shape errors become [`ConfigError::Syntax`].
pub(crate) fn parse(text: &str, file: Option<&Path>) -> Result<Config, ConfigError> {
    let syntax = |span, key: String, message: &str| {
        ConfigError::Syntax(Box::new(Diagnostic {
            location: location(file, text, span, key),
            message: message.to_owned(),
        }))
    };
    let root = DeTable::parse(text).map_err(|e| syntax(e.span(), String::new(), e.message()))?;
    let deserializer = toml::de::Deserializer::from(root);
    let mut config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let segs = segments(e.path());
        let key = format_key_path(&segs);
        let inner = e.into_inner();
        // Prefer toml's own span (it points at the offending key or value); fall back to
        // finding the key path in the text.
        let span = inner.span().or_else(|| {
            DeTable::parse(text)
                .ok()
                .and_then(|root| find_span(root.get_ref(), &segs))
        });
        syntax(span, key, inner.message())
    })?;
    config.origin = Some(Arc::new(Origin {
        file: file.map(Path::to_owned),
        text: text.to_owned(),
    }));
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_round_trip() {
        let segs = vec![
            Seg::Key("services".into()),
            Seg::Index(1),
            Seg::Key("upstream_headers".into()),
            Seg::Key("X.Api \"Key\"".into()),
        ];
        let text = format_key_path(&segs);
        assert_eq!(text, r#"services[1].upstream_headers."X.Api \"Key\"""#);
        assert_eq!(parse_key_path(&text), segs);
    }

    #[test]
    fn line_columns() {
        assert_eq!(line_column("a\nbc\nd", 0), (1, 1));
        assert_eq!(line_column("a\nbc\nd", 3), (2, 2));
        assert_eq!(line_column("a\nbc\nd", 5), (3, 1));
    }
}
