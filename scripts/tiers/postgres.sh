#!/usr/bin/env bash
# The PostgreSQL tier: the seller's store on a real PostgreSQL, and three `l402 serve` on it
# behind a real nginx.
#
# 1. Installs Debian's `postgresql`, `nginx` and `prometheus` when missing; starts a throwaway
#    cluster in a temporary directory (as the `postgres` user: initdb refuses root), loopback
#    only.
# 2. The store conformance suite on PostgreSQL (crates/l402-store/tests/postgres.rs, ignored in
#    the plain `cargo test`): every seller-table case, migrations, unavailability and recovery.
# 3. The multi-instance test (crates/l402-cli/tests/multi_instance_tier.rs): tokens and
#    revocations shared by three instances, a real Prometheus scraping the three, an instance SIGKILLed under load, PostgreSQL
#    stopped and started again.
# Every wait is bounded; anything missing fails the tier.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/postgres.sh

T0=$(date +%s)
pg_install
if ! command -v nginx >/dev/null; then
  step "apt-get install nginx" 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y nginx
fi
NGINX=$(command -v nginx) || fail "nginx not found after installing it"
if ! command -v prometheus >/dev/null; then
  step "apt-get install prometheus" 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus
fi
PROMETHEUS=$(command -v prometheus) || fail "prometheus not found after installing it"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-postgres-tier.XXXXXX")
PGDIR=$WORK/pg
chmod 711 "$WORK"  # the postgres user must reach its cluster inside
cleanup() {
  local status=$?
  pg_stop "$PGDIR"
  [ "$status" -eq 0 ] || show_logs 30 "$PGDIR/log"
  rm -rf "$WORK"
  tier_result postgres "$status" "$T0"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pg_start "$PGDIR" "$PORT"
echo "using $(pg_psql "$PGDIR" 'SHOW server_version') on 127.0.0.1:$PORT"

step "store conformance suite on PostgreSQL" 1800 \
  env L402_TEST_POSTGRES_URL="postgres://l402@127.0.0.1:$PORT/postgres" \
  cargo test -p l402-store --features postgres --locked --test postgres -- --include-ignored --nocapture

pg_psql "$PGDIR" "SELECT 1" >/dev/null
_pg_as "$(pg_bin)/createdb" -h "$PGDIR" -p "$PORT" -U l402 l402_multi
step "three instances on one PostgreSQL behind nginx" 2400 \
  env L402_TEST_POSTGRES_URL="postgres://l402@127.0.0.1:$PORT/l402_multi" \
  L402_TEST_POSTGRES_DIR="$PGDIR" L402_NGINX="$NGINX" L402_PROMETHEUS="$PROMETHEUS" \
  cargo test -p l402-cli --locked --test multi_instance_tier -- --include-ignored --nocapture
