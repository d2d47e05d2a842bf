#!/usr/bin/env bash
# LNbits tier: the LNbits backend against a real LNbits 1.6.2 (FakeWallet funding source: the
# real REST API and real signed BOLT11 invoices, with an internal ledger instead of Lightning).
#
# 1. Installs lnbits into a venv cached outside the repo (reused when its pins are unchanged),
#    while building the tier's test binary (and the `l402` binary it runs).
# 2. Starts LNbits headless over HTTPS (a throwaway test CA made with openssl; the websocket is
#    then WSS) on a free loopback port with a temporary data directory, finishes
#    its first install, creates the wallets `seller` and `buyer` and funds the buyer through the
#    super-user API.
# 3. Runs crates/l402-cli/tests/lnbits_tier.rs with `--include-ignored` (its LNbits tests are
#    #[ignore]d in the plain `cargo test`), the wallets' keys in the environment and
#    SSL_CERT_FILE naming the test CA (the backend, and the `l402 serve` it starts, trust it
#    through l402-tls's Trust::from_env):
#    the shared conformance suite (seller and buyer both LnbitsBackend), error mapping against
#    the real API, the whole L402 flow through `l402 serve` with LNbits on both sides, and
#    `l402 serve` failing fast on a bad key or a dead LNbits.
# 4. Stops LNbits (its whole process group) whatever happened.
#
# Every wait is bounded. Variables: L402_LNBITS_VENV, L402_LNBITS_PYTHON (scripts/lib/lnbits.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# shellcheck source=../lib/lnbits.sh
source "$ROOT/scripts/lib/lnbits.sh"
# shellcheck source=../lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"

TIER_START=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-lnbits-tier.XXXXXX")
VENV_PID=

cleanup() {
  local status=$?
  if [ -n "$VENV_PID" ]; then
    kill "$VENV_PID" 2>/dev/null || true
    wait "$VENV_PID" 2>/dev/null || true
  fi
  lnbits_stop
  [ "$status" -eq 0 ] || show_logs 60 "$WORK/venv.log" "$WORK/lnbits.log"
  rm -rf "$WORK"
  tier_result lnbits "$status" "$TIER_START"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v curl >/dev/null || fail "curl not found"
command -v setsid >/dev/null || fail "setsid not found (util-linux)"

# 1. The venv in the background (mostly downloads) while cargo compiles.
lnbits_python >/dev/null || fail "no usable Python for lnbits"
echo "---- lnbits venv (background, log $WORK/venv.log)"
( lnbits_ensure_venv ) >"$WORK/venv.log" 2>&1 &
VENV_PID=$!

step "cargo test --no-run (lnbits_tier)" 2400 \
  cargo test -p l402-cli --locked --test lnbits_tier --no-run

echo "---- waiting for the lnbits venv"
t0=$SECONDS
if ! wait "$VENV_PID"; then
  VENV_PID=
  fail "lnbits venv (see the log above)"
fi
VENV_PID=
cat "$WORK/venv.log"
echo "PASS lnbits venv (waited $((SECONDS - t0))s more)"

# 2. LNbits over HTTPS on a free loopback port, fresh data directory, two wallets.
PORT=$(lnbits_free_port)
lnbits_make_test_ca "$WORK/tls" || fail "test CA"
lnbits_start "$WORK/lnbits-data" "$PORT" "$WORK/lnbits.log" "$WORK/tls"
echo "---- lnbits answers"
lnbits_wait 90 || fail "lnbits did not answer"
echo "---- lnbits bootstrap (first install, wallets, funding)"
lnbits_bootstrap "$WORK/wallets.env" || fail "lnbits bootstrap"
# shellcheck disable=SC1091
source "$WORK/wallets.env"

# 3. The tests: the ignored ones need LNbits (and fail without their variables), the others
#    run too.
step "cargo test --test lnbits_tier (against LNbits $LNBITS_VERSION on $LNBITS_URL)" 900 \
  env SSL_CERT_FILE="$LNBITS_CA" cargo test -p l402-cli --locked --test lnbits_tier -- --include-ignored --nocapture
