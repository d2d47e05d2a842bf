# Shell helpers shared by the tiers that run a regtest LND network (source it first, then call
# regtest_tier_init, which sets the $CTL and $WORK that `ctl`/`lncli` need).

# shellcheck source=steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps.sh"

# regtest_tier_init NAME: the start of a regtest LND tier: cd to the repository and set ROOT (it),
# CTL (lnd-ctl.sh), T0 (the start time) and WORK (a new temporary directory l402-NAME-tier.*).
regtest_tier_init() {
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."
  ROOT=$PWD
  CTL=$ROOT/scripts/lib/lnd-ctl.sh
  T0=$(date +%s)
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-$1-tier.XXXXXX")
}

ctl() { "$CTL" "$WORK" "$@"; }
lncli() { ctl lncli "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

# start_regtest_network BIN: btcd regtest, LND nodes alice and bob, alice funded, and a 1 M sat
# alice → bob channel that has carried a real payment. Alice pushes bob 100 k sat at the open, so
# bob is above his channel reserve and can pay back (session refunds). Sets T_NET (its start time).
start_regtest_network() {
  local bin=$1
  T_NET=$(date +%s)
  ctl init "$bin" alice bob
  ctl start-btcd
  ctl start alice
  # btcd has no wallet and no generatetoaddress, so restart it mining to alice. 500 blocks:
  # segwit activates at 432 on btcd regtest, and coinbases mature after 100. Bob starts after
  # the restart: an LND still starting when its btcd goes away can wait for the chain forever.
  local addr
  addr=$(lncli alice newaddress p2wkh | json 'd["address"]')
  ctl stop-btcd
  ctl start-btcd "$addr"
  ctl start bob
  step "mine 500 blocks" 120 bash -c '"$0" "$1" btcctl generate 500 >/dev/null' "$CTL" "$WORK"
  poll 120 "alice synced" _synced alice
  poll 120 "bob synced" _synced bob
  poll 120 "alice funded" _funded
  local bob_pk p2p_bob
  bob_pk=$(lncli bob getinfo | json 'd["identity_pubkey"]')
  p2p_bob=$(. "$WORK/env"; echo "$P2P_BOB")
  lncli alice connect "$bob_pk@127.0.0.1:$p2p_bob" >/dev/null
  lncli alice openchannel --node_key="$bob_pk" --local_amt=1000000 --push_amt=100000 >/dev/null
  ctl btcctl generate 6 >/dev/null
  poll 120 "alice's channel active" _active alice
  poll 120 "bob's channel active" _active bob
  # "Active" can come before the channel carries payments (channel_ready and policies still
  # propagating, slower on a loaded machine): wait until a real 1-sat payment goes through.
  poll 120 "a 1-sat probe payment alice -> bob" _probe
}
_synced() { [ "$(lncli "$1" getinfo | json 'd["synced_to_chain"]')" = True ]; }
_funded() { [ "$(lncli alice walletbalance | json 'int(d["confirmed_balance"])')" -gt 100000000 ]; }
_active() { [ "$(lncli "$1" listchannels | json 'sum(1 for c in d["channels"] if c["active"])')" -ge 1 ]; }
_probe() {
  local inv
  inv=$(lncli bob addinvoice --amt 1 | json 'd["payment_request"]') || return 1
  timeout 30 "$CTL" "$WORK" lncli alice payinvoice --force --pay_req="$inv" >/dev/null 2>&1 || true
  [ "$(lncli bob listinvoices | json 'sum(1 for i in d["invoices"] if i["state"] == "SETTLED")')" -ge 1 ]
}
