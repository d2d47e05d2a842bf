#!/usr/bin/env bash
# Starts and stops the LND tier's regtest network: one btcd and LND nodes on loopback.
#
#   scripts/lib/lnd-ctl.sh DIR init BIN_DIR NODE...   # pick free ports, write DIR/env
#   scripts/lib/lnd-ctl.sh DIR start-btcd [MINING_ADDR]
#   scripts/lib/lnd-ctl.sh DIR stop-btcd
#   scripts/lib/lnd-ctl.sh DIR start NODE          # waits (bounded) until `getinfo` answers
#   scripts/lib/lnd-ctl.sh DIR stop NODE           # `lncli stop`, then TERM/KILL by PID
#   scripts/lib/lnd-ctl.sh DIR lncli NODE ARGS...
#   scripts/lib/lnd-ctl.sh DIR btcctl ARGS...
#   scripts/lib/lnd-ctl.sh DIR stop-all            # every process with a DIR/*.pid file
#
# Everything lives in DIR: data, logs, `NODE.pid`, and `env` (bin dir, ports). Processes are
# only ever signalled by the PIDs this script recorded. The tier test calls `stop`/`start` to
# take a node down mid-run (L402_LND_CTL, L402_LND_DIR).
set -euo pipefail

DIR=${1:?usage: lnd-ctl.sh DIR COMMAND ...}
CMD=${2:?usage: lnd-ctl.sh DIR COMMAND ...}
shift 2

RPCUSER=l402tier
RPCPASS=l402tierpass

log() { printf '[lnd-ctl %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

load_env() {
  [ -f "$DIR/env" ] || die "$DIR/env missing (run init first)"
  # shellcheck disable=SC1091
  . "$DIR/env"
}

# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.5 s.
wait_until() {
  local secs=$1 what=$2
  shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after ${secs}s waiting for: $what"
      return 1
    fi
    sleep 0.5
  done
}

alive() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

# stop_pid NAME SECONDS: waits for the recorded process to exit, then TERM, then KILL.
stop_pid() {
  local name=$1 secs=$2 pid
  [ -f "$DIR/$name.pid" ] || return 0
  pid=$(cat "$DIR/$name.pid")
  local deadline=$(( $(date +%s) + secs ))
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(( $(date +%s) + 10 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/$name.pid"
}

btcctl_() {
  # An explicit (empty) config file: otherwise btcctl creates ~/.btcd and ~/.btcctl.
  [ -f "$DIR/btcctl.conf" ] || : > "$DIR/btcctl.conf"
  "$BIN/btcctl" --configfile="$DIR/btcctl.conf" --regtest --rpcuser="$RPCUSER" --rpcpass="$RPCPASS" \
    --rpcserver="127.0.0.1:$BTCD_RPC" --rpccert="$DIR/btcd/rpc.cert" "$@"
}

node_var() { local v="${2}_$(echo "$1" | tr '[:lower:]' '[:upper:]')"; echo "${!v}"; }

lncli_() {
  local node=$1
  shift
  "$BIN/lncli" --lnddir="$DIR/$node" --network=regtest \
    --rpcserver="127.0.0.1:$(node_var "$node" RPC)" "$@"
}

case "$CMD" in
  init)
    BIN_DIR=${1:?init needs BIN_DIR}
    shift
    mkdir -p "$DIR/btcd"
    {
      echo "BIN=$BIN_DIR"
      echo "BTCD_RPC=$(free_port)"
      echo "NODES=\"$*\""
      for node in "$@"; do
        up=$(echo "$node" | tr '[:lower:]' '[:upper:]')
        echo "P2P_$up=$(free_port)"
        echo "RPC_$up=$(free_port)"
        echo "REST_$up=$(free_port)"
      done
    } > "$DIR/env"
    ;;

  start-btcd)
    load_env
    alive btcd && die "btcd already running"
    extra=()
    [ $# -ge 1 ] && extra+=("--miningaddr=$1")
    # --nolisten: no P2P port (nothing peers with it); LND needs the RPC websocket, over TLS.
    "$BIN/btcd" --regtest --datadir="$DIR/btcd/data" --logdir="$DIR/btcd/logs" \
      --rpcuser="$RPCUSER" --rpcpass="$RPCPASS" --rpclisten="127.0.0.1:$BTCD_RPC" \
      --rpccert="$DIR/btcd/rpc.cert" --rpckey="$DIR/btcd/rpc.key" \
      --nolisten --txindex --rpcmaxwebsockets=50 --debuglevel=info "${extra[@]}" \
      >>"$DIR/btcd/stdout.log" 2>&1 &
    echo $! > "$DIR/btcd.pid"
    wait_until 30 "btcd RPC on 127.0.0.1:$BTCD_RPC" btcctl_ getblockcount \
      || { tail -n 20 "$DIR/btcd/stdout.log" >&2; exit 1; }
    log "btcd up (pid $(cat "$DIR/btcd.pid"), rpc 127.0.0.1:$BTCD_RPC${1:+, mining to $1})"
    ;;

  stop-btcd)
    load_env
    if alive btcd; then btcctl_ stop >/dev/null 2>&1 || true; fi
    stop_pid btcd 20
    ;;

  start)
    load_env
    node=${1:?start needs NODE}
    alive "$node" && die "$node already running"
    mkdir -p "$DIR/$node"
    "$BIN/lnd" --lnddir="$DIR/$node" --bitcoin.regtest --bitcoin.node=btcd \
      --btcd.rpchost="127.0.0.1:$BTCD_RPC" --btcd.rpcuser="$RPCUSER" --btcd.rpcpass="$RPCPASS" \
      --btcd.rpccert="$DIR/btcd/rpc.cert" \
      --noseedbackup --nobootstrap --alias="$node" --debuglevel=info \
      --listen="127.0.0.1:$(node_var "$node" P2P)" \
      --rpclisten="127.0.0.1:$(node_var "$node" RPC)" \
      --restlisten="127.0.0.1:$(node_var "$node" REST)" \
      --bitcoin.defaultchanconfs=1 --trickledelay=50 \
      >>"$DIR/$node/stdout.log" 2>&1 &
    echo $! > "$DIR/$node.pid"
    wait_until 90 "$node getinfo" lncli_ "$node" getinfo \
      || { tail -n 30 "$DIR/$node/stdout.log" >&2; exit 1; }
    log "$node up (pid $(cat "$DIR/$node.pid"), rest 127.0.0.1:$(node_var "$node" REST))"
    ;;

  stop)
    load_env
    node=${1:?stop needs NODE}
    if alive "$node"; then timeout 15 "$BIN/lncli" --lnddir="$DIR/$node" --network=regtest \
      --rpcserver="127.0.0.1:$(node_var "$node" RPC)" stop >/dev/null 2>&1 || true; fi
    stop_pid "$node" 30
    log "$node stopped"
    ;;

  lncli)
    load_env
    lncli_ "$@"
    ;;

  btcctl)
    load_env
    btcctl_ "$@"
    ;;

  stop-all)
    [ -f "$DIR/env" ] || exit 0
    load_env
    for pidfile in "$DIR"/*.pid; do
      [ -e "$pidfile" ] || continue
      name=$(basename "$pidfile" .pid)
      [ "$name" = btcd ] && continue
      kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    done
    for pidfile in "$DIR"/*.pid; do
      [ -e "$pidfile" ] || continue
      name=$(basename "$pidfile" .pid)
      [ "$name" = btcd ] && continue
      stop_pid "$name" 20
    done
    if alive btcd; then kill -TERM "$(cat "$DIR/btcd.pid")" 2>/dev/null || true; fi
    stop_pid btcd 15
    ;;

  *)
    die "unknown command $CMD"
    ;;
esac
