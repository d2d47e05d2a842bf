//! `l402 completions SHELL` and `l402 man`: shell completions and the manual page, generated
//! from the command-line definition so they never drift from it.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, version};
use crate::exit;

/// `l402 completions` arguments.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Install, e.g.: l402 completions bash > ~/.local/share/bash-completion/completions/l402\n\
    zsh: l402 completions zsh > \"${fpath[1]}/_l402\"   fish: l402 completions fish > ~/.config/fish/completions/l402.fish"
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The command definition with the version `--version` prints.
fn command() -> clap::Command {
    Cli::command().version(version())
}

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command(), "l402", &mut out);
    write_stdout(&out)
}

/// Writes the `l402(1)` manual page (roff) to stdout: `l402 man | man -l -`.
pub fn man() -> anyhow::Result<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command()).render(&mut out)?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<u8> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(exit::SUCCESS)
}
