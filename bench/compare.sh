#!/usr/bin/env bash
# One comparison run: `l402 serve` beside nginx (Debian) and Aperture v0.5.0 (built from the Go
# module proxy by scripts/lib/aperture-build.sh, on the regtest LND network the tiers start), all
# in front of the same Go net/http upstream (bench/upstream, ~100 bytes of JSON), measured with
# the same load generator in interleaved rounds:
#
#   direct        the upstream, no proxy
#   nginx         proxy_pass with upstream keep-alive, access log on
#   l402-off      `l402 serve`, a service with price 0 (the proxy hop alone)
#   l402-paid     `l402 serve`, every request with one valid L402 token
#   ap-off        Aperture, a service with `auth: off`
#   ap-paid       Aperture, every request with one valid L402 token (paid from alice's LND)
#
# HTTP/1.1 with wrk (keep-alive), then HTTP/2 (h2c, prior knowledge) with h2load against nginx's
# `http2` listener and `l402 serve`, then `l402-paid` at 1, 64, 1,000 and 10,000 connections with
# the proxy's resident memory. CPU per request of each proxy process (and its kernel part) comes
# from /proc. Prints a Markdown report (tables and the ratios of issue 12's goals); progress goes
# to stderr.
#
# Usage: bench/compare.sh [--out FILE]
# Environment: DURATION (whole seconds per run, default 8s), ROUNDS (3), THREADS (2), CONNS (64),
#              L402_BIN (a built binary; default: cargo build --release), KEEP_WORKDIR=1,
#              APERTURE=0 (leave Aperture and its regtest network out: a quick run while tuning),
#              SECTIONS (which parts run, default "h1 h2 scale"; add "syscalls" for one more
#              HTTP/1.1 run per proxy counting its system calls per request with `perf stat`;
#              those runs are not in the tables), L402_THREADS (the proxy's threads, read by
#              `l402 serve --threads`; 1 runs it on one thread, as nginx runs one worker here).
# Needs: cargo, go, curl, python3, wrk, nginx, h2load (the last three installed with apt-get when
# missing). Loopback only; every process it starts is stopped by PID.

set -euo pipefail

DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
# APERTURE is renamed here: the script later uses that name for Aperture's address.
WITH_APERTURE=${APERTURE:-1}
SECTIONS=${SECTIONS:-h1 h2 scale}
section() { [[ " $SECTIONS " == *" $1 "* ]]; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LUA="$ROOT/bench/wrk-report.lua"
BENCH_NAME=compare
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_args "$@"

need_wrk
command -v nginx >/dev/null 2>&1 || { log "installing nginx"; apt_install nginx; }
command -v h2load >/dev/null 2>&1 || { log "installing h2load (nghttp2-client)"; apt_install nghttp2-client; }
for tool in cargo go curl python3; do command -v "$tool" >/dev/null 2>&1 || die "$tool is required"; done
l402_binary "$ROOT"

# The regtest network and its helpers (alice pays, bob sells for Aperture).
# shellcheck source=scripts/lib/tier-common.sh
source "$ROOT/scripts/lib/tier-common.sh"
regtest_tier_init compare
cleanup_all() {
  "$CTL" "$WORK" stop-all >/dev/null 2>&1 || true
  cleanup
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

if [[ $WITH_APERTURE == 1 ]]; then
  log "building lnd/btcd and aperture (cached after the first run)"
  LND_BIN=$(timeout 3600 "$ROOT/scripts/lib/lnd-build.sh" | tail -n 1) || die "building lnd/btcd"
  timeout 3600 "$ROOT/scripts/lib/aperture-build.sh" aperture >"$WORK/build.status" \
    || die "building aperture: $(cat "$WORK/build.status")"
  grep -q '^aperture=ok' "$WORK/build.status" || die "aperture unavailable: $(cat "$WORK/build.status")"
fi
(cd "$ROOT/bench/upstream" && GOFLAGS=-mod=mod go build -o "$WORK/upstream" .) || die "building the Go upstream"

# --- upstream and nginx -------------------------------------------------------------------------
UP_PORT=$(free_port)
"$WORK/upstream" "127.0.0.1:$UP_PORT" 2>"$WORK/upstream.log" &
UPSTREAM_PID=$!
PIDS+=("$UPSTREAM_PID")
UPSTREAM=127.0.0.1:$UP_PORT
poll 20 "Go upstream" curl -sf --max-time 2 "http://$UPSTREAM/api/weather"

NGINX_PORT=$(free_port)
NGINX_H2_PORT=$(free_port)
nginx_proxy_conf "$WORK/nginx" "127.0.0.1:$NGINX_PORT" "127.0.0.1:$NGINX_H2_PORT http2"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' 2>"$WORK/nginx/stderr.log" &
PIDS+=($!)
poll 20 "nginx" curl -sf --max-time 2 "http://127.0.0.1:$NGINX_PORT/api/weather"
# The worker serves the requests: measure its CPU (one worker).
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | head -n 1)
[[ -n $NGINX_WORKER ]] || die "no nginx worker"

# --- l402 serve ---------------------------------------------------------------------------------
free_and_paid_toml >"$WORK/l402.toml"
start_proxy "$WORK/l402.toml" "$WORK/l402" "$WORK/l402.log"
L402_PID=$PROXY_PID
L402=$PROXY
L402_AUTH=$(buy_token "http://$L402/paid/api/weather" "$WORK/l402/dev-wallet.json")
log "l402 serve on $L402 (pid $L402_PID), token bought"

# --- Aperture on bob's LND ----------------------------------------------------------------------
if [[ $WITH_APERTURE == 1 ]]; then
log "starting the regtest network (btcd, alice, bob, a channel)"
start_regtest_network "$LND_BIN" >"$WORK/regtest.log" 2>&1 || die "regtest network: $(tail -n 20 "$WORK/regtest.log")"
# shellcheck disable=SC1091
. "$WORK/env"
AP_PORT=$(free_port)
mkdir -p "$WORK/aperture"
cat >"$WORK/aperture/aperture.yaml" <<EOF
listenaddr: "127.0.0.1:$AP_PORT"
insecure: true
debuglevel: "error"
dbbackend: "sqlite"
authenticator:
  network: "regtest"
  lndhost: "127.0.0.1:$RPC_BOB"
  tlspath: "$WORK/bob/tls.cert"
  macdir: "$WORK/bob/data/chain/bitcoin/regtest"
services:
  - name: "free"
    hostregexp: ".*"
    pathregexp: "^/free/.*$"
    address: "$UPSTREAM"
    protocol: http
    auth: "off"
  - name: "paid"
    hostregexp: ".*"
    pathregexp: "^/paid/.*$"
    address: "$UPSTREAM"
    protocol: http
    price: 1
EOF
"$LND_BIN/aperture" --configfile="$WORK/aperture/aperture.yaml" --basedir="$WORK/aperture" \
  --sqlite.dbfile="$WORK/aperture/aperture.db" >"$WORK/aperture/stdout.log" 2>&1 &
APERTURE_PID=$!
PIDS+=("$APERTURE_PID")
APERTURE=127.0.0.1:$AP_PORT
poll 60 "aperture" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://$APERTURE/paid/api/weather)\" = 402 ]"
curl -s -D "$WORK/aperture/challenge.headers" -o /dev/null "http://$APERTURE/paid/api/weather"
AP_MAC=$(sed -n 's/^[Ww]ww-[Aa]uthenticate: L402 macaroon="\([^"]*\)".*/\1/p' "$WORK/aperture/challenge.headers" | head -n1)
AP_INV=$(sed -n 's/^[Ww]ww-[Aa]uthenticate: L402 .*invoice="\([^"]*\)".*/\1/p' "$WORK/aperture/challenge.headers" | head -n1)
[[ -n $AP_MAC && -n $AP_INV ]] || die "no L402 challenge from Aperture: $(cat "$WORK/aperture/challenge.headers")"
AP_PRE=$(lncli alice payinvoice --force --json "$AP_INV" 2>/dev/null | python3 -c '
import json, sys
txt = sys.stdin.read(); dec = json.JSONDecoder(); i = 0; last = {}
while i < len(txt):
    j = txt.find("{", i)
    if j < 0: break
    try: last, i = dec.raw_decode(txt, j)
    except ValueError: i = j + 1
print(last.get("payment_preimage", ""))')
[[ ${#AP_PRE} -eq 64 ]] || die "alice could not pay Aperture's invoice"
AP_AUTH="L402 $AP_MAC:$AP_PRE"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $AP_AUTH" "http://$APERTURE/paid/api/weather") == 200 ]] \
  || die "Aperture refuses its own token"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://$APERTURE/free/api/weather") == 200 ]] \
  || die "Aperture's free service does not answer 200"
log "aperture on $APERTURE (pid $APERTURE_PID), token bought from alice"
fi

# --- HTTP/1.1 rounds ----------------------------------------------------------------------------
declare -A RPS P50 P99 CPU SYS N
CASES=(direct nginx l402-off l402-paid)
[[ $WITH_APERTURE != 1 ]] || CASES+=(ap-off ap-paid)
case_url() {
  case $1 in
    direct) echo "http://$UPSTREAM/api/weather" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT/api/weather" ;;
    l402-off) echo "http://$L402/free/api/weather" ;;
    l402-paid) echo "http://$L402/paid/api/weather" ;;
    ap-off) echo "http://$APERTURE/free/api/weather" ;;
    ap-paid) echo "http://$APERTURE/paid/api/weather" ;;
  esac
}
case_auth() { case $1 in l402-paid) echo "$L402_AUTH" ;; ap-paid) echo "$AP_AUTH" ;; *) echo "" ;; esac; }
case_pid() {
  case $1 in
    direct) echo "$UPSTREAM_PID" ;; nginx) echo "$NGINX_WORKER" ;;
    l402-*) echo "$L402_PID" ;; ap-*) echo "$APERTURE_PID" ;;
  esac
}
# One wrk run; appends "rps p50 p99 cpu_us_per_req sys_us_per_req" to $WORK/h1-NAME.
h1_run() {
  local name=$1 conns=${2:-$CONNS} pid before sys_before line reqs threads=$THREADS
  [[ $conns -ge $threads ]] || threads=$conns
  pid=$(case_pid "$name")
  before=$(cpu_ticks "$pid")
  sys_before=$(sys_ticks "$pid")
  WRK_AUTHORIZATION=$(case_auth "$name") timeout 300 wrk -t"$threads" -c"$conns" -d"$DURATION" \
    --latency -s "$LUA" "$(case_url "$name")" >"$WORK/wrk.txt" 2>&1 || true
  line=$(grep '^RESULT ' "$WORK/wrk.txt") || die "wrk $name failed: $(cat "$WORK/wrk.txt")"
  reqs=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
  [[ $(sed 's/.* non2xx=\([0-9]*\).*/\1/' <<<"$line") == 0 ]] || log "warning: $name had non-2xx answers: $line"
  printf '%s %s %s %s %s\n' "$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line")" \
    "$(sed 's/.* p50_us=\([0-9]*\).*/\1/' <<<"$line")" "$(sed 's/.* p99_us=\([0-9]*\).*/\1/' <<<"$line")" \
    "$(per_request $(( $(cpu_ticks "$pid") - before )) "$reqs")" \
    "$(per_request $(( $(sys_ticks "$pid") - sys_before )) "$reqs")" >>"$WORK/h1-$name"
  log "  $name c=$conns: $line"
  sleep 1
}
# The median of the rounds, per column.
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
if section h1; then
for round in $(seq "$ROUNDS"); do
  log "HTTP/1.1 round $round of $ROUNDS"
  for name in "${CASES[@]}"; do h1_run "$name"; done
done
for name in "${CASES[@]}"; do
  RPS[$name]=$(awk '{ print $1 }' "$WORK/h1-$name" | median)
  P50[$name]=$(awk '{ print $2 }' "$WORK/h1-$name" | median)
  P99[$name]=$(awk '{ print $3 }' "$WORK/h1-$name" | median)
  CPU[$name]=$(awk '{ print $4 }' "$WORK/h1-$name" | median)
  SYS[$name]=$(awk '{ print $5 }' "$WORK/h1-$name" | median)
done
fi

# --- system calls per request (SECTIONS=syscalls) ----------------------------------------------
# One more HTTP/1.1 run per proxy with `perf stat` counting its system calls (in the kernel, none
# lost): all of them, and the few a proxy's request path makes, divided by the requests wrk made.
# Counting costs a little time, so these runs stay out of the tables above.
SYSCALLS_COUNTED=(recvfrom read readv sendto writev write epoll_wait epoll_ctl futex getsockopt)
declare -A SYSC
if section syscalls; then
  command -v perf >/dev/null 2>&1 || die "SECTIONS=syscalls needs perf (Debian: linux-perf)"
  events="raw_syscalls:sys_enter"
  for call in "${SYSCALLS_COUNTED[@]}"; do events+=",syscalls:sys_enter_$call"; done
  for name in nginx l402-off l402-paid; do
    log "system calls of $name (perf stat)"
    pid=$(case_pid "$name")
    perf stat -x, -e "$events" -p "$pid" -o "$WORK/syscalls-$name.txt" -- sleep "${DURATION%s}" \
      >/dev/null 2>&1 &
    counter=$!
    WRK_AUTHORIZATION=$(case_auth "$name") timeout 300 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" \
      --latency -s "$LUA" "$(case_url "$name")" >"$WORK/wrk.txt" 2>&1 || true
    wait "$counter" || log "perf stat failed for $name"
    reqs=$(grep '^RESULT ' "$WORK/wrk.txt" | sed 's/.* requests=\([0-9]*\).*/\1/')
    SYSC[$name]=$(awk -F, -v n="${reqs:-0}" '
      $3 ~ /sys_enter/ && n && $1 / n >= 0.005 {
        name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "all"
        printf "%s %.2f, ", name, $1 / n }' "$WORK/syscalls-$name.txt" | sed 's/, $//')
    log "  $name: ${SYSC[$name]}"
    sleep 1
  done
fi

# --- HTTP/2 (h2c, prior knowledge) --------------------------------------------------------------
declare -A H2RPS H2CPU
H2_REQUESTS=${H2_REQUESTS:-200000}
h2_run() {
  local name=$1 url=$2 pid=$3 auth=${4:-} before out reqs
  before=$(cpu_ticks "$pid")
  local -a header=()
  [[ -z $auth ]] || header=(-H "authorization: $auth")
  out=$(timeout 300 h2load -n "$H2_REQUESTS" -c "$CONNS" -m 10 -t "$THREADS" "${header[@]}" "$url" 2>&1) \
    || die "h2load $name failed: $out"
  reqs=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
  [[ $reqs == "$H2_REQUESTS" ]] || log "warning: h2load $name: $(grep '^requests:' <<<"$out")"
  echo "$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out") $(per_request $(( $(cpu_ticks "$pid") - before )) "$reqs")" \
    >>"$WORK/h2-$name"
  log "  h2 $name: $(grep '^finished in' <<<"$out")"
  sleep 1
}
if section h2; then
for round in $(seq "$ROUNDS"); do
  log "HTTP/2 round $round of $ROUNDS"
  h2_run nginx "http://127.0.0.1:$NGINX_H2_PORT/api/weather" "$NGINX_WORKER"
  h2_run l402-off "http://$L402/free/api/weather" "$L402_PID"
  h2_run l402-paid "http://$L402/paid/api/weather" "$L402_PID" "$L402_AUTH"
done
for name in nginx l402-off l402-paid; do
  H2RPS[$name]=$(awk '{ print $1 }' "$WORK/h2-$name" | median)
  H2CPU[$name]=$(awk '{ print $2 }' "$WORK/h2-$name" | median)
done
fi

# --- scale: l402-paid at 1 .. 10,000 connections, resident memory -------------------------------
if section scale; then
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SCALE=(1 64 1000)
if [[ $(ulimit -n) == unlimited || $(ulimit -n) -ge 12000 ]]; then SCALE+=(10000); else
  log "ulimit -n $(ulimit -n): skipping 10,000 connections (needs 12,000 descriptors)"; fi
# Memory per idle connection, before the runs with many connections (whose memory the
# allocator keeps, or gives back, as it pleases): idle keep-alive connections held open by
# Python, 1,000 and then 1,000 more; the second thousand's growth is the figure.
python3 - "$L402" >"$WORK/idle.txt" <<'PY' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
conns = []
def open_idle(n):
    fresh = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)))
        s.sendall(b"GET /free/api/weather HTTP/1.1\r\nHost: x\r\n\r\n")
        fresh.append(s)
    for s in fresh:
        s.recv(4096)
    conns.extend(fresh)
open_idle(1000)
print("open1", flush=True)
time.sleep(3)
open_idle(1000)
print("open2", flush=True)
time.sleep(5)
PY
IDLE_PID=$!
PIDS+=("$IDLE_PID")
for _ in $(seq 100); do grep -q open1 "$WORK/idle.txt" 2>/dev/null && break; sleep 0.2; done
sleep 1
RSS0=$(proc_kb "$L402_PID" VmRSS)
for _ in $(seq 100); do grep -q open2 "$WORK/idle.txt" 2>/dev/null && break; sleep 0.2; done
sleep 1
RSS1=$(proc_kb "$L402_PID" VmRSS)
wait "$IDLE_PID" || true
PER_IDLE=$(awk -v a="$RSS0" -v b="$RSS1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
declare -A SRPS SP99 SRSS
for conns in "${SCALE[@]}"; do
  rm -f "$WORK/h1-l402-paid"
  h1_run l402-paid "$conns" &
  RUN=$!
  peak=0
  while kill -0 "$RUN" 2>/dev/null; do
    rss=$(proc_kb "$L402_PID" VmRSS); [[ -z $rss || $rss -le $peak ]] || peak=$rss; sleep 1
  done
  wait "$RUN"
  read -r r _ p99 _ <"$WORK/h1-l402-paid"
  SRPS[$conns]=$r; SP99[$conns]=$p99; SRSS[$conns]=$peak
done
fi

# --- report -------------------------------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
r() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", y ? x / y : 0 }'; }
verdict() { awk -v x="$1" -v op="$2" -v g="$3" 'BEGIN { ok = (op == "<=") ? (x <= g) : (x >= g); print ok ? "met" : "NOT met" }'; }
{
  echo "## Proxy comparison: l402 serve, nginx, Aperture ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "\`bench/compare.sh\`: Go net/http upstream (~100 bytes of JSON), wrk -t$THREADS -c$CONNS -d$DURATION,"
  echo "keep-alive, medians of $ROUNDS interleaved rounds; proxy CPU per request from /proc (nginx: its one"
  echo "worker; \`l402 serve\`: ${L402_THREADS:-one thread per core} ($(nproc) cores), L402_THREADS). Load average at the"
  echo "end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  if section h1; then
  echo "| case | req/s | p50 ms | p99 ms | CPU µs/req | of which kernel |"
  echo "|---|---|---|---|---|---|"
  for name in "${CASES[@]}"; do
    printf '| %s | %.0f | %s | %s | %s | %s |\n' "$name" "${RPS[$name]}" "$(ms "${P50[$name]}")" "$(ms "${P99[$name]}")" "${CPU[$name]}" "${SYS[$name]}"
  done
  echo
  fi
  if section h2; then
  echo "HTTP/2 (h2load -c$CONNS -m10, h2c prior knowledge, $H2_REQUESTS requests):"
  echo
  echo "| case | req/s | CPU µs/req |"
  echo "|---|---|---|"
  for name in nginx l402-off l402-paid; do
    printf '| %s | %.0f | %s |\n' "$name" "${H2RPS[$name]}" "${H2CPU[$name]}"
  done
  echo
  fi
  if section scale; then
  echo "Scale, l402-paid:"
  echo
  echo "| connections | req/s | p99 ms | peak RSS MB |"
  echo "|---|---|---|---|"
  for conns in "${SCALE[@]}"; do
    printf '| %s | %.0f | %s | %.1f |\n' "$conns" "${SRPS[$conns]}" "$(ms "${SP99[$conns]}")" "$(awk -v k="${SRSS[$conns]}" 'BEGIN { print k / 1024 }')"
  done
  echo
  echo "Resident memory per idle keep-alive connection: $PER_IDLE kB (1,000 more beside 1,000)."
  echo
  fi
  if section syscalls; then
  echo "System calls per request (one counted HTTP/1.1 run each, \`perf stat\`; \"all\" is every call):"
  echo
  for name in nginx l402-off l402-paid; do echo "- $name: ${SYSC[$name]}"; done
  echo
  fi
  echo "Goals (issue 12):"
  if section h1; then
  c_off=$(r "${CPU[l402-off]}" "${CPU[nginx]}"); c_paid=$(r "${CPU[l402-paid]}" "${CPU[nginx]}")
  t_off=$(r "${RPS[l402-off]}" "${RPS[nginx]}"); t_paid=$(r "${RPS[l402-paid]}" "${RPS[nginx]}")
  echo "- CPU per request vs nginx: auth off ${c_off}x, paid ${c_paid}x (goal <= 1.25: $(verdict "$c_off" "<=" 1.25) / $(verdict "$c_paid" "<=" 1.25))"
  echo "- throughput vs nginx: auth off ${t_off}, paid ${t_paid} (goal >= 0.8: $(verdict "$t_off" ">=" 0.8) / $(verdict "$t_paid" ">=" 0.8))"
  user() { awk -v c="${CPU[$1]}" -v s="${SYS[$1]}" 'BEGIN { printf "%.1f", c - s }'; }
  echo "- where it differs: kernel µs per request nginx ${SYS[nginx]}, auth off ${SYS[l402-off]}, paid ${SYS[l402-paid]}; user space nginx $(user nginx), auth off $(user l402-off), paid $(user l402-paid)"
  fi
  if section h2; then
  h2c=$(r "${H2CPU[l402-off]}" "${H2CPU[nginx]}"); h2t=$(r "${H2RPS[l402-off]}" "${H2RPS[nginx]}")
  echo "- HTTP/2 vs nginx (auth off): CPU ${h2c}x, throughput ${h2t} (goals <= 1.25 / >= 0.8: $(verdict "$h2c" "<=" 1.25) / $(verdict "$h2t" ">=" 0.8))"
  fi
  if section h1; then
  added=$(awk -v a="${CPU[l402-paid]}" -v b="${CPU[l402-off]}" 'BEGIN { printf "%.1f", a - b }')
  echo "- paid over auth off: +$added µs CPU per request (goal <= 3: $(verdict "$added" "<=" 3))"
  if [[ $WITH_APERTURE == 1 ]]; then
  echo "- vs Aperture, paid: throughput $(r "${RPS[l402-paid]}" "${RPS[ap-paid]}")x, CPU per request $(r "${CPU[l402-paid]}" "${CPU[ap-paid]}")x; auth off: throughput $(r "${RPS[l402-off]}" "${RPS[ap-off]}")x, CPU $(r "${CPU[l402-off]}" "${CPU[ap-off]}")x"
  fi
  fi
} | tee -a "${OUT:-/dev/null}"
