#!/usr/bin/env bash
# Soak bench: `l402 serve` under 10 minutes of mixed load on loopback (paid and unpaid
# requests, forged and malformed credentials, tricky paths, revocations, the dev wallet stopped
# for 15 s every minute), reporting 5xx other than the expected 503s, paid requests refused,
# resident memory and open files after warm-up against the end, and store growth. The run is
# crates/l402-cli/tests/soak.rs (#[ignore]d in the plain `cargo test`); it fails when a goal is
# missed.
#
#   bench/soak.sh [SECONDS] [--out FILE]      (default 600 s; the Markdown report goes to FILE too)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=600
OUT=
while [ "$#" -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    *) SECS=$1; shift ;;
  esac
done
export L402_SOAK_SECS=$SECS
[ -n "$OUT" ] && export L402_SOAK_REPORT=$OUT
cargo test -p l402-cli --test soak --locked -- --ignored --nocapture
