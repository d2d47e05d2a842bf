#!/usr/bin/env bash
# Interop tier: the HTTP `Payment` scheme (MPP, Lightning charge) against mppx, an independent
# implementation of the scheme's core (challenge, credential, receipt, challenge-id HMAC), with
# a small Lightning method over our dev wallet (interop/mppx/lightning.mjs):
#  - mppx as the client of `l402 serve` (one service `protocols = ["mpp"]`, one with both),
#    and as the verifier of our challenge ids (from the seller's secret);
#  - mppx as the server, paid by `l402 fetch`;
#  - mppx's MCP client (over the official MCP SDK's Client) paying the tool calls `l402 serve`
#    sells (`mcp = true`) in front of an MCP SDK server (interop/mcp-ts/upstream/server.mjs);
#  - mppx as a paid MCP server, paid by `l402 mcp --upstream`.
# Installs the npm packages from the committed lockfile, builds the binary, starts a Python
# upstream and the proxy on free loopback ports with a temporary data directory, runs the Node
# tests, stops what it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MPPX_DIR=$ROOT/interop/mppx
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/l402
# shellcheck source=../lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"
START=$(date +%s)

SERVER_PID=
UPSTREAM_PID=
MCP_UPSTREAM_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-mppx.XXXXXX")

cleanup() {
  local status=$?
  stop_pid "$SERVER_PID"
  stop_pid "$UPSTREAM_PID"
  stop_pid "$MCP_UPSTREAM_PID"
  [ "$status" -eq 0 ] || show_logs 40 "$WORK/serve.log" "$WORK/upstream.log" "$WORK/mcp-upstream.log"
  rm -rf "$WORK"
  tier_result mppx "$status" "$START"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_node
command -v python3 >/dev/null || fail "python3 not found"

# 1. npm packages, exactly as locked.
npm_ci "$MPPX_DIR" "npm ci (interop/mppx)"
# The MCP upstream whose tool calls l402 serve sells (an MCP TypeScript SDK server).
npm_ci "$ROOT/interop/mcp-ts" "npm ci (interop/mcp-ts, for its MCP upstream server)"

# 2. The binary (reuses the debug build).
step "cargo build -p l402-cli" 2400 cargo build -p l402-cli --locked

# 3. An upstream (Python's http.server) and the proxy selling it: /mpp by the Payment scheme
#    only, /both by L402 and Payment.
mkdir -p "$WORK/www/mpp" "$WORK/www/both"
echo "hello from the mpp upstream" >"$WORK/www/mpp/hello.txt"
echo "hello from the both upstream" >"$WORK/www/both/hello.txt"
UPSTREAM_PORT=$(free_port)
python3 -m http.server "$UPSTREAM_PORT" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/upstream.log" 2>&1 &
UPSTREAM_PID=$!
# Python takes a moment to start (seconds on a loaded machine): wait for it to answer.
wait_ready "$UPSTREAM_PID" "http://127.0.0.1:$UPSTREAM_PORT/mpp/hello.txt" "" 20
MCP_UPSTREAM_PORT=$(free_port)
node "$ROOT/interop/mcp-ts/upstream/server.mjs" "$MCP_UPSTREAM_PORT" >"$WORK/mcp-upstream.log" 2>&1 &
MCP_UPSTREAM_PID=$!
wait_ready "$MCP_UPSTREAM_PID" "http://127.0.0.1:$MCP_UPSTREAM_PORT/seen" "" 20
PORT=$(free_port)
BASE_URL="http://127.0.0.1:$PORT"
DATA_DIR=$WORK/data
REALM=mppx-tier.test
cat >"$WORK/l402.toml" <<TOML
data_dir = "$DATA_DIR"
mpp_realm = "$REALM"

[listen]
addr = "127.0.0.1:$PORT"

[[services]]
name = "mpp"
path_prefix = "/mpp"
upstream = "http://127.0.0.1:$UPSTREAM_PORT"
price_sat = 2
protocols = ["mpp"]

[[services]]
name = "both"
path_prefix = "/both"
upstream = "http://127.0.0.1:$UPSTREAM_PORT"
price_sat = 3
token_lifetime_secs = 3600
protocols = ["l402", "mpp"]

[[services]]
name = "tools"
path_prefix = "/mcp"
upstream = "http://127.0.0.1:$MCP_UPSTREAM_PORT"
mcp = true
price_sat = 0

[[services.tools]]
name = "search"
price_sat = 4
TOML
echo "---- l402 serve --config $WORK/l402.toml"
NO_COLOR=1 "$BIN" serve --config "$WORK/l402.toml" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
wait_ready "$SERVER_PID" "$BASE_URL/readyz" "$DATA_DIR/dev-wallet.json"
echo "PASS l402 serve ready on $BASE_URL (pid $SERVER_PID)"

# The challenge-id secret, as the seller keeps it (made at start, because a service sells MPP).
SECRET=$(python3 - "$DATA_DIR/l402.db" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT value FROM settings WHERE key = 'mpp_challenge_secret'").fetchone()
print(row[0] if row else "")
PY
)
[ -n "$SECRET" ] || fail "no mpp_challenge_secret in $DATA_DIR/l402.db"

# 4. The Node tests (one PASS/FAIL line per test, then "mppx: N passed, N failed").
cd "$MPPX_DIR"
export L402_BASE_URL=$BASE_URL L402_DATA_DIR=$DATA_DIR L402_MPP_SECRET=$SECRET L402_MPP_REALM=$REALM L402_BIN=$BIN
export L402_MCP_URL=$BASE_URL/mcp L402_MCP_SEEN_URL=http://127.0.0.1:$MCP_UPSTREAM_PORT/seen
step "node tests (mppx $(node -p 'require("./node_modules/mppx/package.json").version'))" 300 \
  env L402_REPORT_LABEL=mppx node --test --test-concurrency=1 --test-timeout=60000 --test-reporter=../reporter.mjs test/*.test.mjs
