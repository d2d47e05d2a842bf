#!/usr/bin/env bash
# Interop tier: `l402 serve` (zero-config dev mode) against independent JS L402 clients,
# lsat-js and Alby's @getalby/lightning-tools (see interop/js/README.md).
# Installs the npm packages from the committed lockfile, builds the binary, starts the proxy on a
# free loopback port with a temporary data directory, runs the Node tests, stops what it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
JS_DIR=$ROOT/interop/js
BIN=$ROOT/target/debug/l402

SERVER_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-interop-js.XXXXXX")

cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -s "$WORK/serve.log" ]; then
    echo "---- l402 serve log (last 40 lines) ----"
    tail -n 40 "$WORK/serve.log"
  fi
  rm -rf "$WORK"
  if [ "$status" -eq 0 ]; then echo "PASS interop-js tier"; else echo "FAIL interop-js tier (exit $status)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL $*" >&2; exit 1; }

# step NAME SECONDS CMD...: runs CMD under a timeout and prints PASS/FAIL NAME.
step() {
  local name=$1 secs=$2
  shift 2
  echo "---- $name"
  if timeout --kill-after=10 "$secs" "$@"; then
    echo "PASS $name"
  else
    local rc=$?
    [ "$rc" -eq 124 ] && echo "(timed out after ${secs}s)"
    fail "$name (exit $rc)"
  fi
}

command -v node >/dev/null || fail "node not found (Node.js >= 20 is needed)"
command -v npm >/dev/null || fail "npm not found"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || fail "Node.js >= 20 needed, found $(node --version)"

# 1. npm packages, exactly as locked (no install scripts: nothing here needs a native build).
step "npm ci (interop/js)" 600 npm ci --prefix "$JS_DIR" --ignore-scripts --no-audit --no-fund

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
ready=
for _ in $(seq 600); do # up to 60 s
  kill -0 "$SERVER_PID" 2>/dev/null || fail "l402 serve exited before it was ready"
  if curl -fsS -o /dev/null --max-time 2 "$BASE_URL/readyz" 2>/dev/null && [ -s "$DATA_DIR/dev-wallet.json" ]; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || fail "l402 serve not ready on $BASE_URL/readyz within 60s"
echo "PASS l402 serve ready on $BASE_URL (pid $SERVER_PID)"

# 4. The Node tests (one PASS/FAIL line per test, then "interop-js: N passed, N failed").
cd "$JS_DIR"
export L402_BASE_URL=$BASE_URL L402_DATA_DIR=$DATA_DIR
step "node tests (lsat-js, @getalby/lightning-tools)" 300 \
  env L402_REPORT_LABEL=interop-js node --test --test-concurrency=1 --test-timeout=60000 --test-reporter=../reporter.mjs test/*.test.mjs
