//! The workspace's one answer to "where do l402's files live": the data directory (keys,
//! databases, the dev wallet's files) and the configuration directory, for the seller and the
//! buyer alike. Reads the environment only; creates nothing.

use std::path::PathBuf;

/// The application's directory name under the platform's data and configuration directories.
pub const APP_DIR: &str = "l402";

/// The directory for l402's data: `$XDG_DATA_HOME/l402` or `~/.local/share/l402` on Linux and
/// other Unix systems, `~/Library/Application Support/l402` on macOS, `%APPDATA%\l402` on
/// Windows; `./.l402-data` when none of these can be determined (no home directory, as under
/// some service managers).
///
/// ```
/// let dir = l402_core::dirs::data_dir();
/// assert!(dir.ends_with("l402") || dir.ends_with(".l402-data"));
/// ```
pub fn data_dir() -> PathBuf {
    platform_dir(Kind::Data)
        .map(|d| d.join(APP_DIR))
        .unwrap_or_else(|| PathBuf::from(".l402-data"))
}

/// The directory for l402's configuration: `$XDG_CONFIG_HOME/l402` or `~/.config/l402` on Linux
/// and other Unix systems, `~/Library/Application Support/l402` on macOS, `%APPDATA%\l402` on
/// Windows; `None` when none of these can be determined (callers then ask for an explicit path).
///
/// ```
/// if let Some(dir) = l402_core::dirs::config_dir() {
///     assert!(dir.ends_with("l402"));
/// }
/// ```
pub fn config_dir() -> Option<PathBuf> {
    platform_dir(Kind::Config).map(|d| d.join(APP_DIR))
}

#[derive(Clone, Copy)]
enum Kind {
    Data,
    Config,
}

fn platform_dir(kind: Kind) -> Option<PathBuf> {
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|d| d.is_absolute())
    };
    if cfg!(windows) {
        env_dir("APPDATA")
    } else if cfg!(target_os = "macos") {
        env_dir("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        let (xdg, under_home) = match kind {
            Kind::Data => ("XDG_DATA_HOME", [".local", "share"].as_slice()),
            Kind::Config => ("XDG_CONFIG_HOME", [".config"].as_slice()),
        };
        env_dir(xdg)
            .or_else(|| env_dir("HOME").map(|h| under_home.iter().fold(h, |p, s| p.join(s))))
    }
}
