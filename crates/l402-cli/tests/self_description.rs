//! What the binary says about itself: `l402 --version` (the version, the commit it was built
//! from and the backends built in), shell completions and the manual page, all generated from
//! the command-line definition.

mod common;

use common::*;

#[test]
fn version_names_the_commit_and_the_backends() {
    let out = l402().command(["--version"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    let expected_start = format!("l402 {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected_start), "{text}");
    let commit = text[expected_start.len()..].split(';').next().unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{text}"
    );
    assert!(
        text.ends_with("; backends: dev, lnd, lnbits, nwc, cln)\n"),
        "one line, ending with a newline: {text:?}"
    );
}

#[test]
fn completions_cover_every_command_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _l402"),
        ("zsh", "#compdef l402"),
        ("fish", "complete -c l402"),
        ("elvish", "edit:completion:arg-completer[l402]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = l402().command(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for command in [
            "serve", "fetch", "discover", "doctor", "receipts", "balance",
        ] {
            assert!(script.contains(command), "{shell}: no {command}");
        }
    }
    let out = l402().command(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_manual_page_is_roff_naming_every_command() {
    let out = l402().command(["man"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH l402 1"), "{page}");
    for command in [
        "serve",
        "fetch",
        "discover",
        "doctor",
        "completions",
        "wallet",
    ] {
        assert!(page.contains(command), "no {command}");
    }
    assert!(
        page.contains(env!("CARGO_PKG_VERSION")),
        "the version is on the page"
    );
}
