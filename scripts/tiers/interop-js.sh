#!/usr/bin/env bash
# Interop tier: `l402 serve` (zero-config dev mode) against independent JS L402 clients,
# lsat-js and Alby's @getalby/lightning-tools (see interop/js/README.md).
# Installs the npm packages from the committed lockfile, builds the binary, starts the proxy on a
# free loopback port with a temporary data directory, runs the Node tests, stops what it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
JS_DIR=$ROOT/interop/js
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/l402
# shellcheck source=../lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"
START=$(date +%s)

SERVER_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-interop-js.XXXXXX")

cleanup() {
  local status=$?
  stop_pid "$SERVER_PID"
  [ "$status" -eq 0 ] || show_logs 40 "$WORK/serve.log"
  rm -rf "$WORK"
  tier_result interop-js "$status" "$START"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_node

# 1. npm packages, exactly as locked.
npm_ci "$JS_DIR" "npm ci (interop/js)"

# 2. The binary (reuses the debug build).
step "cargo build -p l402-cli" 2400 cargo build -p l402-cli --locked

# 3. The proxy in zero-config dev mode on a free loopback port.
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
BASE_URL="http://127.0.0.1:$PORT"
DATA_DIR=$WORK/data
mkdir -p "$DATA_DIR"
echo "---- l402 serve --data-dir $DATA_DIR --listen 127.0.0.1:$PORT"
NO_COLOR=1 "$BIN" serve --data-dir "$DATA_DIR" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
wait_ready "$SERVER_PID" "$BASE_URL/readyz" "$DATA_DIR/dev-wallet.json"
echo "PASS l402 serve ready on $BASE_URL (pid $SERVER_PID)"

# 4. The Node tests (one PASS/FAIL line per test, then "interop-js: N passed, N failed").
cd "$JS_DIR"
export L402_BASE_URL=$BASE_URL L402_DATA_DIR=$DATA_DIR
step "node tests (lsat-js, @getalby/lightning-tools)" 300 \
  env L402_REPORT_LABEL=interop-js node --test --test-concurrency=1 --test-timeout=60000 --test-reporter=../reporter.mjs test/*.test.mjs
