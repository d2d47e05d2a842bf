#!/usr/bin/env bash
# The 402 path on a real node: how fast `l402 serve` answers fresh challenges when LND mints the
# invoices, beside the rate of raw AddInvoice calls to the same LND at the same concurrency, in
# one run, interleaved (issue 12's 402-path goal: our 402 rate at least 0.9x the raw rate).
#
#   addinvoice    wrk POSTs /v1/invoices to bob's REST API directly (1 sat, 600 s)
#   l402-grpc     wrk GETs an unpaid priced path of `l402 serve` whose backend is bob over gRPC
#   l402-rest     the same with bob's REST API (`rest_address`)
#
# Flood control is off (`max_unpaid_challenges = 0`): every request mints an invoice. For each
# run it reports calls per second, LND's CPU per invoice, the proxy's own CPU per 402 and its
# kernel part (/proc/PID/stat), and the proxy's context switches per 402 (/proc/PID/task/*). The regtest network (btcd, alice, bob) is built and started by the tier
# scripts (scripts/lib/lnd-build.sh, cached after the first build).
#
# Usage: bench/lnd-402.sh [--out FILE]
# Environment: DURATION (whole seconds per run, default 10s), ROUNDS (2), THREADS (2),
#              CONNS (16), L402_BIN (a built binary; default: cargo build --release),
#              KEEP_WORKDIR=1, PERF=1 (record the proxy with `perf record --call-graph dwarf`
#              during the last round's l402-grpc run; prints its flat profile, keeps the data).
# Needs: cargo, go, curl, python3, wrk (installed with apt-get when missing). Loopback only.

set -euo pipefail

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=lnd-402
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_args "$@"
SECS=${DURATION%s}

need_wrk
if [[ ${PERF:-0} == 1 ]]; then
  command -v perf >/dev/null 2>&1 || die "PERF=1 needs perf (Debian: linux-perf)"
  KEEP_WORKDIR=1
fi
for tool in cargo go curl python3; do command -v "$tool" >/dev/null 2>&1 || die "$tool is required"; done
l402_binary "$ROOT"

# shellcheck source=scripts/lib/tier-common.sh
source "$ROOT/scripts/lib/tier-common.sh"
regtest_tier_init lnd-402
cleanup_all() {
  "$CTL" "$WORK" stop-all >/dev/null 2>&1 || true
  cleanup
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

log "building lnd/btcd (cached after the first run)"
LND_BIN=$(timeout 3600 "$ROOT/scripts/lib/lnd-build.sh" | tail -n 1) || die "building lnd/btcd"
log "starting the regtest network (btcd, alice, bob, a channel)"
start_regtest_network "$LND_BIN" >"$WORK/regtest.log" 2>&1 || die "regtest network: $(tail -n 20 "$WORK/regtest.log")"
L402=$BIN
# shellcheck disable=SC1091
. "$WORK/env"
BIN=$L402 # the network's env file names its own BIN (the lnd binaries)
BOB_PID=$(cat "$WORK/bob.pid")
BOB_CERT=$WORK/bob/tls.cert
BOB_MAC=$WORK/bob/data/chain/bitcoin/regtest/invoice.macaroon
export LND_MACAROON_HEX
LND_MACAROON_HEX=$(od -An -v -tx1 "$BOB_MAC" | tr -d ' \n')

start_upstream "$WORK/upstream" "$WORK/upstream.log"

# config NAME REST_LINE: `l402 serve` selling the upstream at 1 sat with bob as its backend.
config() {
  cat >"$WORK/$1.toml" <<TOML
[listen]
addr = "127.0.0.1:0"

[backend]
kind = "lnd"

[backend.lnd]
address = "127.0.0.1:$RPC_BOB"
$2
tls_cert_path = "$BOB_CERT"
macaroon_path = "$BOB_MAC"

[limits]
drain_timeout = "2s"

[clients]
max_unpaid_challenges = 0

$(paid_service_toml)
TOML
}
config l402-grpc ""
config l402-rest "rest_address = \"https://127.0.0.1:$REST_BOB\""
declare -A PROXY_OF PID_OF
for name in l402-grpc l402-rest; do
  start_proxy "$WORK/$name.toml" "$WORK/$name" "$WORK/$name.log"
  PROXY_OF[$name]=$PROXY
  PID_OF[$name]=$PROXY_PID
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/paid$QUERY") == 402 ]] \
    || die "$name does not answer 402: $(tail -n 5 "$WORK/$name.log")"
done
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Grpc-Metadata-macaroon: $LND_MACAROON_HEX" \
  -d '{"value":"1"}' "https://127.0.0.1:$REST_BOB/v1/invoices")
[[ $code == 200 ]] || die "AddInvoice on bob's REST API answered $code"

declare -A RATE LND_US PROXY_US PROXY_SYS PROXY_CTX BAD
# run CASE ROUND: one bounded wrk run.
run() {
  local case=$1 round=$2 key="$1#$2" url lua proxy_pid="" ticks0 sys0 ctx0 lnd0 line n ok
  case $case in
    addinvoice) url="https://127.0.0.1:$REST_BOB/v1/invoices"; lua=$ROOT/bench/addinvoice.lua ;;
    *) url="http://${PROXY_OF[$case]}/paid$QUERY"; lua=$ROOT/bench/flood.lua; proxy_pid=${PID_OF[$case]} ;;
  esac
  log "round $round: $case (wrk -t$THREADS -c$CONNS -d$DURATION)"
  local perf_pid=""
  if [[ ${PERF:-0} == 1 && $case == l402-grpc && $round == "$ROUNDS" ]]; then
    perf record -q -F 499 --call-graph dwarf,16384 -o "$WORK/perf-$case.data" -p "$proxy_pid" \
      -- sleep "$SECS" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  lnd0=$(cpu_ticks "$BOB_PID")
  if [[ -n $proxy_pid ]]; then
    ticks0=$(cpu_ticks "$proxy_pid"); sys0=$(sys_ticks "$proxy_pid"); ctx0=$(ctx_switches "$proxy_pid")
  fi
  timeout $((SECS + 60)) wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$lua" "$url" \
    >"$WORK/wrk-$case-$round.txt" 2>&1 || true
  if [[ -n $perf_pid ]]; then wait "$perf_pid" || log "perf record failed"; fi
  line=$(grep '^RESULT ' "$WORK/wrk-$case-$round.txt") || die "wrk $case failed: $(cat "$WORK/wrk-$case-$round.txt")"
  n=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
  if [[ $case == addinvoice ]]; then ok=$(sed 's/.* ok=\([0-9]*\).*/\1/' <<<"$line")
  else ok=$(sed 's/.* s402=\([0-9]*\).*/\1/' <<<"$line"); fi
  BAD[$key]=$((n - ok))
  RATE[$key]=$(awk -v n="$ok" -v s="$SECS" 'BEGIN { printf "%.0f", n / s }')
  LND_US[$key]=$(per_request $(( $(cpu_ticks "$BOB_PID") - lnd0 )) "$ok")
  PROXY_US[$key]="–"
  PROXY_SYS[$key]="–"
  PROXY_CTX[$key]="–"
  if [[ -n $proxy_pid ]]; then
    PROXY_US[$key]=$(per_request $(( $(cpu_ticks "$proxy_pid") - ticks0 )) "$ok")
    PROXY_SYS[$key]=$(per_request $(( $(sys_ticks "$proxy_pid") - sys0 )) "$ok")
    PROXY_CTX[$key]=$(awk -v c=$(( $(ctx_switches "$proxy_pid") - ctx0 )) -v n="$ok" 'BEGIN { printf "%.1f", n ? c / n : 0 }')
  fi
  log "  $line"
  sleep 2
}
for round in $(seq "$ROUNDS"); do
  for case in addinvoice l402-grpc l402-rest; do run "$case" "$round"; done
done

report() {
  echo "| round | case | invoices/s | not 200/402 | LND CPU µs per invoice | proxy CPU µs per 402 | of which kernel | proxy context switches per 402 | rate / raw AddInvoice |"
  echo "|---|---|---|---|---|---|---|---|---|"
  local round case key
  for round in $(seq "$ROUNDS"); do
    for case in addinvoice l402-grpc l402-rest; do
      key="$case#$round"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$round" "$case" "${RATE[$key]}" "${BAD[$key]}" \
        "${LND_US[$key]}" "${PROXY_US[$key]}" "${PROXY_SYS[$key]}" "${PROXY_CTX[$key]}" \
        "$(awk -v a="${RATE[$key]}" -v b="${RATE[addinvoice#$round]}" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
    done
  done
  echo
  echo "Settings: wrk -t$THREADS -c$CONNS -d$DURATION per run, interleaved rounds; LND $("$LND_BIN/lnd" --version | sed -n 's/.*version \([^ ]*\).*/\1/p')"
  echo "(regtest, bob's invoice macaroon); the proxy with flood control off, its store SQLite; wrk,"
  echo "LND, btcd and the proxy on the same $(nproc)-core machine."
}
report
if [[ -n $OUT ]]; then report >"$OUT"; fi
if [[ ${PERF:-0} == 1 ]]; then
  log "flat profile of the proxy during the last l402-grpc run (self time, >= 1%):"
  perf report -i "$WORK/perf-l402-grpc.data" --no-children --sort dso,symbol --percent-limit 1 \
    --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 >&2 || true
  log "the recording: $WORK/perf-l402-grpc.data (perf script -i … for the stacks)"
fi
