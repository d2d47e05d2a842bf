//! The platform's default data directory.

use std::path::PathBuf;

/// `$XDG_DATA_HOME/l402` or `~/.local/share/l402` on Linux and other Unix systems,
/// `~/Library/Application Support/l402` on macOS, `%APPDATA%\l402` on Windows; `./.l402-data`
/// when none of these can be determined.
pub fn default_data_dir() -> PathBuf {
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = if cfg!(windows) {
        env_dir("APPDATA")
    } else if cfg!(target_os = "macos") {
        env_dir("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env_dir("XDG_DATA_HOME").or_else(|| env_dir("HOME").map(|h| h.join(".local").join("share")))
    };
    dir.filter(|d| d.is_absolute())
        .map(|d| d.join("l402"))
        .unwrap_or_else(|| PathBuf::from(".l402-data"))
}
