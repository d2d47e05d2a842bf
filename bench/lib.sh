# Shell helpers shared by the loopback benchmarks (source it; set BENCH_NAME first):
# logging, the l402 binary, wrk, processes cleaned up by PID, and /proc readings.
# shellcheck shell=bash

# The request every bench sends (behind its service's prefix): a small JSON answer of the
# sample API.
QUERY="/api/weather?city=Paris"

log() { echo "[${BENCH_NAME:-bench}] $*" >&2; }
die() { log "error: $*"; exit 1; }

# Reads the common arguments (`--out FILE`, `-h`) into OUT and checks DURATION (whole seconds).
bench_args() {
  OUT=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --out) [[ $# -ge 2 ]] || { echo "--out needs a file" >&2; exit 2; }; OUT=$2; shift 2 ;;
      -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
  done
  [[ $DURATION =~ ^[0-9]+s$ ]] || { echo "DURATION must be whole seconds, e.g. 10s" >&2; exit 2; }
}

# Installs Debian packages (with sudo unless root).
apt_install() {
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Installs wrk from the Debian package if it is missing.
need_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk (Debian package)"
    apt_install wrk
  fi
}

# Sets BIN: $L402_BIN, or a release build of l402-cli from the repository at $1.
l402_binary() {
  local root=$1
  if [[ -n ${L402_BIN:-} ]]; then
    BIN=$L402_BIN
    log "using $BIN (L402_BIN; not building)"
  else
    log "building the release binary (cargo build --release -p l402-cli)"
    (cd "$root" && cargo build --release -p l402-cli >&2)
    BIN="${CARGO_TARGET_DIR:-$root/target}/release/l402"
  fi
  [[ -x "$BIN" ]] || die "no binary at $BIN"
}

# Processes started by the bench (append their PIDs to PIDS), stopped by PID on exit; WORK is
# removed unless KEEP_WORKDIR=1.
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n ${WORK:-} ]]; then
    if [[ ${KEEP_WORKDIR:-0} == 1 ]]; then log "logs kept in $WORK"; else rm -rf "$WORK"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to 30 s for a line matching the sed expression $2 in file $1; prints the capture.
wait_for_line() {
  local file=$1 expr=$2 value=""
  for _ in $(seq 300); do
    value=$(sed -n "$expr" "$file" 2>/dev/null | head -n1)
    [[ -n $value ]] && { echo "$value"; return 0; }
    sleep 0.1
  done
  cat "$file" >&2 || true
  return 1
}

# The value of string field $1 in the JSON on stdin (flat objects only, first match).
json_field() { sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n1; }

# Starts a zero-config `l402 serve` (data in $1, log in $2) for its sample API, the upstream of
# the benches; sets UPSTREAM (host:port) and UPSTREAM_PID.
start_upstream() {
  log "starting the upstream (zero-config l402 serve, its sample API)"
  "$BIN" serve --listen 127.0.0.1:0 --data-dir "$1" 2>"$2" &
  UPSTREAM_PID=$!
  PIDS+=("$UPSTREAM_PID")
  UPSTREAM=$(wait_for_line "$2" 's/.*sample API (upstream \([0-9.:]*\)).*/\1/p') \
    || die "the zero-config server did not start"
  log "upstream sample API on $UPSTREAM"
}

# service_toml NAME PRICE_SAT [LINE...]: a `[[services]]` entry selling $UPSTREAM under /NAME
# (prefix stripped) at PRICE_SAT, then each LINE (printed for a config heredoc).
service_toml() {
  local name=$1 price=$2 line
  shift 2
  printf '[[services]]\nname = "%s"\npath_prefix = "/%s"\nstrip_path_prefix = true\n' "$name" "$name"
  printf 'upstream = "http://%s"\nprice_sat = %s\n' "$UPSTREAM" "$price"
  for line in "$@"; do printf '%s\n' "$line"; done
}

# free_and_paid_toml [TOKEN_LIFETIME_SECS]: the configuration the proxy benches give `l402 serve`
# (printed for a config file): the dev wallet, a free service under /free and a paid one (1 sat,
# tokens of TOKEN_LIFETIME_SECS, default a day) under /paid, both on $UPSTREAM, listening on a
# free port.
free_and_paid_toml() {
  cat <<TOML
[listen]
addr = "127.0.0.1:0"

[backend]
kind = "dev"

$(service_toml free 0)

$(service_toml paid 1 "token_lifetime_secs = ${1:-86400}")
TOML
}

# nginx_proxy_conf DIR LISTEN...: writes DIR/nginx.conf (logs in DIR/logs), the nginx the proxy
# comparisons run: one worker, access log on, keep-alive connections to $UPSTREAM, one `listen`
# line per LISTEN ("127.0.0.1:PORT", "127.0.0.1:PORT http2"). Run it with
# `nginx -c DIR/nginx.conf -p DIR -g "daemon off;"`.
nginx_proxy_conf() {
  local dir=$1 listen lines=""
  shift
  for listen in "$@"; do lines+="    listen $listen;"$'\n'; done
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 20000; }
worker_rlimit_nofile 40000;
http {
  access_log $dir/logs/access.log;
  # nginx closes a client connection after 1,000 requests by default (h2load counts the rest as
  # failures); l402 serve has no such limit.
  keepalive_requests 100000000;
  upstream backend { server $UPSTREAM; keepalive 256; }
  server {
${lines}    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
}

# The `[[services]]` entry the unpaid-flood benches sell: the upstream under /paid at 1 sat,
# invoices of 600 s (printed for a config heredoc).
paid_service_toml() { service_toml paid 1 "invoice_expiry_secs = 600"; }

# Starts `l402 serve --config $1 --data-dir $2` (log in $3), records its PID in PROXY_PID and
# PIDS, and sets PROXY to the host:port it listens on.
start_proxy() {
  local config=$1 data=$2 logfile=$3
  "$BIN" serve --config "$config" --data-dir "$data" 2>"$logfile" &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  PROXY=$(wait_for_line "$logfile" 's/.*paywall proxy listening on http:\/\/\([0-9.:]*\).*/\1/p') \
    || die "the proxy did not start"
}

# A field of /proc/PID/status, in kB: proc_kb PID VmRSS.
proc_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

# CPU time (user + system, clock ticks) a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# The system (kernel) part of it.
sys_ticks() { awk '{ print $15 }' "/proc/$1/stat"; }

# Context switches (voluntary and not) of every thread of process $1 so far.
ctx_switches() { cat "/proc/$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'; }

# Microseconds per clock tick.
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# per_request TICKS REQUESTS: the ticks' microseconds per request (one decimal; 0 for none).
per_request() { awk -v t="$1" -v us="$TICK_US" -v n="$2" 'BEGIN { printf "%.1f", n ? t * us / n : 0 }'; }

# buy_token URL WALLET_JSON: pays the L402 challenge `GET URL` answers through the dev wallet
# whose connection file is WALLET_JSON (scratch files in $WORK) and prints the Authorization
# value, `L402 <macaroon>:<preimage>`.
buy_token() {
  local url=$1 wallet=$2 invoice macaroon wallet_url wallet_token preimage
  local -a how=()
  if [[ -n ${BUY_BODY:-} ]]; then
    how=(-X "${BUY_METHOD:-POST}" -H 'Content-Type: application/json' -d "$BUY_BODY")
  fi
  curl -s "${how[@]}" -D "$WORK/challenge.headers" -o "$WORK/challenge.json" "$url"
  grep -q '^HTTP/1.1 402' "$WORK/challenge.headers" || die "$url did not answer 402"
  # From the L402 challenge itself (a service that also sells `Payment` answers problem+json).
  invoice=$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: L402 .*invoice="\([^"]*\)".*/\1/p' \
    "$WORK/challenge.headers" | head -n1)
  macaroon=$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: L402 macaroon="\([^"]*\)".*/\1/p' \
    "$WORK/challenge.headers" | head -n1)
  [[ -n $invoice && -n $macaroon ]] || die "no L402 challenge in the 402 answer"
  wallet_url=$(json_field url <"$wallet")
  wallet_token=$(json_field access_token <"$wallet")
  curl -s -X POST "$wallet_url/v1/payments" \
    -H "Authorization: Bearer $wallet_token" -H 'Content-Type: application/json' \
    -d "{\"bolt11\":\"$invoice\",\"max_fee_msat\":0,\"timeout_ms\":10000}" >"$WORK/payment.json"
  preimage=$(json_field preimage <"$WORK/payment.json")
  [[ -n $preimage ]] || die "payment failed: $(cat "$WORK/payment.json")"
  echo "L402 $macaroon:$preimage"
}

# Opens a `Payment` (MPP) Lightning session on the metered endpoint $1 (POST of JSON $3): pays the
# deposit of its 402's session challenge through the dev wallet whose connection file is $2, gives
# an amountless invoice of the same wallet for the refund, and prints the bearer Authorization
# value for the session.
open_session() {
  local url=$1 wallet=$2 body=$3
  curl -s -X POST -H 'Content-Type: application/json' -d "$body" \
    -D "$WORK/session.headers" -o /dev/null "$url"
  python3 - "$url" "$wallet" "$body" "$WORK/session.headers" <<'PY'
import base64, json, re, sys, urllib.request

url, wallet_file, body, headers_file = sys.argv[1:5]
wallet = json.load(open(wallet_file))

def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

def call(path, payload):
    req = urllib.request.Request(
        wallet["url"] + path, data=json.dumps(payload).encode(),
        headers={"Authorization": "Bearer " + wallet["access_token"],
                 "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=15))

challenge = None
for line in open(headers_file):
    name, _, value = line.partition(":")
    if name.strip().lower() != "www-authenticate" or not value.strip().startswith("Payment "):
        continue
    params = dict(re.findall(r'(\w+)="([^"]*)"', value))
    if params.get("intent") == "session":
        challenge = {k: params[k] for k in
                     ("id", "realm", "method", "intent", "request", "expires", "opaque")
                     if k in params}
if challenge is None:
    sys.exit("no Payment session challenge in the 402 answer")
request = json.loads(unb64(challenge["request"]))
paid = call("/v1/payments", {"bolt11": request["depositInvoice"], "max_fee_msat": 0,
                             "timeout_ms": 10000})
refund = call("/v1/invoices", {"amount_msat": 0, "memo": "bench refund", "expiry_secs": 86400})

def credential(payload):
    return "Payment " + b64(json.dumps({"challenge": challenge, "payload": payload}).encode())

open_value = credential({"action": "open", "preimage": paid["preimage"],
                         "returnInvoice": refund["bolt11"]})
req = urllib.request.Request(url, data=body.encode(), method="POST",
                             headers={"Authorization": open_value,
                                      "Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=15) as answer:
    if answer.status != 200:
        sys.exit(f"opening the session answered {answer.status}")
    answer.read()
print(credential({"action": "bearer", "sessionId": request["paymentHash"],
                  "preimage": paid["preimage"]}))
PY
}
