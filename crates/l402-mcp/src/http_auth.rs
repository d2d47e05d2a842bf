//! Who may use the streamable HTTP endpoint: a bearer token (generated on first run, kept in a
//! mode-0600 file in the data directory) on every request, compared in constant time, and an
//! `Origin`, when a browser sends one, from an allowlist (loopback origins by default).

use std::fmt;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use l402_client::ClientConfig;

use crate::error::McpError;
use crate::transport::HttpOptions;

/// The token file's name inside the data directory.
pub const TOKEN_FILE: &str = "mcp-http.token";

/// The bearer token clients of the HTTP endpoint must send. Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// A fresh token: 32 random bytes from the OS, lower-case hex.
    pub fn generate() -> Self {
        Self(l402_lightning::dev::generate_access_token())
    }

    /// A given token (at least 16 characters, no whitespace).
    pub fn new(token: impl Into<String>) -> Result<Self, McpError> {
        let token = token.into();
        if token.len() < 16 || token.chars().any(char::is_whitespace) {
            return Err(McpError::BadToken(
                "a bearer token needs at least 16 characters and no whitespace".into(),
            ));
        }
        Ok(Self(token))
    }

    /// The token, for the client that must send it (`Authorization: Bearer <token>`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether an `Authorization` value carries this token (constant time in the token).
    fn admits(&self, authorization: Option<&[u8]>) -> bool {
        authorization
            .and_then(|v| v.strip_prefix(b"Bearer "))
            .is_some_and(|given| bool::from(given.ct_eq(self.0.as_bytes())))
    }
}

/// The token file in `data_dir`.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// The token stored at `path`, or a new one written there (mode 0600, never overwriting a
/// file another process created meanwhile). The flag is true when the token was created now:
/// show it to the user once.
pub fn load_or_create_token(path: &Path) -> Result<(BearerToken, bool), McpError> {
    let io = |context: &str, source: std::io::Error| McpError::Io {
        context: format!("{context} {}", path.display()),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            return Ok((BearerToken::new(text.trim())?, false));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io("reading the MCP HTTP token", e)),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("creating the directory of", e))?;
    }
    let token = BearerToken::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(token.0.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| io("writing the MCP HTTP token", e))?;
            Ok((token, true))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => load_or_create_token(path),
        Err(e) => Err(io("creating the MCP HTTP token", e)),
    }
}

/// The HTTP options `config` asks for: the bearer token from `<data_dir>/mcp-http.token`
/// (created on first use, and then printed once to stderr with where it is kept) and
/// `[mcp] allowed_origins`. Blocking file IO: call at startup.
pub fn http_options(config: &ClientConfig) -> Result<HttpOptions, McpError> {
    let path = token_path(&config.data_dir()?);
    let (token, created) = load_or_create_token(&path)?;
    if created {
        eprintln!(
            "l402 mcp: created the HTTP bearer token (shown once; kept in {}, mode 0600):\n  \
             Authorization: Bearer {}",
            path.display(),
            token.expose()
        );
    }
    Ok(HttpOptions::new(token).allowed_origins(config.mcp.allowed_origins.iter().cloned()))
}

/// Logs a warning when the token file can be read by other users (unix).
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the MCP HTTP token file is readable by other users; chmod 600 it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// What the middleware checks.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub(crate) token: BearerToken,
    pub(crate) allowed_origins: Vec<String>,
}

impl Gate {
    /// 403 for an `Origin` outside the allowlist, 401 without the token, else `None`.
    fn refuse(&self, headers: &HeaderMap) -> Option<StatusCode> {
        if let Some(origin) = headers.get(header::ORIGIN)
            && !origin
                .to_str()
                .is_ok_and(|o| origin_allowed(o, &self.allowed_origins))
        {
            return Some(StatusCode::FORBIDDEN);
        }
        let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
        (!self.token.admits(authorization)).then_some(StatusCode::UNAUTHORIZED)
    }
}

/// Whether `origin` is a loopback origin (`http`/`https`, `localhost`, `127.0.0.1` or `[::1]`,
/// any port) or one of `allowed` (compared without case and a trailing `/`).
pub fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if allowed
        .iter()
        .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return true;
    }
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix("[::1]") {
        Some(port) => return port.is_empty() || is_port(port),
        None => rest,
    };
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    matches!(name, "localhost" | "127.0.0.1") && (port.is_empty() || is_port(&format!(":{port}")))
}

/// `:<digits>`.
fn is_port(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The middleware: refused requests never reach the MCP service.
pub(crate) async fn require(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    match gate.refuse(req.headers()) {
        None => next.run(req).await,
        Some(StatusCode::FORBIDDEN) => {
            (StatusCode::FORBIDDEN, "Origin not allowed\n").into_response()
        }
        Some(status) => (
            status,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a bearer token is required (Authorization: Bearer <token>); `l402 mcp --http` \
             keeps it in mcp-http.token in its data directory\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for o in [
            "http://localhost",
            "http://localhost:3000",
            "https://127.0.0.1:8443",
            "http://[::1]:5173",
            "HTTP://LOCALHOST:1/",
        ] {
            assert!(origin_allowed(o, &[]), "{o}");
        }
        for o in [
            "null",
            "http://localhost.evil.test",
            "http://127.0.0.1.evil.test",
            "http://localhost:80x",
            "https://evil.test",
            "file://",
            "http://[::1].evil",
        ] {
            assert!(!origin_allowed(o, &[]), "{o}");
        }
        assert!(origin_allowed(
            "https://agent.example.com",
            &["https://agent.example.com/".to_owned()]
        ));
    }

    #[test]
    fn the_token_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(&dir.path().join("data"));
        let (first, created) = load_or_create_token(&path).unwrap();
        assert!(created);
        assert_eq!(first.expose().len(), 64);
        let (again, created) = load_or_create_token(&path).unwrap();
        assert!(!created);
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{first:?}").contains(first.expose()));
    }

    #[test]
    fn a_short_or_blank_token_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path());
        std::fs::write(&path, "  \n").unwrap();
        assert!(matches!(
            load_or_create_token(&path),
            Err(McpError::BadToken(_))
        ));
    }

    #[test]
    fn the_gate() {
        let gate = Gate {
            token: BearerToken::new("0123456789abcdef0123").unwrap(),
            allowed_origins: Vec::new(),
        };
        let mut h = HeaderMap::new();
        assert_eq!(gate.refuse(&h), Some(StatusCode::UNAUTHORIZED));
        h.insert(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef0124".parse().unwrap(),
        );
        assert_eq!(gate.refuse(&h), Some(StatusCode::UNAUTHORIZED));
        h.insert(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef0123".parse().unwrap(),
        );
        assert_eq!(gate.refuse(&h), None);
        h.insert(header::ORIGIN, "https://evil.test".parse().unwrap());
        assert_eq!(gate.refuse(&h), Some(StatusCode::FORBIDDEN));
        h.insert(header::ORIGIN, "http://localhost:3000".parse().unwrap());
        assert_eq!(gate.refuse(&h), None);
    }
}
