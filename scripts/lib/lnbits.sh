# shellcheck shell=bash
# LNbits with its FakeWallet funding source, for tests: install (cached venv outside the repo),
# start headless on loopback, bootstrap two wallets, stop. Source this file; see
# scripts/tiers/lnbits.sh for the order of calls. Facts behind it:
# the team's reference notes on LNbits (FakeWallet recipe and pitfalls) and lnbits 1.6.2's source.
#
# Variables read:
#   L402_LNBITS_VENV     venv directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/l402-tiers/lnbits-1.6.2-venv)
#   L402_LNBITS_PYTHON   Python interpreter to build the venv with (default: first of
#                        python3.12, python3.11, python3.10, python3 that is >= 3.10 and < 3.13)
# Variables set:
#   LNBITS_VENV, LNBITS_PID (process group leader of the running instance), LNBITS_URL,
#   LNBITS_CA (the test CA's certificate, after lnbits_make_test_ca)

LNBITS_VERSION=1.6.2
LNBITS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LNBITS_CONSTRAINTS=$LNBITS_LIB_DIR/lnbits-constraints.txt
LNBITS_VENV=${L402_LNBITS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/l402-tiers/lnbits-$LNBITS_VERSION-venv}
LNBITS_PID=
LNBITS_URL=
LNBITS_CA=

# Prints a Python interpreter lnbits supports (Requires-Python >=3.10,<3.13), or fails.
lnbits_python() {
  local candidates=("${L402_LNBITS_PYTHON:-}" python3.12 python3.11 python3.10 python3) py
  for py in "${candidates[@]}"; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys, venv; sys.exit(0 if (3, 10) <= sys.version_info[:2] < (3, 13) else 1)' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  echo "lnbits: no Python 3.10-3.12 with the venv module found (lnbits $LNBITS_VERSION requires >=3.10,<3.13);" \
    "install one (Debian: apt-get install python3 python3-venv) or set L402_LNBITS_PYTHON" >&2
  return 1
}

# Creates the venv with lnbits and its pinned dependencies, unless one built from the same
# constraints file is already there (a stamp holds the constraints' checksum).
lnbits_ensure_venv() {
  local want stamp=$LNBITS_VENV/.l402-constraints.sha256 py
  want=$(sha256sum "$LNBITS_CONSTRAINTS" | cut -d' ' -f1)
  if [ -x "$LNBITS_VENV/bin/lnbits" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "lnbits: reusing the venv $LNBITS_VENV"
    return 0
  fi
  py=$(lnbits_python) || return 1
  echo "lnbits: creating the venv $LNBITS_VENV with $py ($("$py" --version 2>&1))"
  rm -rf "$LNBITS_VENV"
  mkdir -p "$(dirname "$LNBITS_VENV")"
  timeout 120 "$py" -m venv "$LNBITS_VENV"
  timeout --kill-after=10 900 "$LNBITS_VENV/bin/pip" install --disable-pip-version-check \
    --no-input --quiet --timeout 60 --retries 3 \
    --constraint "$LNBITS_CONSTRAINTS" "lnbits==$LNBITS_VERSION" 'bitstring<5'
  # Importing lnbits creates its data folder (default ./data) and an auth key in it: import it
  # inside a throwaway directory, never in the caller's (the repository's) working directory.
  local scratch
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/l402-lnbits-import.XXXXXX")
  (cd "$scratch" && LNBITS_DATA_FOLDER="$scratch/data" \
    timeout 120 "$LNBITS_VENV/bin/python" -c 'import bolt11, lnbits.app') \
    || { rm -rf "$scratch"; echo "lnbits: the fresh venv does not import lnbits" >&2; return 1; }
  rm -rf "$scratch"
  echo "$want" >"$stamp"
}

# Prints a free TCP port on 127.0.0.1.
lnbits_free_port() {
  "$LNBITS_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# lnbits_make_test_ca DIR: a throwaway CA (DIR/ca.pem) and a server certificate for localhost
# and 127.0.0.1 signed by it (DIR/cert.pem, DIR/key.pem), valid for two days; sets LNBITS_CA.
lnbits_make_test_ca() {
  local dir=$1
  command -v openssl >/dev/null || { echo "lnbits: openssl not found (apt-get install openssl)" >&2; return 1; }
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=l402 LNbits tier CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/key.pem" -out "$dir/leaf.csr" -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$dir/leaf.ext"
  openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/leaf.ext" -out "$dir/cert.pem" 2>/dev/null
  LNBITS_CA=$dir/ca.pem
  echo "lnbits: test CA $LNBITS_CA, server certificate for localhost and 127.0.0.1"
}

# lnbits_start DATA_DIR PORT LOG [TLS_DIR]: starts LNbits headless with FakeWallet in its own process group
# (it serves from a child process; stopping only the parent would leave the child running).
# Runs from the venv's site-packages: lnbits mounts `lnbits/static` relative to the working
# directory. Everything it writes goes to DATA_DIR. With TLS_DIR (from lnbits_make_test_ca) it
# serves HTTPS (and WSS) on https://localhost:PORT with DIR/cert.pem.
lnbits_start() {
  local data=$1 port=$2 log=$3 tls_dir=${4:-} site tls_args=()
  # The site-packages directory, found without importing lnbits (see lnbits_ensure_venv).
  site=$("$LNBITS_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  [ -d "$site/lnbits/static" ] || { echo "lnbits: no lnbits/static under $site" >&2; return 1; }
  mkdir -p "$data"
  LNBITS_URL=http://127.0.0.1:$port
  if [ -n "$tls_dir" ]; then
    LNBITS_URL=https://localhost:$port
    tls_args=(--ssl-certfile "$tls_dir/cert.pem" --ssl-keyfile "$tls_dir/key.pem")
  fi
  (
    cd "$site"
    # Settings are copied into the database on first start (LNBITS_ADMIN_UI=true), so these
    # only apply to a fresh DATA_DIR. The last five keep an offline machine from trying the
    # price, exchange-rate and extension-manifest servers.
    exec setsid env \
      LNBITS_BACKEND_WALLET_CLASS=FakeWallet \
      LNBITS_DATA_FOLDER="$data" \
      LNBITS_EXTENSIONS_PATH="$data" \
      LNBITS_ADMIN_UI=true \
      LNBITS_RESERVE_FEE_MIN=2000 \
      LNBITS_RESERVE_FEE_PERCENT=1.0 \
      LNBITS_EXTENSIONS_DEACTIVATE_ALL=true \
      LNBITS_EXTENSIONS_MANIFESTS='[]' \
      LNBITS_WASM_EXTENSIONS_MANIFESTS='[]' \
      LNBITS_PRICE_AGGREGATOR_ENABLED=false \
      LNBITS_EXCHANGE_RATE_PROVIDERS='[]' \
      "$LNBITS_VENV/bin/lnbits" --host 127.0.0.1 --port "$port" "${tls_args[@]}"
  ) >"$log" 2>&1 &
  LNBITS_PID=$!
  echo "lnbits: started $LNBITS_VERSION (FakeWallet) on $LNBITS_URL, process group $LNBITS_PID, log $log"
}

# lnbits_wait SECONDS: waits until LNbits answers HTTP (any status: before the first install
# every route redirects), failing early if it exits.
lnbits_wait() {
  local secs=$1 i code
  for ((i = 0; i < secs * 5; i++)); do
    kill -0 "$LNBITS_PID" 2>/dev/null || { echo "lnbits: exited before it answered" >&2; return 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 ${LNBITS_CA:+--cacert "$LNBITS_CA"} \
      "$LNBITS_URL/api/v1/health" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != 000 ]; then
      echo "lnbits: answering on $LNBITS_URL after ~$((i / 5)) s"
      return 0
    fi
    sleep 0.2
  done
  echo "lnbits: no answer on $LNBITS_URL within ${secs}s" >&2
  return 1
}

# lnbits_bootstrap ENV_FILE: first install, wallets `seller` and `buyer`, buyer funded; writes
# the keys as `export` lines to ENV_FILE (mode 0600).
lnbits_bootstrap() {
  # Python's default TLS context reads SSL_CERT_FILE: the test CA, when LNbits serves HTTPS.
  env ${LNBITS_CA:+SSL_CERT_FILE="$LNBITS_CA"} timeout --kill-after=5 60 \
    "$LNBITS_VENV/bin/python" "$LNBITS_LIB_DIR/lnbits_bootstrap.py" "$LNBITS_URL" "$1" 100000
}

# Stops the instance: SIGTERM to its process group, SIGKILL after 5 s.
lnbits_stop() {
  [ -n "$LNBITS_PID" ] || return 0
  if kill -0 -- "-$LNBITS_PID" 2>/dev/null; then
    kill -TERM -- "-$LNBITS_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$LNBITS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$LNBITS_PID" 2>/dev/null || true
  fi
  wait "$LNBITS_PID" 2>/dev/null || true
  LNBITS_PID=
}
