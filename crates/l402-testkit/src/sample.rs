//! The built-in sample API as the upstream of a seller under test, with the seller's
//! configuration file written around its address.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tokio::task::JoinHandle;

/// The sample API running on loopback, and the configuration file written for it. The API
/// stops when this is dropped.
pub struct SampleUpstream {
    /// The sample API's address (`http://{addr}` for HTTP, `h2c://{addr}` for gRPC).
    pub addr: SocketAddr,
    /// `<dir>/l402.toml`.
    pub config: PathBuf,
    task: JoinHandle<std::io::Result<()>>,
}

impl SampleUpstream {
    /// The configuration file's path as a command-line argument.
    pub fn config_arg(&self) -> String {
        self.config.display().to_string()
    }
}

impl Drop for SampleUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the sample API on a free loopback port and writes `<dir>/l402.toml` with the text
/// `config` makes from its address.
pub async fn sample_upstream(
    dir: &Path,
    config: impl FnOnce(SocketAddr) -> String,
) -> SampleUpstream {
    let (addr, task) = l402_sample::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("starting the sample API on loopback");
    let path = dir.join("l402.toml");
    std::fs::write(&path, config(addr)).expect("writing the seller's configuration file");
    SampleUpstream {
        addr,
        config: path,
        task,
    }
}
