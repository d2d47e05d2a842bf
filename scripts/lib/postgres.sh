# PostgreSQL for tiers and benches (source it): installs Debian's package when missing and runs a
# throwaway cluster in a temporary directory as the `postgres` user (initdb refuses root), on
# loopback only.
#
#   pg_install                    apt-get install -y postgresql, when no server binary exists
#   pg_start DIR PORT             initdb (trust auth, superuser l402) + start; sets PG_URL
#                                 ($PG_EXTRA_OPTS: more server options, e.g. `-c name=value`)
#   pg_stop DIR / pg_restart DIR  fast stop / stop and start again (same data, same port)
#   pg_psql DIR SQL               runs SQL as l402 on database l402
#
# Everything fails loudly (`fail` from steps.sh) and every wait is bounded.

# shellcheck source=steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps.sh"

# The server binaries of the newest installed major version.
pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || return 1
  echo "$dir"
}

pg_install() {
  if ! pg_bin >/dev/null; then
    step "apt-get install postgresql" 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
  fi
  pg_bin >/dev/null || fail "no PostgreSQL server binaries after installing postgresql"
}

# As the postgres user when root (CI), as ourselves otherwise.
_pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin) || fail "PostgreSQL is not installed (pg_install)"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    _pg_as "$bin/initdb" -D "$dir/data" -A trust -U l402 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log"; fail "initdb in $dir"; }
    echo "$port" >"$dir/port"
  fi
  _pg_as "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/log" \
    -o "-k $dir -p $(cat "$dir/port") -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_EXTRA_OPTS:-}" start \
    >/dev/null || { tail -20 "$dir/log"; fail "starting PostgreSQL in $dir"; }
  if ! _pg_as "$bin/psql" -h "$dir" -p "$(cat "$dir/port")" -U l402 -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'l402'" | grep -q 1; then
    _pg_as "$bin/createdb" -h "$dir" -p "$(cat "$dir/port")" -U l402 l402 || fail "createdb l402"
  fi
  PG_URL="postgres://l402@127.0.0.1:$(cat "$dir/port")/l402"
  export PG_URL
}

pg_stop() {
  local dir=$1 bin
  bin=$(pg_bin) || return 0
  [ -f "$dir/data/postmaster.pid" ] || return 0
  _pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
}

pg_restart() {
  pg_stop "$1"
  pg_start "$1" "$(cat "$1/port")"
}

pg_psql() {
  local dir=$1 bin
  bin=$(pg_bin) || fail "PostgreSQL is not installed"
  _pg_as "$bin/psql" -h "$dir" -p "$(cat "$dir/port")" -U l402 -d l402 -v ON_ERROR_STOP=1 -tAc "$2"
}

# Run directly (`bash scripts/lib/postgres.sh stop DIR`, `… start DIR`): one helper, for the
# tests that restart the cluster. `start` reuses the cluster's port.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start) pg_start "$2" "$(cat "$2/port")" ;;
    stop) pg_stop "$2" ;;
    *) fail "usage: postgres.sh start|stop DIR" ;;
  esac
fi
