//! Private files: created with mode 0600 (unix) and replaced atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::DevWalletError;

/// Creates `dir` (and parents) if missing; a directory this creates gets mode 0700 on unix.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), DevWalletError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| DevWalletError::Io {
        path: dir.to_owned(),
        source,
    })
}

/// Options that open a file for writing, with mode 0600 on unix when the file is created.
pub(crate) fn private_open_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    opts.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Replaces `path` with `bytes` atomically: write a temporary file (mode 0600) in the same
/// directory, fsync it, rename it over `path`, then fsync the directory. A crash leaves either
/// the old or the new content, never a mix.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), DevWalletError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let io_err = |source: io::Error| DevWalletError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .ok_or_else(|| io_err(io::Error::other("path has no parent directory")))?;
    let name = path
        .file_name()
        .ok_or_else(|| io_err(io::Error::other("path has no file name")))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));

    let result = (|| {
        let mut file = private_open_options().create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        // Best effort: do not leave a temporary file holding secrets behind.
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err)
}

/// Opens (creating if needed, mode 0600) `path` and takes an exclusive OS lock on it, blocking
/// until it is free. The lock is released when the returned file is dropped.
pub(crate) fn lock_file(path: &Path) -> Result<File, DevWalletError> {
    let io_err = |source: io::Error| DevWalletError::Io {
        path: path.to_owned(),
        source,
    };
    let file = private_open_options()
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_err)?;
    file.lock().map_err(io_err)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_private_atomic(&path, b"one").unwrap();
        write_private_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn private_files_and_dirs_have_owner_only_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        ensure_private_dir(&sub).unwrap();
        assert_eq!(
            fs::metadata(&sub).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let path = sub.join("secret");
        write_private_atomic(&path, b"x").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let lock = sub.join("lock");
        drop(lock_file(&lock).unwrap());
        assert_eq!(
            fs::metadata(&lock).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn write_into_missing_directory_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/f.json");
        let err = write_private_atomic(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("f.json"), "{err}");
    }
}
