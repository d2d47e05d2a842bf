#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind (callgrind), for nginx and `l402 serve`
# (auth off and paid) in front of the same Go upstream: user-space work only, but the same count
# for the same binary and inputs whatever else the machine is doing. Use it to see what a change
# to the request path buys when `bench/compare.sh`'s CPU times move by more than the change
# between runs (a shared 2-core VM moves them by ±15%).
#
# Each proxy runs under `valgrind --tool=callgrind`; after a warm-up its counters are zeroed
# (`vgdb … zero`, callgrind's monitor command), h2load sends N HTTP/1.1 requests over 8
# keep-alive connections, and the counters are dumped (`vgdb … dump`): instructions per
# request = the dump's total / N. The kernel's part of each request (the system calls, loopback TCP) is not counted.
#
# Usage: bench/instructions.sh [--out FILE]
# Environment: REQUESTS (default 20000), L402_BIN=<path> to use a built binary, BASE_BIN=<path>
#              to count a second l402 binary too (a before/after pair in one run), KEEP_WORKDIR=1
#              to keep the callgrind files (callgrind_annotate shows where the instructions go).
# Needs: valgrind, nginx and h2load (nghttp2-client), installed with apt-get if missing; go,
#        curl and python3; cargo unless L402_BIN is set.

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

command -v valgrind >/dev/null 2>&1 || { log "installing valgrind"; apt_install valgrind; }
command -v nginx >/dev/null 2>&1 || { log "installing nginx"; apt_install nginx; }
command -v h2load >/dev/null 2>&1 || { log "installing h2load (nghttp2-client)"; apt_install nghttp2-client; }
for tool in go curl python3 vgdb; do command -v "$tool" >/dev/null 2>&1 || die "$tool is required"; done
l402_binary "$ROOT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-instructions.XXXXXX")
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

# Stops $VG_PID (SIGNAL, then KILL after 30 s) and forgets it.
stop_callgrind() {
  kill "-$1" "$VG_PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$VG_PID" 2>/dev/null || true
  wait "$VG_PID" 2>/dev/null || true
  local -a left=()
  for pid in "${PIDS[@]}"; do [[ $pid == "$VG_PID" ]] || left+=("$pid"); done
  PIDS=("${left[@]}")
}

# A callgrind monitor command (`zero`, `dump`) to $VG_PID, through vgdb; dies if it fails.
monitor() {
  timeout 60 vgdb --pid="$VG_PID" "$1" >"$WORK/vgdb.txt" 2>&1 \
    || die "vgdb $1 failed (ptrace refused? see /proc/sys/kernel/yama/ptrace_scope): $(cat "$WORK/vgdb.txt")"
}

# h2load NAME N URL [HEADER...]: N HTTP/1.1 requests over 8 connections; dies unless all succeed.
load() {
  local name=$1 n=$2 url=$3
  shift 3
  timeout 600 h2load --h1 -n "$n" -c 8 "$@" "$url" >"$WORK/h2load.txt" 2>&1 || true
  grep -q " $n succeeded" "$WORK/h2load.txt" \
    || die "$name: not every request succeeded: $(grep -E '^requests|^status' "$WORK/h2load.txt")"
}

# count NAME URL [AUTHORIZATION]: warms up, zeroes the counters, sends $REQUESTS requests and
# sets IR[NAME] to the instructions per request of $VG_PID. (Not a command substitution: a
# failure inside it must end the script.)
count() {
  local name=$1 url=$2 auth=${3:-} total dump
  local -a header=()
  [[ -z $auth ]] || header=(-H "authorization: $auth")
  load "$name (warm-up)" 500 "$url" "${header[@]}"
  monitor zero
  load "$name" "$REQUESTS" "$url" "${header[@]}"
  rm -f "$WORK/callgrind.$VG_PID."*
  monitor dump
  poll 60 "the $name dump" bash -c "ls $WORK/callgrind.$VG_PID.* >/dev/null 2>&1"
  sleep 1
  dump=$(ls "$WORK"/callgrind."$VG_PID".* | head -n1)
  total=$(sed -n 's/^summary: //p' "$dump" | tail -n1)
  [[ -n $total ]] || die "$name: no callgrind summary in $dump"
  mv "$dump" "$WORK/$name.callgrind"
  IR[$name]=$(awk -v t="$total" -v n="$REQUESTS" 'BEGIN { printf "%.0f", t / n }')
  log "  $name: ${IR[$name]} instructions per request"
}

declare -A IR

# --- nginx (one process: no master, as compare.sh's one worker) --------------------------------
NGINX_PORT=$(free_port)
nginx_proxy_conf "$WORK/nginx" "127.0.0.1:$NGINX_PORT"
LOGFILE=$WORK/nginx/stderr.log under_callgrind nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" \
  -g "daemon off; master_process off;"
poll 60 "nginx under valgrind" curl -sf --max-time 5 "http://127.0.0.1:$NGINX_PORT/api/weather"
log "counting nginx"
count nginx "http://127.0.0.1:$NGINX_PORT/api/weather"
stop_callgrind TERM

# --- l402 serve: a free and a paid service ------------------------------------------------------
free_and_paid_toml >"$WORK/l402.toml"

# count_l402 LABEL BINARY: counts auth off and paid for one binary.
count_l402() {
  local label=$1 binary=$2 data=$WORK/data-$1 proxy auth
  mkdir -p "$data"
  LOGFILE=$WORK/$label.log under_callgrind "$binary" serve --config "$WORK/l402.toml" --data-dir "$data"
  # Slower to start under valgrind: up to 120 s.
  poll 120 "$label under valgrind" grep -q 'paywall proxy listening on' "$WORK/$label.log"
  proxy=$(wait_for_line "$WORK/$label.log" 's/.*paywall proxy listening on http:\/\/\([0-9.:]*\).*/\1/p') \
    || die "$label did not start"
  auth=$(buy_token "http://$proxy/paid/api/weather" "$data/dev-wallet.json")
  [[ $auth == "L402 "* ]] || die "$label: no token bought"
  log "counting $label (auth off, then paid)"
  count "$label-off" "http://$proxy/free/api/weather"
  count "$label-paid" "http://$proxy/paid/api/weather" "$auth"
  stop_callgrind INT
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
