//! Host and path patterns used by routing. Pure; no IO.
//!
//! Path patterns: `*` matches any run of characters inside one path segment; a `*` that is the
//! last character of the pattern also matches everything after it, across segments; a pattern
//! ending in `/*` also matches the bare prefix (`/public/*` matches `/public`). A pattern without
//! `*` matches exactly. Host patterns: `api.example.com` (exact, case-insensitive),
//! `*.example.com` (any subdomain, not the apex) or `*` (any host).

use std::borrow::Cow;
use std::fmt;

/// At most this many `*` per pattern, so matching cost stays small for any request path.
const MAX_STARS: usize = 4;

/// Which kind of path value a [`PatternError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A route's `path` or an L402 `free_paths` entry (a pattern, may contain `*`).
    Pattern,
    /// A service's `path_prefix` without `*`.
    Prefix,
}

impl fmt::Display for PathKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pattern => "path pattern",
            Self::Prefix => "path prefix",
        })
    }
}

/// A path or host pattern that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// A path pattern or prefix does not start with `/`.
    #[error("{kind} `{text}` must start with `/`")]
    NoLeadingSlash {
        /// Pattern or prefix.
        kind: PathKind,
        /// The value as written.
        text: String,
    },
    /// A path pattern or prefix contains `?`, `#` or whitespace.
    #[error("{kind} `{text}` must not contain `?`, `#` or whitespace")]
    ForbiddenCharacter {
        /// Pattern or prefix.
        kind: PathKind,
        /// The value as written.
        text: String,
    },
    /// A path pattern contains `**`.
    #[error("path pattern `{text}` contains `**`; a trailing `*` already matches everything below")]
    DoubleStar {
        /// The pattern as written.
        text: String,
    },
    /// A path pattern has more `*` than matching may cost.
    #[error("path pattern `{text}` has more than {MAX_STARS} `*`")]
    TooManyStars {
        /// The pattern as written.
        text: String,
    },
    /// A host pattern is not a host name, `*.domain` or `*`.
    #[error(
        "host pattern `{text}` is not a host name, `*.domain` or `*` (no scheme, port or path)"
    )]
    InvalidHost {
        /// The pattern as written.
        text: String,
    },
}

/// The checks a path pattern and a path prefix share: a leading `/`, no `?`, `#` or whitespace.
fn check_path(kind: PathKind, text: &str) -> Result<(), PatternError> {
    if !text.starts_with('/') {
        return Err(PatternError::NoLeadingSlash {
            kind,
            text: text.to_owned(),
        });
    }
    if text.contains(['?', '#']) || text.chars().any(|c| c.is_whitespace()) {
        return Err(PatternError::ForbiddenCharacter {
            kind,
            text: text.to_owned(),
        });
    }
    Ok(())
}

/// A compiled path pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct PathPattern {
    source: String,
    segments: Vec<String>,
    trailing_star: bool,
}

impl fmt::Debug for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PathPattern({:?})", self.source)
    }
}

impl PathPattern {
    /// Compiles `pattern`; it must start with `/`, have at most 4 `*`, and no `**`.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        check_path(PathKind::Pattern, pattern)?;
        if pattern.contains("**") {
            return Err(PatternError::DoubleStar {
                text: pattern.to_owned(),
            });
        }
        if pattern.matches('*').count() > MAX_STARS {
            return Err(PatternError::TooManyStars {
                text: pattern.to_owned(),
            });
        }
        Ok(Self {
            source: pattern.to_owned(),
            segments: pattern[1..].split('/').map(str::to_owned).collect(),
            trailing_star: pattern.ends_with('*'),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True if `path` (starting with `/`, no query) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.matches_case(path, false)
    }

    /// Like [`PathPattern::matches`], comparing ASCII letters without case when `ignore_case`
    /// (`[paths] case_insensitive`).
    pub fn matches_case(&self, path: &str, ignore_case: bool) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let path_segments: Vec<&str> = rest.split('/').collect();
        let n = self.segments.len();
        if !self.trailing_star {
            return path_segments.len() == n
                && self
                    .segments
                    .iter()
                    .zip(&path_segments)
                    .all(|(p, s)| segment_glob(p.as_bytes(), s.as_bytes(), ignore_case));
        }
        // `/a/*` also matches `/a`.
        if path_segments.len() == n - 1 && self.segments[n - 1] == "*" {
            return self.segments[..n - 1]
                .iter()
                .zip(&path_segments)
                .all(|(p, s)| segment_glob(p.as_bytes(), s.as_bytes(), ignore_case));
        }
        // The last pattern segment ends in `*`, which swallows the rest of the path; its other
        // `*` stay inside the segment, so it is enough to match it against one path segment.
        path_segments.len() >= n
            && self
                .segments
                .iter()
                .zip(&path_segments)
                .all(|(p, s)| segment_glob(p.as_bytes(), s.as_bytes(), ignore_case))
    }
}

/// Glob match of one segment: `*` matches any run of bytes (there is no `/` in a segment).
/// Greedy with a single backtrack point: O(len(p) * len(s)) at worst. ASCII letters compare
/// without case when `ignore_case`.
fn segment_glob(p: &[u8], s: &[u8], ignore_case: bool) -> bool {
    let same = |a: u8, b: u8| a == b || (ignore_case && a.eq_ignore_ascii_case(&b));
    let (mut pi, mut si) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && same(p[pi], s[si]) {
            pi += 1;
            si += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            si = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// How a service claims request paths: a segment-aligned prefix, or a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatcher {
    /// `/weather` matches `/weather` and `/weather/...`, not `/weatherman`. `/` matches all.
    Prefix(String),
    /// A [`PathPattern`], used when the configured prefix contains `*`.
    Pattern(PathPattern),
}

impl PathMatcher {
    /// Compiles a `path_prefix` value.
    pub fn parse(prefix: &str) -> Result<Self, PatternError> {
        if prefix.contains('*') {
            return PathPattern::parse(prefix).map(Self::Pattern);
        }
        check_path(PathKind::Prefix, prefix)?;
        Ok(Self::Prefix(prefix.to_owned()))
    }

    /// True if `path` is claimed.
    pub fn matches(&self, path: &str) -> bool {
        self.matches_case(path, false)
    }

    /// Like [`PathMatcher::matches`], comparing ASCII letters without case when `ignore_case`.
    pub fn matches_case(&self, path: &str, ignore_case: bool) -> bool {
        let same = |a: &str, b: &str| a == b || (ignore_case && a.eq_ignore_ascii_case(b));
        match self {
            Self::Pattern(p) => p.matches_case(path, ignore_case),
            Self::Prefix(prefix) => {
                let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
                let Some((head, rest)) = path.split_at_checked(trimmed.len()) else {
                    return false;
                };
                same(head, trimmed) && (rest.is_empty() || rest.starts_with('/'))
            }
        }
    }

    /// The literal prefix to strip before forwarding (`strip_path_prefix`), if this is a prefix.
    pub fn literal_prefix(&self) -> Option<&str> {
        match self {
            Self::Prefix(p) => Some(p.trim_end_matches('/')),
            Self::Pattern(_) => None,
        }
    }
}

/// A compiled host pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `*`: any host.
    Any,
    /// `api.example.com`.
    Exact(String),
    /// `*.example.com`: stores `.example.com`.
    Suffix(String),
}

impl HostPattern {
    /// Compiles a host pattern (lower-cased; no port, no scheme).
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let lower = pattern.trim_end_matches('.').to_ascii_lowercase();
        if lower == "*" {
            return Ok(Self::Any);
        }
        let (suffix, name) = match lower.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, lower.as_str()),
        };
        let valid = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        let bracketed_v6 = !suffix
            && name.starts_with('[')
            && name.ends_with(']')
            && name[1..name.len() - 1]
                .parse::<std::net::Ipv6Addr>()
                .is_ok();
        if !valid && !bracketed_v6 {
            return Err(PatternError::InvalidHost {
                text: pattern.to_owned(),
            });
        }
        Ok(if suffix {
            Self::Suffix(format!(".{name}"))
        } else {
            Self::Exact(name.to_owned())
        })
    }

    /// True if `host` (already normalized with [`normalize_host`]) matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(h) => h == host,
            Self::Suffix(s) => host.len() > s.len() && host.ends_with(s.as_str()),
        }
    }
}

/// Lower-cases a `Host` value and removes the port and a trailing dot (`API.example.com.:443` →
/// `api.example.com`; `[::1]:80` → `[::1]`).
pub fn normalize_host(host: &str) -> String {
    normalized_host(host).into_owned()
}

/// [`normalize_host`], borrowing `host` when it is already lower case (the usual `Host`).
pub(crate) fn normalized_host(host: &str) -> Cow<'_, str> {
    let without_port = if host.starts_with('[') {
        match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        }
    };
    let name = without_port.trim_end_matches('.');
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathPattern {
        PathPattern::parse(s).unwrap()
    }

    #[test]
    fn exact_and_star_patterns() {
        assert!(p("/weather/health").matches("/weather/health"));
        assert!(!p("/weather/health").matches("/weather/health/x"));
        assert!(!p("/weather/health").matches("/weather"));
        assert!(p("/v1/*/status").matches("/v1/abc/status"));
        assert!(!p("/v1/*/status").matches("/v1/a/b/status"));
        assert!(p("/public/*").matches("/public"));
        assert!(p("/public/*").matches("/public/"));
        assert!(p("/public/*").matches("/public/a/b/c"));
        assert!(!p("/public/*").matches("/publicity"));
        assert!(p("/v1/img*").matches("/v1/img"));
        assert!(p("/v1/img*").matches("/v1/imgs/x"));
        assert!(p("/v1/a*b*").matches("/v1/axxb/rest"));
        assert!(!p("/v1/a*b*").matches("/v1/ax/b"));
        assert!(p("/*.json").matches("/x.json"));
        assert!(!p("/*.json").matches("/x.jsonp"));
        assert!(p("/*").matches("/anything/at/all"));
    }

    #[test]
    fn bad_patterns() {
        assert!(PathPattern::parse("v1/*").is_err());
        assert!(PathPattern::parse("/v1/**").is_err());
        assert!(PathPattern::parse("/*/*/*/*/*").is_err());
        assert!(PathPattern::parse("/a?b").is_err());
        assert_eq!(
            PathMatcher::parse("api").unwrap_err().to_string(),
            "path prefix `api` must start with `/`"
        );
    }

    #[test]
    fn prefixes() {
        let m = PathMatcher::parse("/weather").unwrap();
        assert!(m.matches("/weather"));
        assert!(m.matches("/weather/today"));
        assert!(!m.matches("/weatherman"));
        let root = PathMatcher::parse("/").unwrap();
        assert!(root.matches("/"));
        assert!(root.matches("/x/y"));
        let slash = PathMatcher::parse("/api/").unwrap();
        assert!(slash.matches("/api"));
        assert!(slash.matches("/api/x"));
        assert!(!slash.matches("/apix"));
        assert_eq!(slash.literal_prefix(), Some("/api"));
    }

    #[test]
    fn hosts() {
        let wild = HostPattern::parse("*.Example.com").unwrap();
        assert!(wild.matches("api.example.com"));
        assert!(wild.matches("a.b.example.com"));
        assert!(!wild.matches("example.com"));
        assert!(!wild.matches("badexample.com"));
        assert!(
            HostPattern::parse("api.example.com")
                .unwrap()
                .matches("api.example.com")
        );
        assert!(HostPattern::parse("*").unwrap().matches("x"));
        assert!(HostPattern::parse("http://x").is_err());
        assert!(HostPattern::parse("x:80").is_err());
        assert!(HostPattern::parse("[::1]").is_ok());
        assert_eq!(normalize_host("API.Example.com.:8443"), "api.example.com");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
        assert_eq!(normalize_host("localhost"), "localhost");
    }

    #[test]
    fn case_folding_is_opt_in() {
        assert!(!p("/Free/*").matches("/free/x"));
        assert!(p("/Free/*").matches_case("/fREE/X", true));
        assert!(!p("/Free/*").matches_case("/freedom", true));
        let m = PathMatcher::parse("/API/").unwrap();
        assert!(!m.matches("/api/x"));
        assert!(m.matches_case("/api/x", true));
        assert!(m.matches_case("/Api", true));
        assert!(!m.matches_case("/apix", true));
        assert!(!m.matches_case("/ap", true));
    }

    #[test]
    fn glob_worst_case_is_fast() {
        let pat = p("/*a*a*a*b");
        let long = format!("/{}", "a".repeat(20_000));
        assert!(!pat.matches(&long));
    }
}
