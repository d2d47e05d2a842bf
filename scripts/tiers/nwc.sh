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
# shellcheck source=../lib/steps.sh
source scripts/lib/steps.sh

finish() {
  local status=$?
  tier_result nwc "$status" "$TIER_START"
  exit "$status"
}
trap finish EXIT

step "cargo test --test nwc_relay" 1200 \
  cargo test -p l402-lightning --features conformance --locked --test nwc_relay -- --nocapture
step "cargo test --test serve_nwc" 1200 \
  cargo test -p l402-cli --locked --test serve_nwc -- --nocapture
