#!/usr/bin/env bash
# Discovery tier: the OpenAPI document `l402 serve` publishes (zero-config, dev wallet: the
# sample API's own document, priced) checked by a validator from a registry,
# openapi-spec-validator (PyPI, pinned), and both discovery documents checked against the
# repository's JSON Schemas (docs/schemas/) by Python's jsonschema, which that validator
# installs. The Rust tests check the same schemas with the `jsonschema` crate
# (crates/l402-seller/tests/discovery.rs); this tier adds the independent, full OpenAPI check,
# also of the admin API's document (`/api/v1/openapi.json` on the admin listener).
#
# Fails when pip, the build, the server or a validation fails: nothing here is skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TIER=discovery
START=$(date +%s)
# The pinned validator (its own dependencies resolve from PyPI at install time).
OPENAPI_SPEC_VALIDATOR=0.9.0
# shellcheck source=../lib/steps.sh
source "$ROOT/scripts/lib/steps.sh"

SERVE_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-discovery-tier.XXXXXX")

cleanup() {
  local status=$?
  stop_pid "$SERVE_PID"
  [ "$status" -eq 0 ] || show_logs 40 "$WORK/serve.log" "$WORK/pip.log"
  rm -rf "$WORK"
  tier_result "$TIER" "$status" "$START"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v python3 >/dev/null || fail "python3 not found"
command -v curl >/dev/null || fail "curl not found"

# 1. The validator, in a venv of its own.
step "python3 -m venv" 120 python3 -m venv "$WORK/venv"
step "pip install openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR" 600 \
  sh -c "'$WORK/venv/bin/pip' install --disable-pip-version-check --no-input \
    'openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR' >'$WORK/pip.log' 2>&1"
"$WORK/venv/bin/python" -c 'import openapi_spec_validator, jsonschema' \
  || fail "openapi-spec-validator did not install"

# 2. The binary (reuses the debug build), then `l402 serve` in zero-config mode.
step "cargo build -p l402-cli" 2400 cargo build -p l402-cli --locked
PORT=$(free_port)
ADMIN_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
"${CARGO_TARGET_DIR:-$ROOT/target}/debug/l402" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
  --admin-listen "127.0.0.1:$ADMIN_PORT" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
ready() { kill -0 "$SERVE_PID" 2>/dev/null || fail "l402 serve exited"; curl -fsS -o /dev/null "$BASE/readyz"; }
poll 60 "l402 serve ready on $BASE" ready
echo "PASS l402 serve listening on $BASE (pid $SERVE_PID)"

# 3. The documents, free: a 200 without paying.
step "GET /openapi.json" 30 curl -fsS -o "$WORK/openapi.json" "$BASE/openapi.json"
step "GET /.well-known/l402.json" 30 curl -fsS -o "$WORK/l402.json" "$BASE/.well-known/l402.json"
# The admin API's own document, on the admin listener.
step "GET /api/v1/openapi.json (admin listener)" 30 \
  curl -fsS -o "$WORK/admin-openapi.json" "http://127.0.0.1:$ADMIN_PORT/api/v1/openapi.json"

# 4. The checks.
step "openapi-spec-validator /openapi.json" 120 \
  "$WORK/venv/bin/openapi-spec-validator" "$WORK/openapi.json"
step "openapi-spec-validator the admin API's document" 120 \
  "$WORK/venv/bin/openapi-spec-validator" "$WORK/admin-openapi.json"
cat >"$WORK/check.py" <<'PY'
import json, sys
from jsonschema import Draft202012Validator
schemas, work = sys.argv[1], sys.argv[2]
for doc, schema in (("openapi.json", "openapi-payment.schema.json"),
                    ("l402.json", "l402-manifest.schema.json")):
    instance = json.load(open(f"{work}/{doc}"))
    validator = Draft202012Validator(json.load(open(f"{schemas}/{schema}")))
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    for e in errors:
        print(f"{doc}: {e.message} at {list(e.path)}")
    if errors:
        sys.exit(1)
    print(f"{doc} matches {schema}")
# The sample's priced operations carry their price and a 402 (a document without them would
# pass); the sample sells L402 only, so no MPP offer (x-payment-info) is advertised.
op = json.load(open(f"{work}/openapi.json"))["paths"]["/api/similarity"]["post"]
assert op["x-l402-price-msat"] == 5000 and op["x-l402-service"] == "similarity", op
assert "x-payment-info" not in op, op
assert "402" in op["responses"], op["responses"]
print("POST /api/similarity is priced at 5 sat with a 402 response, and no MPP offer")
PY
step "JSON Schemas (docs/schemas) and the sample's offers" 60 \
  "$WORK/venv/bin/python" "$WORK/check.py" "$ROOT/docs/schemas" "$WORK"
