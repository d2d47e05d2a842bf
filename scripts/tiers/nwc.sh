#!/usr/bin/env bash
# NWC tier: the Nostr Wallet Connect backend against an in-process Nostr relay on loopback and a
# NIP-47 wallet service over the dev wallet (both from l402-testkit's `nwc` module):
# crates/l402-lightning/tests/nwc_relay.rs, the conformance suite (NIP-04 and NIP-44 wallets),
# typed errors, time limits, reconnection; and crates/l402-cli/tests/serve_nwc.rs, the L402 flow
# through the real `l402 serve` with `[backend] kind = "nwc"` plus `l402 fetch` with an nwc
# wallet (the binary from CARGO_BIN_EXE_l402).
#
# The same tests run in the plain `cargo test --workspace`; none is ignored and none skips.
# Everything is offline; every step is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
TIER_START=$(date +%s)

finish() {
  local status=$? secs=$(($(date +%s) - TIER_START))
  if [ "$status" -eq 0 ]; then
    echo "PASS nwc tier (${secs}s)"
  else
    echo "FAIL nwc tier (exit $status, ${secs}s)"
  fi
  exit "$status"
}
trap finish EXIT

step() {
  local name=$1 secs=$2 t0=$SECONDS
  shift 2
  echo "---- $name"
  if timeout --kill-after=10 "$secs" "$@"; then
    echo "PASS $name ($((SECONDS - t0))s)"
  else
    local rc=$?
    [ "$rc" -eq 124 ] && echo "(timed out after ${secs}s)"
    echo "FAIL $name (exit $rc)" >&2
    exit 1
  fi
}

step "cargo test --test nwc_relay" 1200 \
  cargo test -p l402-lightning --features conformance --locked --test nwc_relay -- --nocapture
step "cargo test --test serve_nwc" 1200 \
  cargo test -p l402-cli --locked --test serve_nwc -- --nocapture
