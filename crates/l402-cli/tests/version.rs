//! `l402 --version` names the version, the commit it was built from and the backends built in.

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
