//! `l402 serve`: the paywall reverse proxy of `l402-seller`, with its output and signals.

use l402_seller::{Seller, SellerError, SellerHandle, SellerOptions};

use crate::cli::ServeArgs;
use crate::{banner, exit};

/// Runs the proxy until SIGTERM or SIGINT, then drains.
pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let mut options = SellerOptions::new();
    options.config_file = args.config.clone();
    options.listen = args.listen;
    options.admin_listen = args.admin_listen;
    options.data_dir = args.data_dir.clone();
    if args.check {
        let report = Seller::check(&options).await.map_err(seller_error)?;
        for warning in &report.warnings {
            eprintln!("{warning}");
        }
        let what = report
            .config_file
            .map_or("built-in zero-config".to_owned(), |p| {
                p.display().to_string()
            });
        println!("configuration OK: {what}");
        return Ok(exit::SUCCESS);
    }
    let seller = Seller::start(options).await.map_err(seller_error)?;
    print_summary(&seller);
    serve_until_shutdown(&seller).await;
    eprintln!("shutting down: draining in-flight requests...");
    seller.shutdown().await?;
    Ok(exit::SUCCESS)
}

/// A seller error for `main`: configuration errors get the hint to `--check` (exit code 2);
/// the others keep their source chain and their exit code (see [`exit::classify`]).
pub fn seller_error(error: SellerError) -> anyhow::Error {
    match error {
        SellerError::Config(e) => exit::with_code(
            exit::BAD_INPUT,
            format!(
                "{e}\nhint: run `l402 serve --check --config <file>` after fixing it; every key is documented in crates/l402-seller/CONFIG.md"
            ),
        ),
        other => anyhow::Error::new(other),
    }
}

/// Prints the warnings, the dev-mode banner, where everything listens and how to try it.
pub fn print_summary(seller: &SellerHandle) {
    for warning in seller.warnings() {
        eprintln!("{warning}");
    }
    if let Some(url) = seller.dev_wallet_url() {
        banner::dev_mode(url);
    }
    let base = format!("http://{}", seller.proxy_addr());
    eprintln!("l402 serve: paywall proxy listening on {base}");
    eprintln!("  data directory: {}", seller.data_dir().display());
    if let Some(sample) = seller.sample_addr() {
        eprintln!("  selling the built-in sample API (upstream {sample}):");
        eprintln!("    POST {base}/api/similarity   5 sat  (cosine similarity)");
        eprintln!("    GET  {base}/api/weather?city=Paris   2 sat");
        eprintln!("    gRPC helloworld.Greeter/SayHello   1 sat");
        eprintln!("  try: l402 fetch '{base}/api/weather?city=Paris'");
        eprintln!(
            "  prices, free: l402 discover {base}  ({base}/.well-known/l402.json, {base}/openapi.json)"
        );
    }
    eprintln!("  health: {base}/healthz  readiness: {base}/readyz");
    if let Some(admin) = seller.admin_addr() {
        eprintln!(
            "  admin: dashboard http://{admin}/dashboard  API http://{admin}/api/v1  metrics http://{admin}/metrics"
        );
        eprintln!(
            "    admin macaroons (paste one into the dashboard, or `l402 admin status`): {}/admin.macaroon, admin-readonly.macaroon",
            seller.data_dir().display()
        );
    }
}

/// Waits for SIGTERM or SIGINT; on each SIGHUP, reads the configuration file again and puts
/// it in force (a file that does not pass is refused with the reason, and the running
/// configuration stays).
async fn serve_until_shutdown(seller: &SellerHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut hangup) = signal(SignalKind::hangup()) {
            let shutdown = shutdown_signal();
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    () = &mut shutdown => return,
                    Some(()) = hangup.recv() => report_reload(seller.reload_from_file().await),
                }
            }
        }
    }
    shutdown_signal().await;
}

/// Tells the operator what a SIGHUP did.
fn report_reload(result: Result<l402_seller::ReloadReport, SellerError>) {
    match result {
        Ok(report) => {
            for warning in &report.warnings {
                eprintln!("{warning}");
            }
            eprintln!(
                "SIGHUP: reloaded the configuration: {} services, {} routes in force for the next request",
                report.services, report.routes
            );
        }
        Err(e) => eprintln!(
            "SIGHUP: reload refused, still serving the previous configuration: {:#}",
            anyhow::Error::new(e)
        ),
    }
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
