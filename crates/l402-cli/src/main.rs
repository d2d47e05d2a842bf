//! `l402`: the L402 toolkit's one binary. Parsing, wiring and output only; the logic lives in
//! the libraries.

mod access_line;
mod admin;
mod allocator;
mod banner;
mod buyer;
mod cli;
mod demo;
mod doctor;
mod exit;
mod keys;
mod log_format;
mod log_writer;
mod manual;
mod mcp;
mod revoke;
mod serve;
mod wallet;
mod when;

fn main() -> std::process::ExitCode {
    let cli = cli::parse();
    let serving = matches!(
        cli.command,
        cli::Command::Serve(_) | cli::Command::Wallet(cli::WalletCommand::Serve(_))
    );
    let log_guard = init_tracing(cli.verbose, serving);
    let runtime = match runtime(cli.command.runtime_threads()) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::code(exit::FAILURE);
        }
    };
    let result = runtime.block_on(cli::dispatch(cli.command, cli.verbose));
    // What was logged (the runtime's shutdown included) comes out before the final error line.
    drop(runtime);
    drop(log_guard);
    match result {
        Ok(code) => exit::code(code),
        Err(error) => {
            eprintln!("error: {}", exit::describe(error.as_ref()));
            exit::code(exit::classify(&error))
        }
    }
}

/// The async runtime: one thread per core by default; `threads` of them when asked, a single
/// thread (a current-thread runtime, no work stealing) for `1`.
fn runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build()
}

/// Servers log requests at `info`; client commands stay quiet unless asked (`-v`). A server's
/// logs go to stderr in batches (see [`log_writer`]), so a request never waits for the
/// terminal; the returned guard flushes them on exit. Other commands write each line at once,
/// so their lines stay in order with what they print.
fn init_tracing(verbose: u8, serving: bool) -> Option<log_writer::FlushGuard> {
    let default = match (verbose, serving) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        _ => "debug",
    };
    let filter_text = std::env::var("L402_LOG").ok();
    let filter = tracing_subscriber::EnvFilter::try_from_env("L402_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_target(false)
        .fmt_fields(log_format::LineFields)
        .with_timer(log_format::LineTime);
    if serving {
        let (writer, guard) = log_writer::batched(std::io::stderr());
        let installed = builder.with_writer(writer.clone()).try_init().is_ok();
        // With colours on, the event's formatter styles the fields: only plain lines are
        // written directly.
        if installed && !ansi && access_line::filter_allows_direct(filter_text.as_deref()) {
            let _ = l402_server::access_log::install(access_line::DirectAccessLog::new(writer));
        }
        Some(guard)
    } else {
        let _ = builder.with_writer(std::io::stderr).try_init();
        None
    }
}
