//! `l402 serve`: the paywall reverse proxy.

mod backends;
mod pricing;
mod readiness;
mod recorder;
mod stack;
mod zero_config;

pub use backends::start_wallet_api;
pub use stack::{Stack, StackOptions, now_unix};

use crate::cli::ServeArgs;
use crate::exit;

/// Runs the proxy until SIGTERM or SIGINT, then drains.
pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let options = StackOptions {
        config: args.config.clone(),
        listen: args.listen,
        data_dir: args.data_dir.clone(),
        sample_port: None,
    };
    if args.check {
        let path = stack::check_config(&options)?;
        println!("configuration OK: {path}");
        return Ok(exit::SUCCESS);
    }
    let stack = Stack::start(options).await?;
    stack.print_summary();
    shutdown_signal().await;
    eprintln!("shutting down: draining in-flight requests...");
    stack.shutdown().await?;
    Ok(exit::SUCCESS)
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
