//! Shared harness for the end-to-end tests: runs the real `l402` binary on loopback.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use l402_core::Msat;
use l402_core::client::{Decision, PaidToken, PayPolicy, RequestFlow, ResponseView};
use l402_core::invoice::Network;
use l402_lightning::dev::DevWalletClient;
use l402_lightning::{LightningBackend, PayOptions};

/// A child process killed on drop.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Sends SIGTERM and waits up to `limit` for exit; returns the exit status code.
    pub fn terminate(&mut self, limit: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
    /// The process's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `l402 <args>`, logging stderr to a file in `dir`.
pub fn spawn(dir: &Path, name: &str, args: &[&str]) -> Proc {
    let log = dir.join(format!("{name}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_l402"))
        .args(args)
        .env_remove("L402_CONFIG")
        .env_remove("L402_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Proc { child, log }
}

/// Waits until `GET url` answers `status` (or panics after 20 s with the process log).
pub async fn wait_for(url: &str, status: u16, proc_: &Proc) {
    let client = l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(r) = client.get(url).send().await
            && r.status().as_u16() == status
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never answered {status}; log:\n{}", proc_.log());
}

/// Starts `l402 serve` with `extra` args on a free port; returns it and its base URL.
pub async fn serve(dir: &Path, extra: &[&str]) -> (Proc, String) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let data = dir.join("data");
    let (addr_s, data_s) = (addr.to_string(), data.display().to_string());
    let mut args = vec![
        "serve",
        "--listen",
        addr_s.as_str(),
        "--data-dir",
        data_s.as_str(),
    ];
    args.extend_from_slice(extra);
    let p = spawn(dir, "serve", &args);
    let base = format!("http://{addr}");
    wait_for(&format!("{base}/healthz"), 200, &p).await;
    (p, base)
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Pays the challenge in `www_authenticate` through `wallet`; returns the paid token.
pub async fn pay(
    wallet: &DevWalletClient,
    www_authenticate: &[&str],
    status: u16,
    grpc: Option<(u32, &str)>,
) -> PaidToken {
    let mut flow = RequestFlow::new(
        PayPolicy {
            network: Network::Regtest,
            max_amount: Msat::from_sat(1000),
            now_unix: now(),
        },
        false,
    );
    let view = ResponseView {
        status,
        www_authenticate,
        grpc_status: grpc.map(|g| g.0),
        grpc_message: grpc.map(|g| g.1),
    };
    let Decision::Pay { plan, .. } = flow.on_response(&view) else {
        panic!("not a payable challenge: {www_authenticate:?}")
    };
    let paid = wallet
        .pay_invoice(
            &plan.challenge.invoice,
            PayOptions {
                max_fee: Msat(0),
                timeout: Duration::from_secs(10),
            },
        )
        .await
        .expect("dev wallet pays");
    flow.on_paid(paid.preimage).unwrap()
}

/// `GET`s `url` expecting a 402; pays it; returns the token.
pub async fn buy(wallet: &DevWalletClient, url: &str) -> PaidToken {
    let r = get(url).await.unwrap();
    assert_eq!(r.status(), 402, "expected a challenge from {url}");
    let values: Vec<String> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    pay(wallet, &refs, 402, None).await
}

/// `GET url` with the token.
pub async fn get_with(url: &str, token: &PaidToken) -> reqwest::Response {
    l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap()
        .get(url)
        .header("authorization", &token.authorization_values()[1])
        .send()
        .await
        .unwrap()
}

/// `GET url` through a client from the TLS home (a bare `reqwest::get` would have no crypto
/// provider in this build).
pub async fn get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    l402_tls::reqwest_builder(&l402_tls::Trust::WebPki)
        .unwrap()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
}
