//! The connection file `dev-wallet.json`: where a running dev wallet server listens and the
//! token to use, so `l402 fetch` finds the wallet `l402 serve` runs with zero configuration.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use serde::{Deserialize, Serialize};

use super::DevWalletError;
use super::fsutil::write_private_atomic;

/// The connection file's name inside the data directory.
pub const CONNECTION_FILE_NAME: &str = "dev-wallet.json";

/// How to reach a running dev wallet server. The token is a secret: redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// Base URL of the server, e.g. `http://127.0.0.1:38211`.
    pub url: String,
    /// The bearer token the server requires.
    pub access_token: String,
}

impl fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("url", &self.url)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

/// A fresh random access token: 32 bytes from the OS, lower-case hex.
pub fn generate_access_token() -> String {
    let mut b = [0u8; 32];
    UnwrapErr(SysRng).fill_bytes(&mut b);
    hex::encode(b)
}

/// The connection file's path in `data_dir`.
pub fn connection_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CONNECTION_FILE_NAME)
}

/// Writes the connection file into `data_dir` (atomically, mode 0600) and returns its path.
pub fn write_connection_file(
    data_dir: &Path,
    info: &ConnectionInfo,
) -> Result<PathBuf, DevWalletError> {
    let path = connection_file_path(data_dir);
    let bytes = serde_json::to_vec_pretty(info).map_err(|e| DevWalletError::Corrupt {
        path: path.clone(),
        detail: format!("cannot encode connection info: {e}"),
    })?;
    write_private_atomic(&path, &bytes)?;
    Ok(path)
}

/// Reads the connection file from `data_dir`.
pub fn read_connection_file(data_dir: &Path) -> Result<ConnectionInfo, DevWalletError> {
    read_connection_file_at(&connection_file_path(data_dir))
}

/// Reads a connection file at an explicit path (e.g. another data directory's).
pub fn read_connection_file_at(path: &Path) -> Result<ConnectionInfo, DevWalletError> {
    let bytes = fs::read(path).map_err(|source| DevWalletError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Only the error's position is reported: the file holds a token.
    serde_json::from_slice(&bytes).map_err(|e| DevWalletError::Corrupt {
        path: path.to_path_buf(),
        detail: format!(
            "not a dev wallet connection file (JSON error at line {} column {})",
            e.line(),
            e.column()
        ),
    })
}

/// Removes the connection file from `data_dir`, if present (on shutdown).
pub fn remove_connection_file(data_dir: &Path) -> Result<(), DevWalletError> {
    let path = connection_file_path(data_dir);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(DevWalletError::Io { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_removal() {
        let dir = tempfile::tempdir().unwrap();
        let info = ConnectionInfo {
            url: "http://127.0.0.1:1234".into(),
            access_token: generate_access_token(),
        };
        let path = write_connection_file(dir.path(), &info).unwrap();
        assert_eq!(path, dir.path().join(CONNECTION_FILE_NAME));
        assert_eq!(read_connection_file(dir.path()).unwrap(), info);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        remove_connection_file(dir.path()).unwrap();
        assert!(!path.exists());
        remove_connection_file(dir.path()).unwrap();
        assert!(matches!(
            read_connection_file(dir.path()),
            Err(DevWalletError::Io { .. })
        ));
    }

    #[test]
    fn corrupt_file_error_does_not_quote_the_token() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            connection_file_path(dir.path()),
            "{\"url\": 5, \"access_token\": \"TOPSECRET\"}",
        )
        .unwrap();
        let err = read_connection_file(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a dev wallet connection file"), "{err}");
        assert!(!err.contains("TOPSECRET"), "{err}");
    }

    #[test]
    fn tokens_are_random_hex_and_debug_redacts_them() {
        let (a, b) = (generate_access_token(), generate_access_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        let info = ConnectionInfo {
            url: "http://x".into(),
            access_token: a.clone(),
        };
        assert!(!format!("{info:?}").contains(&a));
    }
}
