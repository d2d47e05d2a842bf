#!/usr/bin/env bash
# Path-normalisation tier: `l402 serve` in front of real upstreams that normalise paths their
# own way (nginx from Debian, Python's standard http.server, Go's net/http ServeMux), each with
# a priced handler and a free one (scripts/lib/paths-upstreams/). For a table of tricky paths,
# crates/l402-cli/tests/paths_tier.rs (#[ignore]d in the plain `cargo test`) checks that no
# unpaid request reaches a priced handler and that free paths are no way into a priced one.
#
# Installs nginx (apt) when missing, builds the Go upstream, starts the three upstreams on free
# loopback ports as this user (nginx with a temporary prefix), and runs the test with
# L402_PATHS_UPSTREAMS naming them.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TIER=paths
START=$(date +%s)
UPSTREAMS=$ROOT/scripts/lib/paths-upstreams
# shellcheck source=../lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"

NGINX_PID=
PYTHON_PID=
GO_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-paths-tier.XXXXXX")

cleanup() {
  local status=$?
  stop_pid "$GO_PID"
  stop_pid "$PYTHON_PID"
  stop_pid "$NGINX_PID"
  [ "$status" -eq 0 ] || show_logs 40 "$WORK/nginx/error.log" "$WORK/python.log" "$WORK/go.log"
  rm -rf "$WORK"
  tier_result "$TIER" "$status" "$START"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_http PID NAME URL: until URL answers (any status), while PID lives; 30 s at most.
wait_http() {
  local pid=$1 name=$2 url=$3
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || fail "$name exited before it was ready"
    if curl -sS --max-time 1 -o /dev/null "$url" 2>/dev/null; then
      echo "PASS $name listening on $url (pid $pid)"
      return 0
    fi
    sleep 0.1
  done
  fail "$name: not ready within 30s"
}

command -v curl >/dev/null || fail "curl not found"
command -v python3 >/dev/null || fail "python3 not found"
command -v go >/dev/null || fail "go not found (Go >= 1.22 is needed for the net/http upstream)"
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  step "apt-get install nginx" 600 env DEBIAN_FRONTEND=noninteractive apt-get install -y nginx
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# 1. The test binary (reuses the debug build).
step "cargo test --no-run (paths_tier)" 2400 \
  cargo test -p l402-cli --locked --test paths_tier --no-run

# 2. The upstreams.
step "go build (net/http upstream)" 300 \
  go build -o "$WORK/go-upstream" "$UPSTREAMS/upstream.go"

NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx"
sed -e "s#@WORK@#$WORK/nginx#g" -e "s#@PORT@#$NGINX_PORT#g" \
  "$UPSTREAMS/nginx.conf.in" >"$WORK/nginx/nginx.conf"
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
wait_http "$NGINX_PID" "nginx $("$NGINX" -v 2>&1 | sed 's#.*/##')" "http://127.0.0.1:$NGINX_PORT/"

PYTHON_PORT=$(free_port)
python3 "$UPSTREAMS/upstream.py" "$PYTHON_PORT" >"$WORK/python.log" 2>&1 &
PYTHON_PID=$!
wait_http "$PYTHON_PID" "python $(python3 -c 'import sys; print(sys.version.split()[0])') http.server" \
  "http://127.0.0.1:$PYTHON_PORT/"

GO_PORT=$(free_port)
"$WORK/go-upstream" "$GO_PORT" >"$WORK/go.log" 2>&1 &
GO_PID=$!
wait_http "$GO_PID" "$(go env GOVERSION) net/http" "http://127.0.0.1:$GO_PORT/"

# 3. The table, through `l402 serve`.
export L402_PATHS_UPSTREAMS="nginx=http://127.0.0.1:$NGINX_PORT python=http://127.0.0.1:$PYTHON_PORT go=http://127.0.0.1:$GO_PORT"
step "cargo test --test paths_tier (nginx, python, go)" 300 \
  cargo test -p l402-cli --locked --test paths_tier -- --ignored --nocapture --test-threads=1
