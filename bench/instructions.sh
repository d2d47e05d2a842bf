#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind (callgrind), for nginx and `l402 serve`
# (auth off and paid) in front of the same Go upstream: user-space work only, but the same count
# for the same binary and inputs whatever else the machine is doing. Use it to see what a change
# to the request path buys when `bench/compare.sh`'s CPU times move by more than the change
# between runs (a shared 2-core VM moves them by ±15%).
#
# Each proxy runs under `valgrind --tool=callgrind`; after a warm-up its counters are zeroed
# (`callgrind_control -z`), h2load sends N HTTP/1.1 requests over 8 keep-alive connections, and
# the counters are dumped (`callgrind_control -d`): instructions per request = the dump's total
# / N. The kernel's part of each request (the system calls, loopback TCP) is not counted.
#
# Usage: bench/instructions.sh [--out FILE]
# Environment: REQUESTS (default 20000), L402_BIN=<path> to use a built binary, BASE_BIN=<path>
#              to count a second l402 binary too (a before/after pair in one run), KEEP_WORKDIR=1
#              to keep the callgrind files (callgrind_annotate shows where the instructions go).
# Needs: valgrind, nginx, h2load (nghttp2-client), go, curl: installed with apt-get if missing.

set -euo pipefail

REQUESTS=${REQUESTS:-20000}
DURATION=1s # not used: a fixed count of requests (bench_args checks it)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=instructions
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# shellcheck source=scripts/lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"
bench_args "$@"

apt_install() {
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v valgrind >/dev/null 2>&1 || { log "installing valgrind"; apt_install valgrind; }
command -v nginx >/dev/null 2>&1 || { log "installing nginx"; apt_install nginx; }
command -v h2load >/dev/null 2>&1 || { log "installing h2load (nghttp2-client)"; apt_install nghttp2-client; }
for tool in go curl callgrind_control; do command -v "$tool" >/dev/null 2>&1 || die "$tool is required"; done
l402_binary "$ROOT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-instructions.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT TERM
(cd "$ROOT/bench/upstream" && GOFLAGS=-mod=mod go build -o "$WORK/upstream" .) || die "building the Go upstream"

UP_PORT=$(free_port)
"$WORK/upstream" "127.0.0.1:$UP_PORT" 2>"$WORK/upstream.log" &
PIDS+=($!)
UPSTREAM=127.0.0.1:$UP_PORT
poll 20 "Go upstream" curl -sf --max-time 2 "http://$UPSTREAM/api/weather"

# Starts "$@" under callgrind (log in $LOGFILE) and sets VG_PID.
under_callgrind() {
  valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.%p" "$@" >"$LOGFILE" 2>&1 &
  VG_PID=$!
  PIDS+=("$VG_PID")
}

# count NAME URL [AUTHORIZATION]: warms up, zeroes the counters, sends $REQUESTS requests and
# prints the instructions per request of $VG_PID.
count() {
  local name=$1 url=$2 auth=${3:-} total
  local -a header=()
  [[ -z $auth ]] || header=(-H "authorization: $auth")
  h2load --h1 -n 500 -c 8 "${header[@]}" "$url" >"$WORK/h2load.txt" 2>&1
  callgrind_control -z "$VG_PID" >/dev/null 2>&1
  h2load --h1 -n "$REQUESTS" -c 8 "${header[@]}" "$url" >"$WORK/h2load.txt" 2>&1
  grep -q "$REQUESTS succeeded" "$WORK/h2load.txt" \
    || die "$name: not every request succeeded: $(grep -E '^requests|^status' "$WORK/h2load.txt")"
  rm -f "$WORK/callgrind.$VG_PID."*
  callgrind_control -d "$VG_PID" >/dev/null 2>&1
  poll 30 "the $name dump" bash -c "ls $WORK/callgrind.$VG_PID.* >/dev/null 2>&1"
  sleep 1
  total=$(sed -n 's/^summary: //p' "$WORK"/callgrind."$VG_PID".* | tail -n1)
  [[ -n $total ]] || die "$name: no callgrind summary"
  cp "$WORK"/callgrind."$VG_PID".* "$WORK/$name.callgrind"
  rm -f "$WORK/callgrind.$VG_PID."*
  awk -v t="$total" -v n="$REQUESTS" 'BEGIN { printf "%.0f", t / n }'
}

declare -A IR

# --- nginx (one process: no master, as compare.sh's one worker) --------------------------------
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
master_process off;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log $WORK/nginx/logs/access.log;
  keepalive_requests 100000000;
  upstream backend { server $UPSTREAM; keepalive 256; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
LOGFILE=$WORK/nginx/stderr.log under_callgrind nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"
poll 60 "nginx under valgrind" curl -sf --max-time 5 "http://127.0.0.1:$NGINX_PORT/api/weather"
log "counting nginx"
IR[nginx]=$(count nginx "http://127.0.0.1:$NGINX_PORT/api/weather")
kill "$VG_PID" 2>/dev/null || true
wait "$VG_PID" 2>/dev/null || true

# --- l402 serve: a free and a paid service ------------------------------------------------------
cat >"$WORK/l402.toml" <<EOF
[listen]
addr = "127.0.0.1:0"

[backend]
kind = "dev"

[[services]]
name = "free"
path_prefix = "/free"
strip_path_prefix = true
upstream = "http://$UPSTREAM"
price_sat = 0

[[services]]
name = "paid"
path_prefix = "/paid"
strip_path_prefix = true
upstream = "http://$UPSTREAM"
price_sat = 1
token_lifetime_secs = 86400
EOF

# count_l402 LABEL BINARY: counts auth off and paid for one binary.
count_l402() {
  local label=$1 binary=$2 data=$WORK/data-$1 proxy auth
  mkdir -p "$data"
  LOGFILE=$WORK/$label.log under_callgrind "$binary" serve --config "$WORK/l402.toml" --data-dir "$data"
  proxy=$(wait_for_line "$WORK/$label.log" 's/.*paywall proxy listening on http:\/\/\([0-9.:]*\).*/\1/p') \
    || die "$label did not start"
  auth=$(buy_token "http://$proxy/paid/api/weather" "$data/dev-wallet.json")
  log "counting $label (auth off, then paid)"
  IR[$label-off]=$(count "$label-off" "http://$proxy/free/api/weather")
  IR[$label-paid]=$(count "$label-paid" "http://$proxy/paid/api/weather" "$auth")
  kill -INT "$VG_PID" 2>/dev/null || true
  wait "$VG_PID" 2>/dev/null || true
}
count_l402 l402 "$BIN"
LABELS=(l402)
if [[ -n ${BASE_BIN:-} ]]; then
  count_l402 base "$BASE_BIN"
  LABELS+=(base)
fi

# --- report -------------------------------------------------------------------------------------
{
  echo "Instructions per proxied request (callgrind, user space only; $REQUESTS HTTP/1.1 requests"
  echo "over 8 keep-alive connections after a warm-up; the same Go upstream):"
  echo
  echo "| case | instructions per request | vs nginx |"
  echo "|---|---|---|"
  echo "| nginx | ${IR[nginx]} | 1.00 |"
  for label in "${LABELS[@]}"; do
    for mode in off paid; do
      awk -v n="$label-$mode" -v v="${IR[$label-$mode]}" -v base="${IR[nginx]}" \
        'BEGIN { printf "| %s | %d | %.2f |\n", n, v, v / base }'
    done
  done
  if [[ -n ${BASE_BIN:-} ]]; then
    echo
    for mode in off paid; do
      awk -v m="$mode" -v a="${IR[l402-$mode]}" -v b="${IR[base-$mode]}" \
        'BEGIN { printf "- %s: %d -> %d instructions per request (%+.1f%%)\n", m, b, a, (a - b) * 100 / b }'
    done
  fi
  echo
  echo "Paid over auth off: $(( IR[l402-paid] - IR[l402-off] )) instructions per request."
} | tee -a "${OUT:-/dev/null}"
