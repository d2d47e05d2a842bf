//! Shared harness for the end-to-end tests: the real `l402` binary on loopback (its path from
//! `CARGO_BIN_EXE_l402`), through `l402_testkit`.

#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::time::Duration;

pub use l402_testkit::l402::L402Bin;
pub use l402_testkit::wait::{http_client, wait_for_status};
pub use l402_testkit::wallet::{Challenge, Payer, authorization, get_with};
pub use l402_testkit::{ChildGuard, free_addr, free_port, now_unix};

/// The binary under test.
pub fn l402() -> L402Bin {
    L402Bin::new(env!("CARGO_BIN_EXE_l402"))
}

/// Runs `l402 <args>`, its stderr in `<dir>/<name>.log`.
pub fn spawn(dir: &Path, name: &str, args: &[&str]) -> ChildGuard {
    ChildGuard::spawn(&mut l402().command(args), &dir.join(format!("{name}.log")))
}

/// Waits (20 s at most) until `GET url` answers `status`; panics with the log if `process`
/// exits first.
pub async fn wait_for(url: &str, status: u16, process: &mut ChildGuard) {
    wait_for_status(url, status, Duration::from_secs(20), Some(process)).await;
}

/// Starts `l402 serve` with `extra` args on a free port, data in `<dir>/data`; returns it once
/// `/healthz` answers, with its base URL.
pub async fn serve(dir: &Path, extra: &[&str]) -> (ChildGuard, String) {
    let addr = free_addr().to_string();
    let data = dir.join("data").display().to_string();
    let mut args = vec!["serve", "--listen", &addr, "--data-dir", &data];
    args.extend_from_slice(extra);
    let mut p = spawn(dir, "serve", &args);
    let base = format!("http://{addr}");
    wait_for(&format!("{base}/healthz"), 200, &mut p).await;
    (p, base)
}

/// The challenge a gRPC payment-required status carries (`www-authenticate` metadata).
pub fn grpc_challenge(status: &tonic::Status) -> Challenge {
    let values = status
        .metadata()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().expect("ASCII www-authenticate").to_owned());
    Challenge::grpc(status.code() as u32, status.message(), values)
}

/// The sample Greeter's `SayHello("agent")` with `token` as Aperture's `macaroon` metadata;
/// the reply's message.
pub async fn paid_say_hello(
    channel: tonic::transport::Channel,
    token: &l402_core::client::PaidToken,
) -> String {
    let mut metadata = tonic::metadata::MetadataMap::new();
    metadata.insert(
        "macaroon",
        tonic::metadata::MetadataValue::try_from(token.grpc_metadata_value().unwrap()).unwrap(),
    );
    l402_sample::greeter::say_hello(channel, "agent", metadata)
        .await
        .expect("the paid call succeeds")
        .into_inner()
        .message
}
