//! Path normalisation: one canonical form of a request path, computed before routing, so that
//! the path the proxy prices is the path the upstream serves. Pure; no IO.
//!
//! Modelled on Envoy's `normalize_path`, `merge_slashes` and
//! `path_with_escaped_slashes_action`, in this order:
//!
//! 1. Every byte is checked: control characters, non-ASCII bytes and a `%` not followed by two
//!    hex digits are refused; so are escapes of control characters (`%00`–`%1F`, `%7F`).
//! 2. Percent-encoded unreserved characters (`ALPHA DIGIT - . _ ~`) are decoded
//!    (`/api/%77eather` → `/api/weather`); every other escape is kept, with upper-case hex
//!    (`%2f` → `%2F`, except as below).
//! 3. Encoded slashes (`%2F`), encoded backslashes (`%5C`) and raw backslashes are refused, or
//!    turned into `/` ([`EscapedSlashes`]).
//! 4. Path parameters (`;` in a segment, as in `/a;jsessionid=1/b` or `..;`) are refused,
//!    removed up to the end of their segment, or kept as data ([`PathParameters`]).
//! 5. Runs of `/` are merged (`//reports` → `/reports`).
//! 6. Dot segments are resolved as in RFC 3986 `remove_dot_segments` (`/free/../paid` →
//!    `/paid`); a `..` above the root is refused.
//!
//! The result is idempotent: normalising it again yields it unchanged.

use std::fmt;

use serde::Deserialize;

/// What to do with `%2F`, `%5C` and a raw `\` in a request path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscapedSlashes {
    /// Refuse the request (400). The default: upstreams disagree on whether `%2F` separates
    /// segments and whether `\` is a slash.
    #[default]
    Reject,
    /// Turn each into `/` before merging slashes and resolving dot segments (Envoy's
    /// `UNESCAPE_AND_FORWARD`); the upstream receives the slashes.
    Decode,
}

/// What to do with `;` path parameters (`/a;v=1/b`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathParameters {
    /// Refuse the request (400). The default: servlet containers strip parameters (so
    /// `/free/..;/paid` reaches `/paid`) while others treat `;` as data.
    #[default]
    Reject,
    /// Remove every parameter, from `;` to the end of its segment, before resolving dot
    /// segments; the upstream receives the path without them.
    Strip,
    /// Keep `;` as an ordinary character. Only safe when the upstream treats `;` as data too.
    Keep,
}

/// How request paths are normalised (`[paths]` in the configuration file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NormalizeOptions {
    /// `%2F`, `%5C` and `\`.
    pub escaped_slashes: EscapedSlashes,
    /// `;` path parameters.
    pub path_parameters: PathParameters,
}

/// Why a request path has no canonical form under the configured options (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// The path does not start with `/`.
    #[error("the path does not start with `/`")]
    NotAbsolute,
    /// A control character or a byte outside ASCII, raw or percent-encoded.
    #[error("the path contains a control or non-ASCII character")]
    ForbiddenCharacter,
    /// A `%` not followed by two hex digits.
    #[error("the path contains an invalid percent-escape")]
    InvalidEscape,
    /// `%2F`, `%5C` or `\` while `[paths] escaped_slashes = "reject"`.
    #[error("the path contains an encoded slash or a backslash")]
    EscapedSlash,
    /// `;` while `[paths] path_parameters = "reject"`.
    #[error("the path contains a `;` path parameter")]
    PathParameter,
    /// A `..` segment that would climb above the root.
    #[error("the path climbs above the root with `..`")]
    AboveRoot,
}

/// Characters RFC 3986 calls unreserved: decoding them never changes what a path means.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One step of the byte scan: what the next input bytes stand for.
enum Token {
    /// A character written to the output as is (decoded if it was escaped and unreserved).
    Char(u8),
    /// A kept escape, `%XY` with upper-case hex.
    Escape(u8),
    /// A segment separator (`/`, or a decoded `%2F`, `%5C`, `\`).
    Slash,
    /// `;`.
    Semicolon,
}

/// Reads the token at `bytes[*i..]` and advances `i`.
fn next_token(
    bytes: &[u8],
    i: &mut usize,
    options: NormalizeOptions,
) -> Result<Token, NormalizeError> {
    let b = bytes[*i];
    *i += 1;
    let slash = || match options.escaped_slashes {
        EscapedSlashes::Reject => Err(NormalizeError::EscapedSlash),
        EscapedSlashes::Decode => Ok(Token::Slash),
    };
    match b {
        b'/' => Ok(Token::Slash),
        b'\\' => slash(),
        b';' => Ok(Token::Semicolon),
        b'%' => {
            let (Some(hi), Some(lo)) = (
                bytes.get(*i).copied().and_then(hex_value),
                bytes.get(*i + 1).copied().and_then(hex_value),
            ) else {
                return Err(NormalizeError::InvalidEscape);
            };
            *i += 2;
            let value = hi << 4 | lo;
            match value {
                b'/' | b'\\' => slash(),
                v if v.is_ascii_control() => Err(NormalizeError::ForbiddenCharacter),
                v if is_unreserved(v) => Ok(Token::Char(v)),
                v => Ok(Token::Escape(v)),
            }
        }
        b if b.is_ascii_control() || !b.is_ascii() || b == b' ' => {
            Err(NormalizeError::ForbiddenCharacter)
        }
        b => Ok(Token::Char(b)),
    }
}

/// Decodes and checks the path (steps 1–4): the result has only `/` as separators, no kept
/// `;` unless [`PathParameters::Keep`], and still has repeated slashes and dot segments.
fn decode(path: &str, options: NormalizeOptions) -> Result<String, NormalizeError> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut in_parameter = false;
    let mut i = 0;
    while i < bytes.len() {
        match next_token(bytes, &mut i, options)? {
            Token::Slash => {
                in_parameter = false;
                out.push('/');
            }
            Token::Semicolon => match options.path_parameters {
                PathParameters::Reject => return Err(NormalizeError::PathParameter),
                PathParameters::Strip => in_parameter = true,
                PathParameters::Keep => out.push(';'),
            },
            _ if in_parameter => {}
            Token::Char(c) => out.push(char::from(c)),
            Token::Escape(v) => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(v >> 4)]));
                out.push(char::from(HEX[usize::from(v & 0xf)]));
            }
        }
    }
    Ok(out)
}

/// Merges slashes and resolves dot segments of a decoded path (steps 5–6).
fn resolve(decoded: &str) -> Result<String, NormalizeError> {
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in decoded[1..].split('/') {
        trailing_slash = matches!(segment, "" | "." | "..");
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop().ok_or(NormalizeError::AboveRoot)?;
            }
            s => kept.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || kept.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The canonical form of a request path (without the query string), or why it has none.
pub fn normalize(path: &str, options: NormalizeOptions) -> Result<String, NormalizeError> {
    if !path.starts_with('/') {
        return Err(NormalizeError::NotAbsolute);
    }
    if is_canonical(path) {
        return Ok(path.to_owned());
    }
    resolve(&decode(path, options)?)
}

/// True when `path` (absolute) is its own canonical form under any options: nothing to decode,
/// check or refuse (only visible ASCII other than `%`, `\` and `;`), no empty segment but a
/// trailing one, no dot segment. Most request paths are; they skip the two passes above.
fn is_canonical(path: &str) -> bool {
    // One pass: the current segment's length, and whether it is all dots so far.
    let (mut segment, mut dots) = (0usize, true);
    for &b in path.as_bytes().iter().skip(1) {
        if !b.is_ascii_graphic() || matches!(b, b'%' | b'\\' | b';') {
            return false;
        }
        if b == b'/' {
            // An empty segment, or `.` or `..`.
            if segment == 0 || (dots && segment <= 2) {
                return false;
            }
            (segment, dots) = (0, true);
        } else {
            segment += 1;
            dots &= b == b'.';
        }
    }
    // The last segment may be empty (a trailing `/`), not a dot segment.
    !(dots && (1..=2).contains(&segment))
}

impl fmt::Display for EscapedSlashes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reject => "reject",
            Self::Decode => "decode",
        })
    }
}

impl fmt::Display for PathParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reject => "reject",
            Self::Strip => "strip",
            Self::Keep => "keep",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path of up to 6 bytes after its `/`, made of bytes that matter to the check.
    #[test]
    fn the_canonical_check_is_the_three_pass_one() {
        let slow = |path: &str| {
            path.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'%' | b'\\' | b';'))
                && !path.contains("//")
                && path[1..].split('/').all(|s| s != "." && s != "..")
        };
        let alphabet = [b'/', b'.', b'a', b'%', b';', b' '];
        let mut paths = vec![String::from("/")];
        let mut last = paths.clone();
        for _ in 0..6 {
            let mut next = Vec::new();
            for path in &last {
                for &b in &alphabet {
                    next.push(format!("{path}{}", char::from(b)));
                }
            }
            paths.extend(next.iter().cloned());
            last = next;
        }
        assert!(paths.len() > 50_000);
        for path in &paths {
            assert_eq!(is_canonical(path), slow(path), "{path:?}");
        }
    }

    const DEFAULT: NormalizeOptions = NormalizeOptions {
        escaped_slashes: EscapedSlashes::Reject,
        path_parameters: PathParameters::Reject,
    };
    const LENIENT: NormalizeOptions = NormalizeOptions {
        escaped_slashes: EscapedSlashes::Decode,
        path_parameters: PathParameters::Strip,
    };
    const KEEP: NormalizeOptions = NormalizeOptions {
        escaped_slashes: EscapedSlashes::Reject,
        path_parameters: PathParameters::Keep,
    };

    /// Every path of up to seven characters over an alphabet that reaches each rule: the
    /// shortcut for canonical paths answers exactly what the full passes answer.
    #[test]
    fn the_canonical_shortcut_agrees_with_the_full_passes() {
        const ALPHABET: &[u8] = b"/.a%2F;\\ A";
        let mut shortcut_taken = 0;
        let mut paths = vec![b"/".to_vec()];
        for _ in 0..6 {
            let mut longer = Vec::with_capacity(paths.len() * ALPHABET.len());
            for path in &paths {
                for &c in ALPHABET {
                    let mut next = path.clone();
                    next.push(c);
                    longer.push(next);
                }
            }
            for path in &longer {
                let path = std::str::from_utf8(path).unwrap();
                for options in [DEFAULT, LENIENT, KEEP] {
                    let full = decode(path, options).and_then(|d| resolve(&d));
                    assert_eq!(normalize(path, options), full, "{path:?}");
                }
                if is_canonical(path) {
                    shortcut_taken += 1;
                }
            }
            paths = longer;
        }
        assert!(shortcut_taken > 1_000, "{shortcut_taken}");
    }

    fn show(r: Result<String, NormalizeError>) -> String {
        match r {
            Ok(p) => p,
            Err(e) => format!("ERR {e:?}"),
        }
    }

    #[test]
    fn tricky_paths() {
        use NormalizeError::*;
        let err = |e: NormalizeError| format!("ERR {e:?}");
        // (input, default options, decode slashes + strip parameters, keep parameters)
        let table: &[(&str, String, String, String)] = &[
            ("/", "/".into(), "/".into(), "/".into()),
            ("", err(NotAbsolute), err(NotAbsolute), err(NotAbsolute)),
            ("*", err(NotAbsolute), err(NotAbsolute), err(NotAbsolute)),
            (
                "/api/%77eather",
                "/api/weather".into(),
                "/api/weather".into(),
                "/api/weather".into(),
            ),
            (
                "/%41%7a%30-%2D%2e%5F%7E",
                "/Az0--._~".into(),
                "/Az0--._~".into(),
                "/Az0--._~".into(),
            ),
            (
                "//reports",
                "/reports".into(),
                "/reports".into(),
                "/reports".into(),
            ),
            ("/a///b//", "/a/b/".into(), "/a/b/".into(), "/a/b/".into()),
            (
                "/free/../paid",
                "/paid".into(),
                "/paid".into(),
                "/paid".into(),
            ),
            (
                "/free/./x/.",
                "/free/x/".into(),
                "/free/x/".into(),
                "/free/x/".into(),
            ),
            ("/a/b/..", "/a/".into(), "/a/".into(), "/a/".into()),
            ("/..", err(AboveRoot), err(AboveRoot), err(AboveRoot)),
            ("/%2e%2e/", err(AboveRoot), err(AboveRoot), err(AboveRoot)),
            ("/a/%2E%2e/%2e/b", "/b".into(), "/b".into(), "/b".into()),
            ("/a/..%2f", err(EscapedSlash), "/".into(), err(EscapedSlash)),
            (
                "/free/..%2f../paid",
                err(EscapedSlash),
                err(AboveRoot),
                err(EscapedSlash),
            ),
            (
                "/free/x/..%2F..%2Fpaid",
                err(EscapedSlash),
                "/paid".into(),
                err(EscapedSlash),
            ),
            (
                "/a%5cb",
                err(EscapedSlash),
                "/a/b".into(),
                err(EscapedSlash),
            ),
            (
                "/a\\..\\b",
                err(EscapedSlash),
                "/b".into(),
                err(EscapedSlash),
            ),
            ("\\\\", err(NotAbsolute), err(NotAbsolute), err(NotAbsolute)),
            ("/\\\\x", err(EscapedSlash), "/x".into(), err(EscapedSlash)),
            ("/..;/", err(PathParameter), err(AboveRoot), "/..;/".into()),
            (
                "/free/..;/paid",
                err(PathParameter),
                "/paid".into(),
                "/free/..;/paid".into(),
            ),
            (
                "/a;v=1/b;x%2Fy",
                err(PathParameter),
                "/a/b/y".into(),
                err(EscapedSlash),
            ),
            (
                "/a;v=1/b",
                err(PathParameter),
                "/a/b".into(),
                "/a;v=1/b".into(),
            ),
            ("/a%3Bb", "/a%3Bb".into(), "/a%3Bb".into(), "/a%3Bb".into()),
            (
                "/caf%c3%a9",
                "/caf%C3%A9".into(),
                "/caf%C3%A9".into(),
                "/caf%C3%A9".into(),
            ),
            (
                "/100%25",
                "/100%25".into(),
                "/100%25".into(),
                "/100%25".into(),
            ),
            (
                "/%252e%252e/x",
                "/%252e%252e/x".into(),
                "/%252e%252e/x".into(),
                "/%252e%252e/x".into(),
            ),
            (
                "/a%",
                err(InvalidEscape),
                err(InvalidEscape),
                err(InvalidEscape),
            ),
            (
                "/a%2",
                err(InvalidEscape),
                err(InvalidEscape),
                err(InvalidEscape),
            ),
            (
                "/a%zz",
                err(InvalidEscape),
                err(InvalidEscape),
                err(InvalidEscape),
            ),
            (
                "/a%%41",
                err(InvalidEscape),
                err(InvalidEscape),
                err(InvalidEscape),
            ),
            (
                "/a%+1",
                err(InvalidEscape),
                err(InvalidEscape),
                err(InvalidEscape),
            ),
            (
                "/a%00",
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
            ),
            (
                "/a%0a",
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
            ),
            (
                "/a%7F",
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
            ),
            (
                "/a\0b",
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
            ),
            (
                "/a\tb",
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
            ),
            (
                "/a b",
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
            ),
            (
                "/é",
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
                err(ForbiddenCharacter),
            ),
            // Case is kept: folding is a matching rule, not a rewrite.
            (
                "/FREE/%7e",
                "/FREE/~".into(),
                "/FREE/~".into(),
                "/FREE/~".into(),
            ),
            ("/...", "/...".into(), "/...".into(), "/...".into()),
            (
                "/.a/b./..c",
                "/.a/b./..c".into(),
                "/.a/b./..c".into(),
                "/.a/b./..c".into(),
            ),
        ];
        for (input, default, lenient, keep) in table {
            assert_eq!(
                &show(normalize(input, DEFAULT)),
                default,
                "{input:?} default"
            );
            assert_eq!(
                &show(normalize(input, LENIENT)),
                lenient,
                "{input:?} decode+strip"
            );
            assert_eq!(&show(normalize(input, KEEP)), keep, "{input:?} keep");
        }
    }

    #[test]
    fn a_normalised_path_is_a_fixed_point() {
        for input in [
            "/api/%77eather/",
            "//a/./b/../c%2f",
            "/a;x/b",
            "/%7e%41/%c3%a9",
        ] {
            for options in [DEFAULT, LENIENT, KEEP] {
                if let Ok(once) = normalize(input, options) {
                    assert_eq!(normalize(&once, options), Ok(once.clone()), "{input}");
                }
            }
        }
    }

    #[test]
    fn long_inputs_stay_linear() {
        let long = "/a/..".repeat(50_000) + "/x";
        assert_eq!(normalize(&long, DEFAULT).unwrap(), "/x");
        let climbing = format!("/{}", "../".repeat(50_000));
        assert_eq!(
            normalize(&climbing, DEFAULT),
            Err(NormalizeError::AboveRoot)
        );
    }
}
