#!/usr/bin/env bash
# LND tier: the LND REST backend against real LND nodes on a btcd regtest chain.
#
# Builds lnd/lncli/btcd/btcctl from the Go module proxy (cached outside the repo, see
# scripts/lib/lnd-build.sh), starts btcd and two LND nodes (alice pays, bob sells) on free
# loopback ports in a temporary directory, funds alice, opens alice→bob, then runs
# crates/l402-cli/tests/lnd_tier.rs (#[ignore]d in the plain `cargo test`, so run here with
# `--ignored`; it gets the binary from CARGO_BIN_EXE_l402): the backend conformance suite, the
# full L402 flow through `l402 serve` with bob as its backend, and bob stopped and restarted
# mid-run.
# Every process is stopped by PID on exit; every wait is bounded.
#
#   scripts/tiers/lnd.sh          # KEEP=1 keeps the temporary directory (logs) on success
set -euo pipefail
# shellcheck source=../lib/tier-common.sh
. "$(dirname "$0")/../lib/tier-common.sh"
regtest_tier_init lnd
STATUS_LINE=

cleanup() {
  local status=$?
  "$CTL" "$WORK" stop-all 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    for f in "$WORK"/btcd/stdout.log "$WORK"/alice/stdout.log "$WORK"/bob/stdout.log; do
      [ -s "$f" ] || continue
      echo "---- $f (last 25 lines)"
      tail -n 25 "$f"
    done
    for f in "$WORK"/alice/logs/bitcoin/regtest/lnd.log "$WORK"/bob/logs/bitcoin/regtest/lnd.log; do
      [ -s "$f" ] || continue
      echo "---- $f (last 40 lines)"
      tail -n 40 "$f"
    done
  fi
  if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "(kept $WORK)"; fi
  echo "lnd tier wall time: $(( $(date +%s) - T0 ))s${STATUS_LINE:+ ($STATUS_LINE)}"
  if [ "$status" -eq 0 ]; then echo "PASS lnd tier"; else echo "FAIL lnd tier (exit $status)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v python3 >/dev/null || fail "python3 is needed (free ports, JSON)"

# 1. Binaries (cached), and the Rust side.
t=$(date +%s)
BIN=$(timeout 3600 "$ROOT/scripts/lib/lnd-build.sh" | tail -n 1) || fail "building lnd/btcd"
BUILD_SECS=$(( $(date +%s) - t ))
echo "PASS lnd/btcd binaries in $BIN (${BUILD_SECS}s): $("$BIN/lnd" --version | head -n 1)"
# Builds the test and the `l402` binary it runs.
step "cargo test --no-run (lnd_tier)" 2400 \
  cargo test -p l402-cli --test lnd_tier --locked --no-run

# 2-4. btcd, alice and bob, funds, and the alice → bob channel.
start_regtest_network "$BIN"
echo "PASS regtest network ready ($(( $(date +%s) - T_NET ))s): alice → bob 1000000 sat"

# 5. The Rust tier tests.
. "$WORK/env"
LND_ENV=(
  "L402_LND_DIR=$WORK"
  "L402_LND_CTL=$CTL"
  "L402_LND_ALICE_REST=https://127.0.0.1:$REST_ALICE"
  "L402_LND_ALICE_GRPC=127.0.0.1:$RPC_ALICE"
  "L402_LND_ALICE_TLS_CERT=$WORK/alice/tls.cert"
  "L402_LND_ALICE_MACAROON=$WORK/alice/data/chain/bitcoin/regtest/admin.macaroon"
  "L402_LND_BOB_REST=https://127.0.0.1:$REST_BOB"
  "L402_LND_BOB_GRPC=127.0.0.1:$RPC_BOB"
  "L402_LND_BOB_TLS_CERT=$WORK/bob/tls.cert"
  "L402_LND_BOB_MACAROON=$WORK/bob/data/chain/bitcoin/regtest/admin.macaroon"
  "L402_LND_BOB_INVOICE_MACAROON=$WORK/bob/data/chain/bitcoin/regtest/invoice.macaroon"
)
step "lnd_tier tests" 900 env "${LND_ENV[@]}" \
  cargo test -p l402-cli --test lnd_tier --locked -- --ignored --nocapture --test-threads=1
STATUS_LINE="lnd/btcd build ${BUILD_SECS}s; $("$BIN/lnd" --version | head -n 1)"
