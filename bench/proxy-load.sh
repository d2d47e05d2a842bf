#!/usr/bin/env bash
# Proxy load benchmark for `l402 serve`, all four cases in one run with the same load generator
# (wrk) and the same settings, so the ratios are comparable:
#
#   a) upstream direct      the built-in sample API (from a zero-config `l402 serve`), no proxy
#   b) proxy, auth off      a service with price_sat = 0 on the same upstream
#   b+h) the same, but every request carries the L402 Authorization header of case c (which
#                           the free service forwards unverified): same bytes as c, no paywall
#   c) proxy, paid          every request carries one valid `Authorization: L402 <mac>:<preimage>`
#                           (paid once through the dev wallet's loopback HTTP API)
#   d) proxy, unpaid        every request gets a fresh 402 challenge (the dev wallet mints an
#                           invoice each time)
#   plus cases b and c with one connection (unsaturated: the latency the paywall adds, without
#   queueing), and case c with 1,000 connections, reading VmRSS/VmHWM of the proxy from /proc.
#
# Every case requests GET <prefix>/api/weather?city=Paris (a small JSON answer). Prints a Markdown
# section (table, ratios, memory) on stdout; progress goes to stderr.
#
# Usage: bench/proxy-load.sh [--out FILE]
# Environment: DURATION (whole seconds, default 10s), THREADS (2), CONNS (64), BIG_CONNS (1000),
#              CARGO_TARGET_DIR (default <repo>/target), L402_BIN=<path> to use a built binary
#              instead of building one, KEEP_WORKDIR=1 to keep logs,
#              PERF=1 to record the proxy with `perf record --call-graph dwarf` during cases b and c
#              (implies KEEP_WORKDIR=1; flat and inclusive profiles go to stderr), L402_LOG to set
#              the proxy's log filter.
# Needs: cargo, curl, wrk (installed with apt-get if missing). Loopback traffic only.

set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
BIG_CONNS=${BIG_CONNS:-1000}


ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LUA="$ROOT/bench/wrk-report.lua"
BENCH_NAME=proxy-load
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_args "$@"

# --- tools -------------------------------------------------------------------------------------
need_wrk
command -v curl >/dev/null 2>&1 || die "curl is required"
l402_binary "$ROOT"

# 1,000 client connections plus as many upstream connections need file descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $((2 * BIG_CONNS + 256)) ]]; then
  die "ulimit -n is $(ulimit -n); need at least $((2 * BIG_CONNS + 256)) for BIG_CONNS=$BIG_CONNS"
fi

# --- processes, cleaned up by PID ---------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-proxy-load.XXXXXX")
if [[ ${PERF:-0} == 1 ]]; then
  command -v perf >/dev/null 2>&1 || die "PERF=1 needs perf (Debian: linux-perf)"
  KEEP_WORKDIR=1
fi

# --- a) upstream: the sample API of a zero-config `l402 serve` -------------------------------------
start_upstream "$WORK/upstream" "$WORK/upstream.log"

# --- the proxy under test -----------------------------------------------------------------------
cat >"$WORK/bench.toml" <<EOF
# Benchmark configuration: two services on the same upstream, one free, one paid.
[listen]
addr = "127.0.0.1:0"

[backend]
kind = "dev"

[limits]
drain_timeout = "2s"

$(service_toml free 0)

$(service_toml paid 1 "token_lifetime_secs = 3600" 'capabilities = ["read"]' \
  "invoice_expiry_secs = 600" 'memo = "proxy-load benchmark"')
EOF
log "starting the proxy (l402 serve --config bench.toml)"
start_proxy "$WORK/bench.toml" "$WORK/proxy" "$WORK/proxy.log"
log "proxy on $PROXY (pid $PROXY_PID)"

# --- sanity checks, and pay once ---------------------------------------------------------------
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[[ $(status "http://$UPSTREAM$QUERY") == 200 ]] || die "upstream does not answer 200"
[[ $(status "http://$PROXY/free$QUERY") == 200 ]] || die "free service does not answer 200"

AUTH=$(buy_token "http://$PROXY/paid$QUERY" "$WORK/proxy/dev-wallet.json")
[[ $(status -H "Authorization: $AUTH" "http://$PROXY/paid$QUERY") == 200 ]] \
  || die "the paid token is refused"
log "paid once through the dev wallet; the token is accepted"

# --- load --------------------------------------------------------------------------------------
RSS_IDLE=$(proc_kb "$PROXY_PID" VmRSS)

declare -A RPS P50 P99 REQS NON2XX ERRS PCPU0 UCPU0 PCPU UCPU
# cpu_mark NAME: remembers the CPU time of the proxy and the upstream before run NAME.
cpu_mark() { PCPU0[$1]=$(cpu_ticks "$PROXY_PID"); UCPU0[$1]=$(cpu_ticks "$UPSTREAM_PID"); }
# wrk_run NAME CONNECTIONS URL [AUTHORIZATION]: one bounded wrk run, output in $WORK/wrk-NAME.txt.
wrk_run() {
  local name=$1 conns=$2 url=$3 auth=${4:-} threads=$THREADS
  if [[ $conns -lt $threads ]]; then threads=$conns; fi
  log "case $name: wrk -t$threads -c$conns -d$DURATION $url"
  local perf_pid=""
  if [[ ${PERF:-0} == 1 && ( $name == b || $name == c ) ]]; then
    perf record -q -F 199 --call-graph dwarf,16384 -o "$WORK/perf-$name.data" -p "$PROXY_PID" \
      -- sleep "${DURATION%s}" >/dev/null 2>&1 &
    perf_pid=$!
    PIDS+=("$perf_pid")
  fi
  WRK_AUTHORIZATION=$auth timeout 120 wrk -t"$threads" -c"$conns" -d"$DURATION" --latency \
    -s "$LUA" "$url" >"$WORK/wrk-$name.txt" 2>&1
  if [[ -n $perf_pid ]]; then wait "$perf_pid" || log "perf record failed"; fi
}
# collect NAME: reads the RESULT line of a finished run into the arrays.
collect() {
  local name=$1 line
  line=$(grep '^RESULT ' "$WORK/wrk-$name.txt") \
    || die "wrk run $name failed: $(cat "$WORK/wrk-$name.txt")"
  RPS[$name]=$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line")
  P50[$name]=$(sed 's/.* p50_us=\([0-9]*\).*/\1/' <<<"$line")
  P99[$name]=$(sed 's/.* p99_us=\([0-9]*\).*/\1/' <<<"$line")
  REQS[$name]=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
  NON2XX[$name]=$(sed 's/.* non2xx=\([0-9]*\).*/\1/' <<<"$line")
  ERRS[$name]=$(sed 's/.* errors=\([0-9]*\).*/\1/' <<<"$line")
  # CPU microseconds per request, of the proxy and of the upstream process.
  PCPU[$name]=$(awk -v t="$(( $(cpu_ticks "$PROXY_PID") - ${PCPU0[$name]} ))" -v us="$TICK_US" \
    -v n="${REQS[$name]}" 'BEGIN { printf "%.1f", n ? t * us / n : 0 }')
  UCPU[$name]=$(awk -v t="$(( $(cpu_ticks "$UPSTREAM_PID") - ${UCPU0[$name]} ))" -v us="$TICK_US" \
    -v n="${REQS[$name]}" 'BEGIN { printf "%.1f", n ? t * us / n : 0 }')
  log "  $line proxy_cpu_us_per_req=${PCPU[$name]} upstream_cpu_us_per_req=${UCPU[$name]}"
  sleep 1
}
run() { cpu_mark "$1"; wrk_run "$@" || true; collect "$1"; }

run a "$CONNS" "http://$UPSTREAM$QUERY"
run b "$CONNS" "http://$PROXY/free$QUERY"
run bh "$CONNS" "http://$PROXY/free$QUERY" "$AUTH"
run c "$CONNS" "http://$PROXY/paid$QUERY" "$AUTH"
run b1 1 "http://$PROXY/free$QUERY"
run c1 1 "http://$PROXY/paid$QUERY" "$AUTH"

# Case c with many connections, sampling the proxy's resident memory once a second.
RSS_BIG_MAX=0
cpu_mark c1000
log "case c1000: wrk -t$THREADS -c$BIG_CONNS -d$DURATION http://$PROXY/paid$QUERY"
WRK_AUTHORIZATION=$AUTH timeout 120 wrk -t"$THREADS" -c"$BIG_CONNS" -d"$DURATION" --latency \
  -s "$LUA" "http://$PROXY/paid$QUERY" >"$WORK/wrk-c1000.txt" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")
while kill -0 "$WRK_PID" 2>/dev/null; do
  rss=$(proc_kb "$PROXY_PID" VmRSS)
  if [[ -n $rss && $rss -gt $RSS_BIG_MAX ]]; then RSS_BIG_MAX=$rss; fi
  sleep 1
done
wait "$WRK_PID" || true
collect c1000
RSS_HWM=$(proc_kb "$PROXY_PID" VmHWM)

# Last: every request mints an invoice in the dev wallet's ledger, which then grows.
run d "$CONNS" "http://$PROXY/paid$QUERY"

for name in a b bh c b1 c1 c1000; do
  [[ ${NON2XX[$name]} == 0 ]] || log "warning: case $name had ${NON2XX[$name]} non-2xx answers"
done
[[ ${REQS[d]} -gt 0 && ${NON2XX[d]} == "${REQS[d]}" ]] \
  || log "warning: case d: ${NON2XX[d]} of ${REQS[d]} answers were non-2xx (expected all 402)"

# --- report ------------------------------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
row() {
  printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "${RPS[$3]}" \
    "$(ms "${P50[$3]}")" "$(ms "${P99[$3]}")" "${PCPU[$3]}" "${UCPU[$3]}" "${REQS[$3]}" "$4"
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.1f%%", 100 * x / y }'; }
C_B=$(ratio "${RPS[c]}" "${RPS[b]}")
C_BH=$(ratio "${RPS[c]}" "${RPS[bh]}")
B_A=$(ratio "${RPS[b]}" "${RPS[a]}")
D_B=$(ratio "${RPS[d]}" "${RPS[b]}")
added() { awk -v c="$1" -v b="$2" 'BEGIN { printf "%+.3f ms", (c - b) / 1000 }'; }
ADDED_P99=$(added "${P99[c]}" "${P99[b]}")
ADDED_P50=$(added "${P50[c]}" "${P50[b]}")
ADDED1_P99=$(added "${P99[c1]}" "${P99[b1]}")
ADDED1_P50=$(added "${P50[c1]}" "${P50[b1]}")
VERDICT_T=$(awk -v c="${RPS[c]}" -v b="${RPS[b]}" 'BEGIN { print (c >= 0.85 * b) ? "met" : "NOT met" }')
VERDICT_L=$(awk -v c="${P99[c1]}" -v b="${P99[b1]}" 'BEGIN { print (c - b < 1000) ? "met" : "NOT met" }')
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }

report() {
  echo "| case | conns | req/s | p50 ms | p99 ms | proxy CPU µs/req | upstream CPU µs/req | requests | answers |"
  echo "|---|---|---|---|---|---|---|---|---|"
  row "a) upstream direct" "$CONNS" a "200 (non-2xx: ${NON2XX[a]}, errors: ${ERRS[a]})"
  row "b) proxy, auth off (price 0)" "$CONNS" b "200 (non-2xx: ${NON2XX[b]}, errors: ${ERRS[b]})"
  row "b+h) auth off, with the L402 header" "$CONNS" bh \
    "200 (non-2xx: ${NON2XX[bh]}, errors: ${ERRS[bh]})"
  row "c) proxy, valid L402 token" "$CONNS" c "200 (non-2xx: ${NON2XX[c]}, errors: ${ERRS[c]})"
  row "b) proxy, auth off, unsaturated" 1 b1 "200 (non-2xx: ${NON2XX[b1]}, errors: ${ERRS[b1]})"
  row "c) proxy, valid L402 token, unsaturated" 1 c1 \
    "200 (non-2xx: ${NON2XX[c1]}, errors: ${ERRS[c1]})"
  row "c) proxy, valid L402 token" "$BIG_CONNS" c1000 \
    "200 (non-2xx: ${NON2XX[c1000]}, errors: ${ERRS[c1000]})"
  row "d) proxy, unpaid: 402 + new invoice" "$CONNS" d \
    "402 (non-402 or errors: $((REQS[d] - NON2XX[d] + ERRS[d])))"
  echo
  echo "| ratio | value | goal |"
  echo "|---|---|---|"
  echo "| c/b throughput (paid vs auth off) | $C_B | >= 85% ($VERDICT_T) |"
  echo "| c/(b+h) throughput (the paywall's own cost, same bytes) | $C_BH | |"
  echo "| c-b p99, 1 connection (latency the paywall adds) | $ADDED1_P99 (p50 $ADDED1_P50) | < 1 ms ($VERDICT_L) |"
  echo "| c-b p99, $CONNS connections (saturated: mostly queueing) | $ADDED_P99 (p50 $ADDED_P50) | |"
  echo "| b/a throughput (proxy vs direct) | $B_A | |"
  echo "| d/b throughput (challenge vs auth off) | $D_B | |"
  echo "| c-b proxy CPU per request | $(awk -v c="${PCPU[c]}" -v b="${PCPU[b]}" 'BEGIN { printf "%+.1f µs", c - b }') | |"
  echo "| c-(b+h) proxy CPU per request (verification and X-L402-* headers) | $(awk -v c="${PCPU[c]}" -v b="${PCPU[bh]}" 'BEGIN { printf "%+.1f µs", c - b }') | |"
  echo
  echo "| proxy resident memory | |"
  echo "|---|---|"
  echo "| idle (after start and one payment) | VmRSS $(mib "$RSS_IDLE") |"
  echo "| under $BIG_CONNS connections (case c) | VmRSS max $(mib "$RSS_BIG_MAX"), VmHWM $(mib "$RSS_HWM") |"
  echo
  echo "Settings: wrk -t$THREADS -c$CONNS -d$DURATION (and -t1 -c1, -c$BIG_CONNS), HTTP/1.1 keep-alive,"
  echo "GET <prefix>$QUERY, release build, wrk, proxy and upstream on the same $(nproc)-core machine,"
  echo "proxy log filter: ${L402_LOG:-the default (warn,l402=info: one access-log line per request)}."
}
report
if [[ -n $OUT ]]; then report >"$OUT"; fi
if [[ ${PERF:-0} == 1 ]]; then
  for name in b c; do
    log "flat profile of the proxy during case $name (self time, >= 1%):"
    perf report -i "$WORK/perf-$name.data" --no-children --sort dso,symbol --percent-limit 1 \
      --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30 >&2 || true
    log "inclusive time of the proxy's own functions during case $name:"
    perf report -i "$WORK/perf-$name.data" --children --sort symbol --stdio -g none \
      2>/dev/null | grep -E 'l402_|tracing' | head -40 >&2 || true
  done
fi
