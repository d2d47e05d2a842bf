#!/usr/bin/env bash
# Metered billing benchmark: what a metered request costs the proxy beside a plain paid one, in
# one run with the same load generator (wrk) and settings, on the sample's completion endpoint
# (`POST /api/complete`, a JSON answer with `L402-Usage`):
#
#   free     the endpoint through the proxy, price 0 (no paywall)
#   paid     an L402 token of a per-token service (`billing = "token"`): verified in memory
#   metered  an L402 token of a metered service (`billing = "metered"`): its payment is a
#            balance; every request reserves 64 units in the store, then settles what the
#            upstream reported
#   session  the same service through a `Payment` session (bearer credential)
#
# After the runs it reads the store: the ledger lines written per metered request (one for the
# reservation, one for the settlement when the usage is below it) are the store round trips a
# PostgreSQL deployment would make per request.
#
# Usage: bench/metered.sh [--out FILE]
# Environment: DURATION (default 10s), THREADS (2), CONNS (16), L402_BIN, CARGO_TARGET_DIR,
#              KEEP_WORKDIR=1.
# Needs: cargo, curl, python3, sqlite3 (read-only look at the ledger), wrk. Loopback only.

set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LUA="$ROOT/bench/wrk-report.lua"
BENCH_NAME=metered
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_args "$@"

need_wrk
for tool in curl python3 sqlite3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
l402_binary "$ROOT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-metered.XXXXXX")
start_upstream "$WORK/upstream" "$WORK/upstream.log"

cat >"$WORK/bench.toml" <<EOF
$(free_and_paid_toml 3600)

[[services]]
name = "metered"
path_prefix = "/metered"
strip_path_prefix = true
upstream = "http://$UPSTREAM"
price_sat = 1
protocols = ["l402", "mpp"]
billing = "metered"

[services.metering]
unit = "token"
reserve_units = 64
# Deep enough never to run out during the runs: 0.5 BTC of regtest tokens.
deposit_units = 50000000
idle_timeout_secs = 3600
EOF
start_proxy "$WORK/bench.toml" "$WORK/proxy" "$WORK/proxy.log"
log "proxy on $PROXY (pid $PROXY_PID)"
WALLET="$WORK/proxy/dev-wallet.json"
BODY='{"prompt":"benchmark","stream":false}'
post() { curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$BODY" "$@"; }

[[ $(post "http://$PROXY/free/api/complete") == 200 ]] || die "the free service does not answer 200"
PAID=$(BUY_METHOD=POST BUY_BODY=$BODY buy_token "http://$PROXY/paid/api/complete" "$WALLET")
METERED=$(BUY_METHOD=POST BUY_BODY=$BODY buy_token "http://$PROXY/metered/api/complete" "$WALLET")
SESSION=$(open_session "http://$PROXY/metered/api/complete" "$WALLET" "$BODY")
[[ $(post -H "Authorization: $PAID" "http://$PROXY/paid/api/complete") == 200 ]] || die "paid token refused"
[[ $(post -H "Authorization: $METERED" "http://$PROXY/metered/api/complete") == 200 ]] || die "metered token refused"
[[ $(post -H "Authorization: $SESSION" "http://$PROXY/metered/api/complete") == 200 ]] || die "session refused"
log "bought a token of each service and opened a session"

declare -A RPS P50 P99 REQS NON2XX PCPU0 PCPU
run() {
  local name=$1 url=$2 auth=${3:-} line
  PCPU0[$name]=$(cpu_ticks "$PROXY_PID")
  log "case $name: wrk -t$THREADS -c$CONNS -d$DURATION POST $url"
  WRK_BODY=$BODY WRK_AUTHORIZATION=$auth timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" \
    --latency -s "$LUA" "$url" >"$WORK/wrk-$name.txt" 2>&1 || true
  line=$(grep '^RESULT ' "$WORK/wrk-$name.txt") || die "wrk run $name failed: $(cat "$WORK/wrk-$name.txt")"
  RPS[$name]=$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line")
  P50[$name]=$(sed 's/.* p50_us=\([0-9]*\).*/\1/' <<<"$line")
  P99[$name]=$(sed 's/.* p99_us=\([0-9]*\).*/\1/' <<<"$line")
  REQS[$name]=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
  NON2XX[$name]=$(sed 's/.* non2xx=\([0-9]*\).*/\1/' <<<"$line")
  PCPU[$name]=$(awk -v t="$(( $(cpu_ticks "$PROXY_PID") - ${PCPU0[$name]} ))" -v us="$TICK_US" \
    -v n="${REQS[$name]}" 'BEGIN { printf "%.1f", n ? t * us / n : 0 }')
  log "  $line proxy_cpu_us_per_req=${PCPU[$name]}"
  sleep 1
}
# Two interleaved rounds; the second is reported (the first warms caches and connections).
for round in 1 2; do
  run free "http://$PROXY/free/api/complete"
  run paid "http://$PROXY/paid/api/complete" "$PAID"
  run metered "http://$PROXY/metered/api/complete" "$METERED"
  run session "http://$PROXY/metered/api/complete" "$SESSION"
  [[ $round == 2 ]] || log "round 1 done (warm-up); round 2 is reported"
done

# Ledger lines per metered request: reservations and settlements the store wrote.
sleep 1
DB="$WORK/proxy/l402.db"
RESERVES=$(sqlite3 -readonly "$DB" "SELECT COUNT(*) FROM mpp_session_ledger WHERE op = 'reserve'")
SETTLES=$(sqlite3 -readonly "$DB" "SELECT COUNT(*) FROM mpp_session_ledger WHERE op = 'settle'")
SERVED=$RESERVES
BALANCE_OK=$(sqlite3 -readonly "$DB" "SELECT COUNT(*) FROM mpp_sessions WHERE spent_msat + refunded_msat <= deposit_msat")
SESSIONS=$(sqlite3 -readonly "$DB" "SELECT COUNT(*) FROM mpp_sessions")

ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", y ? x / y : 0 }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
{
  echo "## Metered billing: overhead per request ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "\`bench/metered.sh\`: wrk -t$THREADS -c$CONNS -d$DURATION, POST /api/complete (JSON answer with"
  echo "\`L402-Usage\`), second of two interleaved rounds; proxy CPU from /proc."
  echo
  echo "| case | req/s | p50 ms | p99 ms | proxy CPU µs/req | requests | non-2xx |"
  echo "|---|---|---|---|---|---|---|"
  for name in free paid metered session; do
    printf '| %s | %.0f | %s | %s | %s | %s | %s |\n' "$name" "${RPS[$name]}" "$(ms "${P50[$name]}")" \
      "$(ms "${P99[$name]}")" "${PCPU[$name]}" "${REQS[$name]}" "${NON2XX[$name]}"
  done
  echo
  echo "- metered (L402 balance) / paid throughput: $(ratio "${RPS[metered]}" "${RPS[paid]}"); proxy CPU per request: $(ratio "${PCPU[metered]}" "${PCPU[paid]}")x"
  echo "- session (Payment bearer) / paid throughput: $(ratio "${RPS[session]}" "${RPS[paid]}"); proxy CPU per request: $(ratio "${PCPU[session]}" "${PCPU[paid]}")x"
  echo "- store writes: $RESERVES reservations and $SETTLES settlements for $SERVED metered requests"
  echo "  ($(ratio $((RESERVES + SETTLES)) "$SERVED") statements per metered request; 0 per plain paid request);"
  echo "  $BALANCE_OK of $SESSIONS sessions within their deposit."
} | tee -a "${OUT:-/dev/null}"
