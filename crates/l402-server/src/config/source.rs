//! TOML text → [`Config`], with errors that carry file, line, column and key path.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use toml::Spanned;
use toml::de::{DeArray, DeString, DeTable, DeValue};

use super::{Config, ConfigError, ConfigExtension, Diagnostic, Location};

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

/// Parses the text once, splits the extension's keys from the proxy's, and deserializes both;
/// syntax and shape errors become [`ConfigError::Syntax`].
pub(crate) fn parse<E: ConfigExtension>(
    text: &str,
    file: Option<&Path>,
) -> Result<(Config, E), ConfigError> {
    let root = DeTable::parse(text)
        .map_err(|e| syntax_error(text, file, e.span(), String::new(), e.message()))?;
    let span = root.span();
    let (proxy, extension) = split::<E>(root.into_inner());
    let mut config: Config = deserialize(Spanned::new(span.clone(), proxy), text, file)?;
    let extension: E = deserialize(Spanned::new(span, extension), text, file)?;
    config.origin = Some(Arc::new(Origin {
        file: file.map(Path::to_owned),
        text: text.to_owned(),
    }));
    Ok((config, extension))
}

fn syntax_error(
    text: &str,
    file: Option<&Path>,
    span: Option<Range<usize>>,
    key: String,
    message: &str,
) -> ConfigError {
    ConfigError::Syntax(Box::new(Diagnostic {
        location: location(file, text, span, key),
        message: message.to_owned(),
    }))
}

/// Deserializes one part of the file, locating errors in the whole text.
fn deserialize<T: DeserializeOwned>(
    root: Spanned<DeTable<'_>>,
    text: &str,
    file: Option<&Path>,
) -> Result<T, ConfigError> {
    let deserializer = toml::de::Deserializer::from(root);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
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
        syntax_error(text, file, span, key, inner.message())
    })
}

/// Splits the root table into the proxy's part and the extension's part (see
/// [`ConfigExtension`] for the extension's shape).
fn split<'i, E: ConfigExtension>(root: DeTable<'i>) -> (DeTable<'i>, DeTable<'i>) {
    let nested = !E::SERVICE_KEYS.is_empty() || !E::ROUTE_KEYS.is_empty();
    let mut proxy = DeTable::new();
    let mut extension = DeTable::new();
    for (key, value) in root {
        if E::TOP_LEVEL_KEYS.contains(&key.get_ref().as_ref()) {
            extension.insert(key, value);
        } else if nested && key.get_ref() == "services" {
            let (value, own) = split_tables(value, |service| {
                let (mut proxy, mut own) = split_keys(service, E::SERVICE_KEYS);
                if let Some((key, routes)) = take(&mut proxy, "routes") {
                    let (routes, own_routes) =
                        split_tables(routes, |route| split_keys(route, E::ROUTE_KEYS));
                    if let Some(own_routes) = own_routes {
                        own.insert(key.clone(), own_routes);
                    }
                    proxy.insert(key, routes);
                }
                (proxy, own)
            });
            if let Some(own) = own {
                extension.insert(key.clone(), own);
            }
            proxy.insert(key, value);
        } else {
            proxy.insert(key, value);
        }
    }
    (proxy, extension)
}

/// Moves the entries named in `keys` out of `table`: (the rest, the named ones).
fn split_keys<'i>(table: DeTable<'i>, keys: &[&str]) -> (DeTable<'i>, DeTable<'i>) {
    let mut rest = DeTable::new();
    let mut own = DeTable::new();
    for (key, value) in table {
        if keys.contains(&key.get_ref().as_ref()) {
            own.insert(key, value);
        } else {
            rest.insert(key, value);
        }
    }
    (rest, own)
}

/// Removes `name` from `table`, returning its key and value.
fn take<'i>(
    table: &mut DeTable<'i>,
    name: &str,
) -> Option<(Spanned<DeString<'i>>, Spanned<DeValue<'i>>)> {
    let key = table.keys().find(|k| k.get_ref() == name)?.clone();
    table.remove(&key).map(|value| (key, value))
}

/// Splits every table of an array of tables with `split`, keeping each table's span. A value
/// that is not an array of tables stays whole (the proxy reports its type), with no
/// extension part.
fn split_tables<'i>(
    value: Spanned<DeValue<'i>>,
    split: impl Fn(DeTable<'i>) -> (DeTable<'i>, DeTable<'i>),
) -> (Spanned<DeValue<'i>>, Option<Spanned<DeValue<'i>>>) {
    let span = value.span();
    let is_table = |i: &Spanned<DeValue<'_>>| matches!(i.get_ref(), DeValue::Table(_));
    match value.into_inner() {
        DeValue::Array(items) if items.iter().all(is_table) => {
            let mut rest = DeArray::new();
            let mut own = DeArray::new();
            for item in items {
                let item_span = item.span();
                if let DeValue::Table(table) = item.into_inner() {
                    let (r, o) = split(table);
                    rest.push(Spanned::new(item_span.clone(), DeValue::Table(r)));
                    own.push(Spanned::new(item_span, DeValue::Table(o)));
                }
            }
            (
                Spanned::new(span.clone(), DeValue::Array(rest)),
                Some(Spanned::new(span, DeValue::Array(own))),
            )
        }
        other => (Spanned::new(span, other), None),
    }
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
