#!/usr/bin/env bash
# Multi-instance benchmark: paid-request throughput of 1, 2 and 3 `l402 serve` instances on one
# PostgreSQL store behind nginx, and the database round trips each paid and each unpaid request
# costs.
#
# One run starts a throwaway PostgreSQL cluster (scripts/lib/postgres.sh, with the
# pg_stat_statements extension), a dev wallet (`l402 wallet serve`) every instance invoices
# through, the sample API as upstream, three instances (`[store] url = "postgres://…"`) and nginx.
# It pays one challenge through the wallet's loopback API, then:
#   * throughput: wrk with that token through nginx balancing over the first 1, 2 and 3
#     instances (nginx reloaded between runs);
#   * database round trips: statements PostgreSQL executed (pg_stat_statements, every
#     statement counted, BEGIN and COMMIT included) and transactions committed (pg_stat_database)
#     during a paid run and during an unpaid run (every request a fresh 402 challenge), less what
#     the instances' background refresh (revocations and key ring, every 2 s each) does in the
#     same time when idle, per request. The instances lift the unpaid-challenge cap
#     (`[clients] max_unpaid_challenges = 0`): all of wrk's requests come from one address, and
#     every unpaid request must mint (and record) a challenge.
# Prints a Markdown section on stdout; progress goes to stderr. Every process it starts is
# stopped by PID on exit.
#
# Usage: bench/multi-instance.sh [--out FILE]
# Environment: DURATION (whole seconds per run, default 5s), THREADS (2), CONNS (64),
#              L402_BIN=<path> to use a built binary instead of a release build,
#              KEEP_WORKDIR=1 to keep logs.
# Needs: cargo, curl, wrk, nginx and postgresql (the last three installed with apt-get if
#        missing). Loopback traffic only.

set -euo pipefail

DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LUA="$ROOT/bench/wrk-report.lua"
BENCH_NAME=multi-instance
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
bench_args "$@"

need_wrk
command -v curl >/dev/null 2>&1 || die "curl is required"
pg_install
if ! command -v nginx >/dev/null 2>&1; then
  log "installing nginx (Debian package)"
  env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
l402_binary "$ROOT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-multi-instance.XXXXXX")
chmod 711 "$WORK"
PGDIR=$WORK/pg
stop_all() { pg_stop "$PGDIR"; cleanup; }
trap stop_all EXIT

# --- PostgreSQL, with every statement counted ---------------------------------------------------
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
export PG_EXTRA_OPTS
pg_start "$PGDIR" "$PG_PORT"
pg_psql "$PGDIR" "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
log "PostgreSQL on 127.0.0.1:$PG_PORT ($PG_URL)"

# --- wallet, upstream, instances ----------------------------------------------------------------
mkdir -p "$WORK/wallet"
"$BIN" wallet serve --data-dir "$WORK/wallet" 2>"$WORK/wallet.log" &
PIDS+=("$!")
for _ in $(seq 100); do [[ -s $WORK/wallet/dev-wallet.json ]] && break; sleep 0.1; done
[[ -s $WORK/wallet/dev-wallet.json ]] || die "the dev wallet did not start: $(cat "$WORK/wallet.log")"
start_upstream "$WORK/upstream" "$WORK/upstream.log"

INSTANCES=()
for i in 0 1 2; do
  cat >"$WORK/l402-$i.toml" <<TOML
[listen]
addr = "127.0.0.1:0"

[store]
url = "$PG_URL"

[clients]
# Every unpaid request mints a challenge (all of wrk's requests come from one address).
max_unpaid_challenges = 0

[backend]
kind = "dev"

[backend.dev]
connection_file = "$WORK/wallet/dev-wallet.json"

$(service_toml paid 1 "token_lifetime_secs = 3600")
TOML
  L402_LOG=${L402_LOG:-warn} start_proxy "$WORK/l402-$i.toml" "$WORK/data-$i" "$WORK/proxy-$i.log"
  INSTANCES+=("$PROXY")
  log "instance $i on $PROXY (pid $PROXY_PID)"
done

# --- nginx over the first N instances -----------------------------------------------------------
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx/tmp"
nginx_conf() {
  local n=$1 servers="" i
  for ((i = 0; i < n; i++)); do servers+="    server ${INSTANCES[$i]};"$'\n'; done
  cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  upstream l402 {
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://l402;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_next_upstream error timeout;
    }
  }
}
CONF
}
nginx_conf 1
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g 'daemon off;' 2>"$WORK/nginx.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
LB="http://127.0.0.1:$NGINX_PORT"
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
for _ in $(seq 100); do [[ $(status "$LB/paid$QUERY") == 402 ]] && break; sleep 0.1; done
[[ $(status "$LB/paid$QUERY") == 402 ]] || die "nginx does not reach the instances"

# --- pay once -----------------------------------------------------------------------------------
AUTH=$(buy_token "$LB/paid$QUERY" "$WORK/wallet/dev-wallet.json")
for inst in "${INSTANCES[@]}"; do
  [[ $(status -H "Authorization: $AUTH" "http://$inst/paid$QUERY") == 200 ]] \
    || die "instance $inst refuses the token"
done
log "paid once; every instance accepts the token"

# --- runs ---------------------------------------------------------------------------------------
declare -A RPS P50 P99 REQS NON2XX
wrk_run() {
  local name=$1 auth=${2:-}
  log "run $name: wrk -t$THREADS -c$CONNS -d$DURATION $LB/paid$QUERY"
  WRK_AUTHORIZATION=$auth timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency \
    -s "$LUA" "$LB/paid$QUERY" >"$WORK/wrk-$name.txt" 2>&1 || true
  local line
  line=$(grep '^RESULT ' "$WORK/wrk-$name.txt") || die "wrk run $name failed: $(cat "$WORK/wrk-$name.txt")"
  RPS[$name]=$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line")
  P50[$name]=$(sed 's/.* p50_us=\([0-9]*\).*/\1/' <<<"$line")
  P99[$name]=$(sed 's/.* p99_us=\([0-9]*\).*/\1/' <<<"$line")
  REQS[$name]=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
  NON2XX[$name]=$(sed 's/.* non2xx=\([0-9]*\).*/\1/' <<<"$line")
  log "  $line"
}
# Statements executed and transactions committed so far on the store's database (the counting
# queries themselves are left out of the statements).
db_counts() {
  pg_psql "$PGDIR" "SELECT (SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements s
      JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = 'l402' AND s.query NOT ILIKE '%pg_stat%'),
    (SELECT xact_commit FROM pg_stat_database WHERE datname = 'l402')" | tr '|' ' '
}
SECS=${DURATION%s}
declare -A STMTS XACTS
measure() {
  local name=$1 before after
  pg_psql "$PGDIR" "SELECT pg_stat_clear_snapshot()" >/dev/null
  read -r -a before <<<"$(db_counts)"
  if [[ $name == idle ]]; then sleep "$SECS"; else wrk_run "$@"; fi
  sleep 1 # the challenge recorder's last batch
  pg_psql "$PGDIR" "SELECT pg_stat_clear_snapshot()" >/dev/null
  read -r -a after <<<"$(db_counts)"
  STMTS[$name]=$(( after[0] - before[0] ))
  XACTS[$name]=$(( after[1] - before[1] ))
  log "  $name: ${STMTS[$name]} statements, ${XACTS[$name]} transactions"
}

for n in 1 2 3; do
  nginx_conf "$n"
  kill -HUP "$NGINX_PID"
  sleep 1
  wrk_run "paid$n" "$AUTH"
done
# Round trips, with all three instances behind nginx (as the last throughput run left it).
measure idle
measure dbpaid "$AUTH"
measure dbunpaid

# --- report -------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
per_req() { # (during - idle) / requests, the idle run lasting as long plus the 1 s settle
  awk -v d="$1" -v i="$2" -v n="$3" 'BEGIN { x = d - i; printf "%.4f", n ? x / n : 0 }'
}
{
  echo "| instances behind nginx | paid req/s | p50 ms | p99 ms | vs 1 instance | non-2xx |"
  echo "|---|---|---|---|---|---|"
  for n in 1 2 3; do
    echo "| $n | ${RPS[paid$n]} | $(awk -v u="${P50[paid$n]}" 'BEGIN{printf "%.2f", u/1000}') | $(awk -v u="${P99[paid$n]}" 'BEGIN{printf "%.2f", u/1000}') | $(ratio "${RPS[paid$n]}" "${RPS[paid1]}") | ${NON2XX[paid$n]} |"
  done
  echo
  echo "| run (${DURATION}, 3 instances) | requests | statements | transactions | statements per request, less idle | transactions per request, less idle |"
  echo "|---|---|---|---|---|---|"
  echo "| idle (background refresh only) | 0 | ${STMTS[idle]} | ${XACTS[idle]} | | |"
  for name in dbpaid dbunpaid; do
    echo "| ${name#db} | ${REQS[$name]} | ${STMTS[$name]} | ${XACTS[$name]} | $(per_req "${STMTS[$name]}" "${STMTS[idle]}" "${REQS[$name]}") | $(per_req "${XACTS[$name]}" "${XACTS[idle]}" "${REQS[$name]}") |"
  done
  echo
  echo "Unpaid run: ${NON2XX[dbunpaid]} of ${REQS[dbunpaid]} answers were non-2xx (each should be a 402 with a fresh challenge)."
} | if [[ -n $OUT ]]; then tee "$OUT"; else cat; fi
