#!/usr/bin/env bash
# MCP tier: the l402 MCP server driven by a real MCP client, the official TypeScript SDK
# (@modelcontextprotocol/sdk, pinned in interop/mcp-ts/package-lock.json).
#
# Installs the npm packages from the lockfile, builds the binaries, starts `l402 serve`
# zero-config (sample API + embedded dev wallet) on a free loopback port with a temporary data
# directory, starts the MCP server over streamable HTTP with the same data directory (its bearer
# token is read from mcp-http.token there), then runs
# the Node tests: the SDK spawns the MCP server over stdio (StdioClientTransport) with a tight
# budget from the L402_* variables, lists the tools, pays once, reuses the token, is refused
# over budget; checks the HTTP endpoint refuses requests without the token (401) or with a foreign
# Origin (403), and connects to it (StreamableHTTPClientTransport with the token). Then paid
# MCP tools: an MCP server built with the SDK behind a second `l402 serve` selling its `search`
# calls; an SDK client sees the -32042 challenge, and the SDK as agent pays calls through
# `l402 mcp --upstream` (the server answering in SSE, then in JSON).
#
# The MCP server is `target/debug/l402 mcp` when `l402 --help` lists `mcp`, else the stand-in
# example `cargo run -p l402-mcp --example mcp_server` (built once, run from target/).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TS_DIR=$ROOT/interop/mcp-ts
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/debug/l402
TIER=mcp-ts
START=$(date +%s)
# shellcheck source=../lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"

SERVER_PID=
MCP_HTTP_PID=
UPSTREAM_PID=
PAID_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-mcp-ts.XXXXXX")

cleanup() {
  local status=$?
  stop_pid "$MCP_HTTP_PID"
  stop_pid "$PAID_PID"
  stop_pid "$UPSTREAM_PID"
  stop_pid "$SERVER_PID"
  [ "$status" -eq 0 ] || show_logs 40 "$WORK/serve.log" "$WORK/mcp-http.log" "$WORK/paid-serve.log" "$WORK/upstream.log"
  rm -rf "$WORK"
  tier_result "$TIER" "$status" "$START"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port from Node (this tier needs no Python; replaces steps.sh's free_port).
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_until SECONDS PID WHAT CMD...: polls CMD every 0.1 s while PID lives.
wait_until() {
  local secs=$1 pid=$2 what=$3
  shift 3
  for _ in $(seq $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || fail "$what: the process exited before it was ready"
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "$what: not ready within ${secs}s"
}

require_node
command -v curl >/dev/null || fail "curl not found"

# 1. npm packages, exactly as locked.
npm_ci "$TS_DIR" "npm ci (interop/mcp-ts)"

# 2. The binaries (reuse the debug build).
step "cargo build -p l402-cli" 2400 cargo build -p l402-cli --locked
if "$BIN" --help 2>/dev/null | grep -Eq '^[[:space:]]+mcp([[:space:]]|$)'; then
  MCP_CMD=("$BIN" mcp)
  echo "MCP server: l402 mcp"
else
  step "cargo build -p l402-mcp --example mcp_server" 2400 \
    cargo build -p l402-mcp --example mcp_server --locked
  MCP_CMD=("$TARGET_DIR/debug/examples/mcp_server")
  echo "MCP server: the l402-mcp mcp_server example (l402 --help does not list mcp yet)"
fi

# 3. The seller: zero-config `l402 serve` on a free loopback port.
PORT=$(free_port)
SELLER_URL="http://127.0.0.1:$PORT"
DATA_DIR=$WORK/data
mkdir -p "$DATA_DIR" "$WORK/xdg-config" "$WORK/xdg-data"
echo "---- l402 serve --data-dir $DATA_DIR --listen 127.0.0.1:$PORT"
NO_COLOR=1 "$BIN" serve --data-dir "$DATA_DIR" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
wait_until 60 "$SERVER_PID" "l402 serve" \
  sh -c "curl -fsS --max-time 2 -o /dev/null '$SELLER_URL/readyz' && test -s '$DATA_DIR/dev-wallet.json'"
echo "PASS l402 serve ready on $SELLER_URL (pid $SERVER_PID)"

# The buyer's environment, for both MCP servers: the seller's data dir (its dev wallet's
# connection file; the buyer's store goes there too), no user config file, and a tight budget:
# weather (2 sat) fits, then similarity (5 sat) does not fit in the daily 6 sat (each payment
# also reserves the 1 sat fee cap while in flight).
export L402_DATA_DIR=$DATA_DIR
export XDG_CONFIG_HOME=$WORK/xdg-config XDG_DATA_HOME=$WORK/xdg-data
export L402_MAX_COST_SAT=10 L402_MAX_FEE_SAT=1
export L402_HOURLY_BUDGET_SAT=50 L402_DAILY_BUDGET_SAT=6 L402_TOTAL_BUDGET_SAT=100
export L402_LOG=${L402_LOG:-info}
# The seller is on loopback, which l402_fetch refuses by default.
export L402_MCP_ALLOW_PRIVATE_NETWORKS=true
unset L402_CLIENT_CONFIG L402_CONFIG

# 4. The MCP server over streamable HTTP (loopback), for the HTTP test.
MCP_PORT=$(free_port)
MCP_HTTP_URL="http://127.0.0.1:$MCP_PORT/mcp"
echo "---- ${MCP_CMD[*]} --http 127.0.0.1:$MCP_PORT"
NO_COLOR=1 "${MCP_CMD[@]}" --http "127.0.0.1:$MCP_PORT" </dev/null >"$WORK/mcp-http.log" 2>&1 &
MCP_HTTP_PID=$!
# Any HTTP answer means it is listening (a bare GET without a session is a client error).
wait_until 60 "$MCP_HTTP_PID" "MCP HTTP server" \
  curl -sS --max-time 2 -o /dev/null "$MCP_HTTP_URL"
echo "PASS MCP streamable HTTP endpoint on $MCP_HTTP_URL (pid $MCP_HTTP_PID)"
# Its bearer token: created on first run in the data directory (mode 0600), printed once.
TOKEN_FILE=$DATA_DIR/mcp-http.token
[ -s "$TOKEN_FILE" ] || fail "the MCP HTTP server did not create $TOKEN_FILE"
[ "$(stat -c %a "$TOKEN_FILE")" = 600 ] || fail "$TOKEN_FILE is not mode 0600"
grep -q "Authorization: Bearer" "$WORK/mcp-http.log" || fail "the new token was not printed"
MCP_HTTP_TOKEN=$(cat "$TOKEN_FILE")
echo "PASS MCP HTTP bearer token created in $TOKEN_FILE (mode 0600)"

# 5. Paid tool calls: an MCP server built with the SDK (interop/mcp-ts/upstream/server.mjs)
#    behind a second `l402 serve` that sells its `search` calls (`mcp = true`, 2 sat), paid
#    through the first seller's dev wallet (the buyer's).
UP_PORT=$(free_port)
node "$TS_DIR/upstream/server.mjs" "$UP_PORT" >"$WORK/upstream.log" 2>&1 &
UPSTREAM_PID=$!
wait_until 30 "$UPSTREAM_PID" "the SDK's MCP server" curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$UP_PORT/seen"
PAID_PORT=$(free_port)
PAID_DATA=$WORK/paid-data
mkdir -p "$PAID_DATA"
# Two services on the same upstream: /mcp answered in server-sent events, /json in JSON.
{
  cat <<TOML
mpp_realm = "mcp-ts.test"

[backend]
kind = "dev"

[backend.dev]
connection_file = "$DATA_DIR/dev-wallet.json"
TOML
  for service in "tools /mcp" "tools-json /json"; do
    read -r name prefix <<<"$service"
    cat <<TOML

[[services]]
name = "$name"
path_prefix = "$prefix"
upstream = "http://127.0.0.1:$UP_PORT"
mcp = true
price_sat = 0

[[services.tools]]
name = "search"
price_sat = 2
TOML
  done
} >"$WORK/paid-mcp.toml"
echo "---- l402 serve --config paid-mcp.toml --listen 127.0.0.1:$PAID_PORT (MCP tools sold)"
NO_COLOR=1 "$BIN" serve --config "$WORK/paid-mcp.toml" --data-dir "$PAID_DATA" --listen "127.0.0.1:$PAID_PORT" \
  >"$WORK/paid-serve.log" 2>&1 &
PAID_PID=$!
wait_until 60 "$PAID_PID" "l402 serve (MCP tools)" curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$PAID_PORT/readyz"
echo "PASS l402 serve sells the SDK server's tools on http://127.0.0.1:$PAID_PORT/mcp (pid $PAID_PID)"
export PAID_MCP_URL=http://127.0.0.1:$PAID_PORT/mcp
export PAID_MCP_JSON_URL=http://127.0.0.1:$PAID_PORT/json/mcp
export UPSTREAM_SEEN_URL=http://127.0.0.1:$UP_PORT/seen

# 6. The Node tests (one PASS/FAIL line per test, then "N passed, N failed").
MCP_CMD_JSON=$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' "${MCP_CMD[@]}")
export MCP_CMD_JSON MCP_HTTP_URL MCP_HTTP_TOKEN SELLER_URL
cd "$TS_DIR"
step "node tests (@modelcontextprotocol/sdk: stdio + streamable HTTP)" 300 \
  env L402_REPORT_LABEL=mcp-ts node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=../reporter.mjs test/*.test.mjs
