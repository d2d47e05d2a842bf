#!/usr/bin/env bash
# Unpaid flood benchmark for `l402 serve` (dev wallet, loopback only): what a client that never
# pays costs the seller, with flood control off and with the defaults (and with a rate limit).
#
# For each configuration a fresh proxy (its own data dir and store) is flooded with unpaid
# GET <prefix>/api/weather?city=Paris for DURATION seconds, twice:
#   one   every request from the one loopback client
#   many  requests spread over CLIENTS clients, named in X-Forwarded-For by a trusted proxy
#         (the proxy trusts 127.0.0.1 in every configuration)
# Configurations:
#   off       [clients] max_unpaid_challenges = 0, no rate limit (flood control off)
#   defaults  no [clients] section: the cap of 64 unpaid challenges per client, no rate limit
#   limited   the defaults plus [clients] rate_limit = RATE_LIMIT
# Reported per flood: answers (402, 429), proxy CPU per request and per 402 answer (from
# /proc/PID/stat; the embedded dev wallet that mints the invoices runs in the proxy's process,
# unless EXTERNAL_WALLET=1),
# and the store's growth: invoice rows and bytes (l402.db and its WAL) added, extrapolated to an
# hour from the second half of the flood (the steady rate, once any cap has filled).
#
# Usage: bench/unpaid-flood.sh [--out FILE]
# Environment: DURATION (whole seconds, default 10s), THREADS (2), CONNS (16), CLIENTS (200),
#              RATE_LIMIT ('{ requests = 1, per = "1s", burst = 5 }'), CARGO_TARGET_DIR,
#              L402_BIN=<path> to use a built binary, KEEP_WORKDIR=1 to keep logs,
#              CONFIGS (default "off defaults limited"), EXTERNAL_WALLET=1 to run the dev wallet
#              in its own process (the proxy's CPU then excludes minting invoices), PERF=1 to
#              record the proxy with `perf record --call-graph dwarf` during the first
#              configuration's many-client flood (its flat profile is printed, the data kept).
# Needs: cargo, curl, sqlite3, wrk (installed with apt-get if missing). Loopback traffic only.

set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
CLIENTS=${CLIENTS:-200}
RATE_LIMIT=${RATE_LIMIT:-'{ requests = 1, per = "1s", burst = 5 }'}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LUA="$ROOT/bench/flood.lua"
BENCH_NAME=unpaid-flood
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_args "$@"
SECS=${DURATION%s}
[[ $SECS -ge 2 ]] || { echo "DURATION must be at least 2s" >&2; exit 2; }

need_wrk
command -v curl >/dev/null 2>&1 || die "curl is required"
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is required (Debian: sqlite3)"
l402_binary "$ROOT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-unpaid-flood.XXXXXX")
start_upstream "$WORK/upstream" "$WORK/upstream.log"

# EXTERNAL_WALLET=1: the dev wallet runs in its own process (`l402 wallet serve`), so the
# proxy's CPU per 402 excludes minting the invoice (what issue 12's 402-path goal counts).
BACKEND_DEV=""
if [[ ${EXTERNAL_WALLET:-0} == 1 ]]; then
  mkdir -p "$WORK/wallet"
  "$BIN" wallet serve --data-dir "$WORK/wallet" >"$WORK/wallet.log" 2>&1 &
  WALLET_PID=$!
  PIDS+=("$WALLET_PID")
  for _ in $(seq 100); do [[ -s $WORK/wallet/dev-wallet.json ]] && break; sleep 0.1; done
  [[ -s $WORK/wallet/dev-wallet.json ]] || die "l402 wallet serve did not start: $(cat "$WORK/wallet.log")"
  BACKEND_DEV=$'[backend.dev]\nconnection_file = "'"$WORK/wallet/dev-wallet.json"'"'
  log "dev wallet in its own process (pid $WALLET_PID)"
fi

# config NAME CLIENTS_SECTION: writes $WORK/NAME.toml, selling the upstream at 1 sat.
config() {
  cat >"$WORK/$1.toml" <<TOML
# Unpaid flood benchmark: configuration "$1".
[listen]
addr = "127.0.0.1:0"
trusted_proxies = ["127.0.0.1"]

[backend]
kind = "dev"
$BACKEND_DEV

[limits]
drain_timeout = "2s"

$2

$(paid_service_toml)
TOML
}
config off $'[clients]\nmax_unpaid_challenges = 0'
config defaults ""
config limited $'[clients]\nrate_limit = '"$RATE_LIMIT"

# store_rows DATA_DIR / store_bytes DATA_DIR: invoice rows, and the database's size (pages in
# use, as a reader sees it: committed pages still in the WAL included).
store_rows() { sqlite3 "file:$1/l402.db?mode=ro" "SELECT COUNT(*) FROM invoices"; }
# rows_minted DATA_DIR FROM TO: rows whose challenge was issued in [FROM, TO) (Unix seconds),
# however late the recorder wrote them.
rows_minted() {
  sqlite3 "file:$1/l402.db?mode=ro" \
    "SELECT COUNT(*) FROM invoices WHERE created_at >= $2 AND created_at < $3"
}
store_bytes() {
  sqlite3 "file:$1/l402.db?mode=ro" "PRAGMA page_count; PRAGMA page_size;" \
    | awk 'NR == 1 { n = $1 } NR == 2 { print n * $1 }'
}

declare -A REQS S402 S429 OTHER ERRS CPU_REQ CPU_402 SYS_402 ROWS BYTES ROWS_H MIB_H
# flood NAME DATA_DIR CLIENTS: one bounded wrk run against the running proxy.
flood() {
  local name=$1 data=$2 clients=$3 line
  local rows0 bytes0 bytes_mid ticks0 sys0 start
  rows0=$(store_rows "$data"); bytes0=$(store_bytes "$data"); ticks0=$(cpu_ticks "$PROXY_PID")
  sys0=$(sys_ticks "$PROXY_PID")
  start=$(date +%s)
  log "flood $name: wrk -t$THREADS -c$CONNS -d$DURATION, $clients client(s)"
  local perf_pid=""
  if [[ ${PERF:-0} == 1 && $name == "$PERF_FLOOD" ]]; then
    perf record -q -F 499 --call-graph dwarf,16384 -o "$WORK/perf-$name.data" -p "$PROXY_PID" \
      -- sleep "$SECS" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  FLOOD_CLIENTS=$clients timeout $((SECS + 60)) wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" \
    -s "$LUA" "http://$PROXY/paid$QUERY" >"$WORK/wrk-$name.txt" 2>&1 &
  local wrk_pid=$!
  PIDS+=("$wrk_pid")
  sleep $((SECS / 2))
  bytes_mid=$(store_bytes "$data")
  wait "$wrk_pid" || true
  local ticks=$(( $(cpu_ticks "$PROXY_PID") - ticks0 )) sys=$(( $(sys_ticks "$PROXY_PID") - sys0 ))
  if [[ -n $perf_pid ]]; then wait "$perf_pid" || log "perf record failed"; fi
  local end
  end=$(date +%s)
  sleep 3 # the recorder writes challenges off the request path
  line=$(grep '^RESULT ' "$WORK/wrk-$name.txt") || die "wrk run $name failed: $(cat "$WORK/wrk-$name.txt")"
  REQS[$name]=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
  S402[$name]=$(sed 's/.* s402=\([0-9]*\).*/\1/' <<<"$line")
  S429[$name]=$(sed 's/.* s429=\([0-9]*\).*/\1/' <<<"$line")
  OTHER[$name]=$(sed 's/.* other=\([0-9]*\).*/\1/' <<<"$line")
  ERRS[$name]=$(sed 's/.* errors=\([0-9]*\).*/\1/' <<<"$line")
  CPU_REQ[$name]=$(awk -v t="$ticks" -v us="$TICK_US" -v n="${REQS[$name]}" \
    'BEGIN { printf "%.0f", n ? t * us / n : 0 }')
  local per_402='BEGIN { if (n) printf "%.3f", t * us / n / 1000; else printf "–" }'
  CPU_402[$name]=$(awk -v t="$ticks" -v us="$TICK_US" -v n="${S402[$name]}" "$per_402")
  SYS_402[$name]=$(awk -v t="$sys" -v us="$TICK_US" -v n="${S402[$name]}" "$per_402")
  local rows_end bytes_end
  rows_end=$(store_rows "$data"); bytes_end=$(store_bytes "$data")
  ROWS[$name]=$((rows_end - rows0))
  BYTES[$name]=$((bytes_end - bytes0))
  # The second half's rate, to an hour: rows by the time their challenge was issued, bytes by
  # the time they were written (the recorder may still be catching up).
  local mid=$((start + SECS / 2 + 1))
  local late
  late=$(rows_minted "$data" "$mid" "$end")
  ROWS_H[$name]=$(awk -v d="$late" -v s="$((end - mid))" 'BEGIN { printf "%.0f", (s > 0) ? d * 3600 / s : 0 }')
  MIB_H[$name]=$(awk -v d="$((bytes_end - bytes_mid))" -v s="$((end - start - SECS / 2 + 3))" \
    'BEGIN { printf "%.1f", d * 3600 / s / 1048576 }')
  log "  $line cpu_us_per_req=${CPU_REQ[$name]} rows=${ROWS[$name]} bytes=${BYTES[$name]}"
}

CONFIGS=${CONFIGS:-off defaults limited}
PERF_FLOOD="${CONFIGS%% *}-many"
if [[ ${PERF:-0} == 1 ]]; then
  command -v perf >/dev/null 2>&1 || die "PERF=1 needs perf (Debian: linux-perf)"
  KEEP_WORKDIR=1
fi
# Each flood gets a fresh proxy, data dir and dev wallet, so none pays for another's ledger.
for cfg in $CONFIGS; do
  for who in one many; do
    name="$cfg-$who"
    log "configuration $cfg: starting a proxy for flood $name"
    start_proxy "$WORK/$cfg.toml" "$WORK/$name" "$WORK/$name.log"
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/paid$QUERY") == 402 ]] \
      || die "the paid service does not answer 402"
    sleep 2
    if [[ $who == one ]]; then flood "$name" "$WORK/$name" 1; else flood "$name" "$WORK/$name" "$CLIENTS"; fi
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
  done
done

row() {
  local n=$1
  [[ -n ${REQS[$n]:-} ]] || return 0 # a configuration not run (CONFIGS)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$3" "${REQS[$n]}" \
    "${S402[$n]}" "${S429[$n]}" "$((OTHER[$n] + ERRS[$n]))" "${CPU_REQ[$n]}" "${CPU_402[$n]}" "${SYS_402[$n]}" \
    "${ROWS[$n]} rows, $(awk -v b="${BYTES[$n]}" 'BEGIN { printf "%.1f KiB", b / 1024 }')" \
    "${ROWS_H[$n]}" "${MIB_H[$n]}"
}
report() {
  echo "| configuration | clients | requests | 402 | 429 | other/errors | proxy CPU µs/request | proxy CPU ms per 402 | of which kernel | store growth during the flood | rows/hour (steady) | MiB/hour (steady) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  row off-one "off (no cap, no rate limit)" 1
  row off-many "off (no cap, no rate limit)" "$CLIENTS"
  row defaults-one "defaults (cap 64 per client)" 1
  row defaults-many "defaults (cap 64 per client)" "$CLIENTS"
  row limited-one "defaults + rate_limit" 1
  row limited-many "defaults + rate_limit" "$CLIENTS"
  echo
  echo "Settings: wrk -t$THREADS -c$CONNS -d$DURATION per flood, GET /paid$QUERY (1 sat, invoices"
  echo "of 600 s), $CLIENTS clients named in X-Forwarded-For by a trusted loopback proxy,"
  local wallet="with its embedded dev wallet"
  [[ ${EXTERNAL_WALLET:-0} == 1 ]] && wallet="its dev wallet in another process, not counted"
  echo "rate_limit = $RATE_LIMIT, release build, wrk and proxy ($wallet) on the"
  echo "same $(nproc)-core machine, a fresh proxy and store per flood. Rows/hour extrapolates the"
  echo "rows whose challenge was issued in the second half of the flood, MiB/hour the bytes written"
  echo "from then on; expired unpaid rows are pruned 5 minutes after their invoice expires, which"
  echo "this short run does not reach."
}
report
if [[ -n $OUT ]]; then report >"$OUT"; fi
if [[ ${PERF:-0} == 1 ]]; then
  log "flat profile of the proxy during flood $PERF_FLOOD (self time, >= 1%):"
  perf report -i "$WORK/perf-$PERF_FLOOD.data" --no-children --sort dso,symbol --percent-limit 1 \
    --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 >&2 || true
  log "the recording: $WORK/perf-$PERF_FLOOD.data (perf script -i … for the stacks)"
fi
