# Shell helpers shared by the tiers that run a regtest LND network (source it; needs $CTL and
# $WORK for `ctl`/`lncli`).

fail() { echo "FAIL $*" >&2; exit 1; }
ctl() { "$CTL" "$WORK" "$@"; }
lncli() { ctl lncli "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

# step NAME SECONDS CMD...: runs CMD under a timeout and prints PASS/FAIL NAME.
step() {
  local name=$1 secs=$2
  shift 2
  echo "---- $name"
  local t=$(date +%s)
  if timeout --kill-after=10 "$secs" "$@"; then
    echo "PASS $name ($(( $(date +%s) - t ))s)"
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
