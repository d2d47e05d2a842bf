# Shell helpers every tier shares: failing, bounded steps and waits, stopping what a tier
# started, and its closing lines (source it).

# fail MESSAGE...: prints `FAIL MESSAGE` and exits 1.
fail() { echo "FAIL $*" >&2; exit 1; }

# step NAME SECONDS CMD...: runs CMD under a timeout and prints PASS/FAIL NAME with its time.
step() {
  local name=$1 secs=$2 t0=$SECONDS
  shift 2
  echo "---- $name"
  if timeout --kill-after=10 "$secs" "$@"; then
    echo "PASS $name ($((SECONDS - t0))s)"
  else
    local rc=$?
    [ "$rc" -eq 124 ] && echo "(timed out after ${secs}s)"
    fail "$name (exit $rc)"
  fi
}

# poll SECONDS DESCRIPTION CMD...: until CMD succeeds.
poll() {
  local secs=$1 what=$2
  shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${secs}s: $what"
    sleep 1
  done
}

# wait_ready PID URL [FILE] [SECS]: until `GET URL` answers 2xx (and FILE, when given, is not
# empty), checking every 0.1 s for SECS (default 60); fails at once if process PID exits.
wait_ready() {
  local pid=$1 url=$2 file=${3:-} secs=${4:-60}
  local deadline=$(( $(date +%s) + secs ))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && { [ -z "$file" ] || [ -s "$file" ]; }; do
    kill -0 "$pid" 2>/dev/null || fail "process $pid exited before $url answered"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$url did not answer within ${secs}s"
    sleep 0.1
  done
}

# stop_pid PID: SIGTERM, up to 5 s, then SIGKILL; nothing when PID is empty.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# show_logs LINES FILE...: the last LINES lines of each FILE that is not empty.
show_logs() {
  local lines=$1 log
  shift
  for log in "$@"; do
    if [ -s "$log" ]; then
      echo "---- $(basename "$log") (last $lines lines) ----"
      tail -n "$lines" "$log"
    fi
  done
}

# tier_result NAME STATUS START: `PASS NAME tier` or `FAIL NAME tier (exit STATUS)`, with the
# seconds since START (a `date +%s`).
tier_result() {
  local name=$1 status=$2 secs=$(( $(date +%s) - $3 ))
  if [ "$status" -eq 0 ]; then
    echo "PASS $name tier (${secs}s)"
  else
    echo "FAIL $name tier (exit $status, ${secs}s)"
  fi
}

# require_node: Node.js >= 20 and npm on PATH.
require_node() {
  command -v node >/dev/null || fail "node not found (Node.js >= 20 is needed)"
  command -v npm >/dev/null || fail "npm not found"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
    || fail "Node.js >= 20 needed, found $(node --version)"
}

# npm_ci DIR NAME: step NAME installs DIR's npm packages exactly as locked (no install scripts:
# nothing the tiers use needs a native build).
npm_ci() {
  step "$2" 600 npm ci --prefix "$1" --ignore-scripts --no-audit --no-fund
}

# free_port: a loopback TCP port that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
