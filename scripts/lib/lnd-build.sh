#!/usr/bin/env bash
# Builds lnd, lncli, btcd and btcctl from the Go module proxy into a cache directory outside the
# repository, and reuses them when they are already there at the pinned version.
#
#   scripts/lib/lnd-build.sh            # build if needed, print the bin dir on the last line
#
# Why a wrapper module: lnd's go.mod has `replace` directives (the protobuf one is required to
# compile lnrpc), so `go install .../cmd/lnd@vX` is refused. A throwaway main module that requires
# lnd and repeats its replace lines builds it. btcd is built in the same module, so it is the
# version lnd pins and tests against (as lnd's `make build-itest` does).
#
# Env: LND_VERSION (default v0.21.2-beta), L402_TIERS_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/l402-tiers), GOFLAGS/GOPROXY/GOMODCACHE/GOCACHE as usual.
set -euo pipefail

LND_VERSION=${LND_VERSION:-v0.21.2-beta}
CACHE=${L402_TIERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/l402-tiers}
BIN=$CACHE/bin
MOD=$CACHE/lndbuild-$LND_VERSION
STAMP=$BIN/.lnd-build-$LND_VERSION
# Release-like sub-servers the L402 toolkit needs (routerrpc has no build constraint in v0.21).
TAGS="signrpc walletrpc chainrpc invoicesrpc peersrpc"

log() { printf '[lnd-build] %s\n' "$*" >&2; }

have_all() {
  [ -f "$STAMP" ] || return 1
  local b
  for b in lnd lncli btcd btcctl; do [ -x "$BIN/$b" ] || return 1; done
  "$BIN/lnd" --version 2>/dev/null | grep -q "version ${LND_VERSION#v}" || return 1
  [ "$(cat "$STAMP")" = "$TAGS" ] || return 1
}

if have_all; then
  log "cached: $("$BIN/lnd" --version | head -n1) in $BIN"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "go not found (Go >= 1.25 is needed to build lnd $LND_VERSION)"; exit 1; }
log "building lnd/lncli/btcd/btcctl $LND_VERSION with $(go version) (tags: $TAGS)"
start=$(date +%s)
mkdir -p "$BIN" "$MOD"
cd "$MOD"
export GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=${GOTOOLCHAIN:-local} CGO_ENABLED=0 GOWORK=off

# The replace lines of lnd's own go.mod at v0.20.x / v0.21.x (keep them in sync when bumping).
cat > go.mod <<GOMOD
module lndbuild

go 1.25.10

replace github.com/ulikunitz/xz => github.com/ulikunitz/xz v0.5.11

replace github.com/gogo/protobuf => github.com/gogo/protobuf v1.3.2

replace google.golang.org/protobuf => github.com/lightninglabs/protobuf-go-hex-display v1.33.0-hex-display
GOMOD
# Blank-import the commands' packages so `go mod tidy`-style resolution keeps them.
cat > tools.go <<'GOSRC'
//go:build tools

package lndbuild

import (
	_ "github.com/btcsuite/btcd"
	_ "github.com/btcsuite/btcd/cmd/btcctl"
	_ "github.com/lightningnetwork/lnd/cmd/lncli"
	_ "github.com/lightningnetwork/lnd/cmd/lnd"
)
GOSRC

log "go get lnd@$LND_VERSION"
go get "github.com/lightningnetwork/lnd@$LND_VERSION" \
  "github.com/lightningnetwork/lnd/cmd/lnd@$LND_VERSION" \
  "github.com/lightningnetwork/lnd/cmd/lncli@$LND_VERSION" >&2
# btcd stays at the version lnd's module graph selects: no `go get btcd` (that would upgrade
# it to a release that moved its packages into v2 submodules). -mod=mod adds missing sums.
grep -E 'lightningnetwork/lnd |btcsuite/btcd ' go.mod >&2 || true

LDFLAGS="-s -w -buildid= -X github.com/lightningnetwork/lnd/build.Commit=$LND_VERSION"
log "go build lnd lncli (this is the long part on a cold cache)"
go build -trimpath -tags="$TAGS" -ldflags "$LDFLAGS" -o "$BIN/" \
  github.com/lightningnetwork/lnd/cmd/lnd github.com/lightningnetwork/lnd/cmd/lncli >&2
log "go build btcd btcctl"
go build -trimpath -ldflags "-s -w -buildid=" -o "$BIN/" \
  github.com/btcsuite/btcd github.com/btcsuite/btcd/cmd/btcctl >&2
echo "$TAGS" > "$STAMP"
log "built in $(( $(date +%s) - start ))s: $("$BIN/lnd" --version | head -n1)"
echo "$BIN"
