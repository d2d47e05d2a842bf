//! File checks shared by the buyer's and the seller's doctor: the data directory is usable and
//! the files holding secrets are readable by their owner only.

use std::path::Path;

use super::report::Report;

/// Files in a data directory that hold secrets: tokens and preimages, master keys, the dev
/// wallet's access token and node key.
const SECRET_FILES: &[&str] = &[
    "client.db",
    "l402.db",
    "dev-wallet.json",
    "dev-wallet/node.key",
];

/// The permission bits of `path` that give its group or others access, if any.
#[cfg(unix)]
fn open_to_others(path: &Path) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    Ok((mode & 0o077 != 0).then_some(mode))
}

#[cfg(not(unix))]
fn open_to_others(path: &Path) -> std::io::Result<Option<u32>> {
    std::fs::metadata(path).map(|_| None)
}

/// Checks `dir`: it exists or can be created, accepts new files, is not open to others, and
/// the secret files in it are private. Adds the `data directory` and `secret files` checks.
pub fn data_dir(report: &mut Report, dir: &Path) {
    const NAME: &str = "data directory";
    if !dir.exists() {
        match first_existing_ancestor(dir).map(probe_writable) {
            Some(Ok(())) => report.pass(
                NAME,
                format!(
                    "{} does not exist yet; it is created on first use",
                    dir.display()
                ),
            ),
            _ => report.fail(
                NAME,
                format!("{} does not exist and cannot be created", dir.display()),
                "create it (mkdir -p, mode 700) or choose another with --data-dir / L402_DATA_DIR",
            ),
        }
        return;
    }
    if let Err(e) = probe_writable(dir) {
        report.fail(
            NAME,
            format!("{} is not writable: {e}", dir.display()),
            format!(
                "fix its owner or mode (chown $USER {0}; chmod 700 {0}) or free disk space",
                dir.display()
            ),
        );
        return;
    }
    match open_to_others(dir) {
        Ok(Some(mode)) => report.warn(
            NAME,
            format!(
                "{} is writable but has mode {mode:03o}: other users can list it",
                dir.display()
            ),
            format!("chmod 700 {}", dir.display()),
        ),
        _ => report.pass(NAME, format!("{} is writable and private", dir.display())),
    }
    secret_files(report, dir);
}

fn secret_files(report: &mut Report, dir: &Path) {
    const NAME: &str = "secret files";
    let mut present = Vec::new();
    let mut open = Vec::new();
    for name in SECRET_FILES {
        let path = dir.join(name);
        match open_to_others(&path) {
            Ok(Some(mode)) => open.push(format!("{} ({mode:03o})", path.display())),
            Ok(None) => present.push(*name),
            Err(_) => {}
        }
    }
    if !open.is_empty() {
        report.fail(
            NAME,
            format!("readable by other users: {}", open.join(", ")),
            "chmod 600 each of them: they hold tokens, keys or the wallet's access token",
        );
    } else if present.is_empty() {
        report.pass(NAME, "none yet (they are created private)");
    } else {
        report.pass(NAME, format!("{} private (mode 600)", present.join(", ")));
    }
}

/// The nearest ancestor of `dir` that exists, if it is a directory (a file on the way makes
/// `dir` impossible to create).
fn first_existing_ancestor(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|a| a.exists()).filter(|a| a.is_dir())
}

/// Creates and removes a file in `dir`.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".l402-doctor-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}
