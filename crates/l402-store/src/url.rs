//! [`StoreUrl`]: where the store lives, a SQLite file or a PostgreSQL database, with the
//! password never shown.

use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

/// Where a [`Store`](crate::Store) lives: `postgres://…` (or `postgresql://…`) for PostgreSQL,
/// anything else a SQLite file path (an optional `sqlite://` prefix is dropped).
///
/// `Debug` and `Display` show the URL with its password replaced by `***`, so a store URL can
/// be logged and put in error messages.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (secret: it may hold a password).
    Postgres(PostgresUrl),
}

/// A PostgreSQL connection URL. Only [`PostgresUrl::expose`] gives the password; `Debug` and
/// `Display` show [`PostgresUrl::redacted`].
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(Zeroizing<String>);

impl StoreUrl {
    /// Reads `url`: `postgres://` and `postgresql://` name PostgreSQL, anything else a SQLite
    /// file.
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(PostgresUrl(Zeroizing::new(url.to_owned())))
        } else {
            Self::Sqlite(PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)))
        }
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

impl PostgresUrl {
    /// The URL with its password (the only way to read it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password of its user-info part and any `password=` parameter
    /// replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@') {
            let userinfo = rest..rest + at;
            if let Some(colon) = out[userinfo.clone()].find(':') {
                out.replace_range(rest + colon + 1..userinfo.end, "***");
            }
        }
    }
    if let Some(query) = out.find('?') {
        let (head, tail) = out.split_at(query + 1);
        let params: Vec<String> = tail
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{head}{}", params.join("&"));
    }
    out
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({})", self.redacted())
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => url.fmt(f),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(url).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        let url = StoreUrl::parse(
            "postgres://l402:s3cret@db.example:5432/l402?password=s3cret&sslmode=disable",
        );
        assert!(url.is_postgres());
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("l402:***@db.example:5432/l402"), "{shown}");
            assert!(shown.contains("password=***&sslmode=disable"), "{shown}");
        }
        let StoreUrl::Postgres(pg) = &url else {
            unreachable!()
        };
        assert!(pg.expose().contains("s3cret"));
        assert_eq!(
            StoreUrl::parse("postgresql://l402@/l402?host=/tmp").to_string(),
            "postgresql://l402@/l402?host=/tmp"
        );
    }

    #[test]
    fn anything_else_is_a_sqlite_file() {
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/l402/l402.db"),
            StoreUrl::Sqlite("/var/lib/l402/l402.db".into())
        );
        assert_eq!(
            StoreUrl::parse("l402.db"),
            StoreUrl::Sqlite("l402.db".into())
        );
    }
}
