#!/usr/bin/env bash
# The dashboard tier: the admin dashboard of `l402 serve` in a real browser.
#
# 1. Installs Debian's `chromium` when missing, and playwright-core (pinned in
#    interop/dashboard/package-lock.json; it drives the installed browser, downloads none).
# 2. Starts `l402 serve --admin-listen` zero-config (sample API, embedded dev wallet) on free
#    loopback ports with a temporary data directory.
# 3. Runs interop/dashboard/test/*.test.mjs: three purchases through the dev wallet, then the
#    page must load without console errors, show the revenue and payments the API reports, and
#    revoke and restore a token by clicks; a read-only macaroon sees but cannot revoke; a bad
#    one is refused.
# SCREENSHOT_DIR=docs refreshes docs/dashboard.png (the README's picture).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TIER=dashboard
START=$(date +%s)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/l402
# shellcheck source=../lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"

SERVER_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-dashboard.XXXXXX")
cleanup() {
  local status=$?
  stop_pid "$SERVER_PID"
  [ "$status" -eq 0 ] || show_logs 40 "$WORK/serve.log"
  rm -rf "$WORK"
  tier_result "$TIER" "$status" "$START"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_node
command -v curl >/dev/null || fail "curl not found"
if ! command -v chromium >/dev/null; then
  step "apt-get install chromium" 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
CHROMIUM=$(command -v chromium) || fail "chromium not found after installing it"
echo "using $("$CHROMIUM" --version 2>/dev/null | head -1)"
npm_ci "$ROOT/interop/dashboard" "npm ci (interop/dashboard: playwright-core)"
step "cargo build -p l402-cli" 2400 cargo build -p l402-cli --locked

PORT=$(free_port)
ADMIN_PORT=$(free_port)
DATA_DIR=$WORK/data
echo "---- l402 serve --listen 127.0.0.1:$PORT --admin-listen 127.0.0.1:$ADMIN_PORT"
NO_COLOR=1 "$BIN" serve --data-dir "$DATA_DIR" --listen "127.0.0.1:$PORT" \
  --admin-listen "127.0.0.1:$ADMIN_PORT" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
poll 60 "l402 serve ready" sh -c "curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:$PORT/readyz \
  && curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:$ADMIN_PORT/healthz \
  && test -s '$DATA_DIR/admin.macaroon' && test -s '$DATA_DIR/dev-wallet.json'"
echo "PASS l402 serve ready (pid $SERVER_PID), admin listener on 127.0.0.1:$ADMIN_PORT"

export SELLER_URL=http://127.0.0.1:$PORT ADMIN_URL=http://127.0.0.1:$ADMIN_PORT DATA_DIR CHROMIUM
[ -z "${SCREENSHOT_DIR:-}" ] || export SCREENSHOT_DIR=$(cd "$SCREENSHOT_DIR" && pwd)
cd "$ROOT/interop/dashboard"
step "node tests (headless Chromium via playwright-core)" 300 \
  env L402_REPORT_LABEL=dashboard node --test --test-concurrency=1 --test-timeout=120000 \
  --test-reporter=../reporter.mjs test/*.test.mjs
