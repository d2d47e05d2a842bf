//! A child process killed (and reaped) on drop, its stderr written to a log file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop. Its stderr goes to a log file that [`ChildGuard::log`]
/// reads (for failure messages); its stdout is discarded.
pub struct ChildGuard {
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Spawns `command` with stdout discarded and stderr written to `log`; panics with the
    /// program's name when it cannot be started.
    pub fn spawn(command: &mut Command, log: &Path) -> Self {
        let stderr = std::fs::File::create(log)
            .unwrap_or_else(|e| panic!("creating the log file {}: {e}", log.display()));
        let child = command
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {:?}: {e}", command.get_program()));
        Self {
            child,
            log: log.to_owned(),
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The process's stderr so far (empty if unreadable).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Panics, with the log, when the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.exited() {
            panic!("the process exited ({status}); log:\n{}", self.log());
        }
    }

    /// Waits up to `limit` for the process to exit by itself; panics, with the log, when it
    /// is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "the process kept running for {limit:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends the signal `name` (`HUP`, `TERM`, …) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Sends SIGTERM and waits up to `limit` for the exit; the exit code, or `None` when the
    /// process is still running (or died of a signal).
    pub fn terminate(&mut self, limit: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.exited() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// This test binary, re-run to execute only the test `name` (which is `#[ignore]`d so the
/// plain run skips it, and reads what it needs with [`crate::require_env`]): how a test starts
/// a helper process of its own, e.g. one that crashes on purpose.
pub fn rerun_test_binary(name: &str) -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command.args(["--exact", name, "--ignored", "--test-threads=1"]);
    command
}
