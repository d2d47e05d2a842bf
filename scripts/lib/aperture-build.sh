#!/usr/bin/env bash
# Builds Lightning Labs' `aperture` (L402 reverse proxy) and `lnget` (L402 client) from the Go
# module proxy into the same cache directory as the lnd binaries (scripts/lib/lnd-build.sh),
# and reuses them when they are already there at the pinned version.
#
#   scripts/lib/aperture-build.sh [aperture|lnget|all]   # default: all
#
# Prints `BIN=<dir>` on stdout and, per tool, either `<tool>=ok` or
# `<tool>=unavailable:<one-line reason>` (the reason is the go error). Exit status is non-zero
# when a tool whose source was fetched failed to compile, or fetching failed transiently; only a
# module version the proxy definitely refuses to serve (403/404/410, "not available") is reported
# as `unavailable` with exit 0, so callers can skip that tool with the printed reason.
#
# Why wrapper modules: both go.mod files carry
#   replace google.golang.org/protobuf => github.com/lightninglabs/protobuf-go-hex-display …
# so `go install …@vX` is refused (golang/go#44840, lnget PR #26). A throwaway main module that
# requires the module and repeats its replace lines builds it (same trick as lnd-build.sh).
#
# Env: APERTURE_VERSION (default v0.5.0), LNGET_VERSION (default v1.1.0),
#      L402_TIERS_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/l402-tiers).
set -euo pipefail

APERTURE_VERSION=${APERTURE_VERSION:-v0.5.0}
LNGET_VERSION=${LNGET_VERSION:-v1.1.0}
CACHE=${L402_TIERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/l402-tiers}
BIN=$CACHE/bin
WHAT=${1:-all}

log() { printf '[aperture-build] %s\n' "$*" >&2; }

export GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=${GOTOOLCHAIN:-local} CGO_ENABLED=0 GOWORK=off
mkdir -p "$BIN"
echo "BIN=$BIN"

# build_tool NAME MODULE VERSION PKG REPLACE_LINES...
build_tool() {
  local name=$1 module=$2 version=$3 pkg=$4; shift 4
  local stamp=$BIN/.$name-build-$version mod=$CACHE/${name}build-$version
  if [ -x "$BIN/$name" ] && [ -f "$stamp" ]; then
    log "cached: $name $version in $BIN"
    echo "$name=ok"
    return 0
  fi
  command -v go >/dev/null || { echo "$name=unavailable:go not found"; return 0; }
  local start err
  start=$(date +%s)
  mkdir -p "$mod"
  err=$mod/go-get.err
  # Probe the proxy first: a refusal to serve the module is "unavailable", not a build failure.
  if ! (cd "$mod" && go mod download -json "$module@$version" >"$mod/download.json" 2>"$err"); then
    local reason
    reason=$(grep -ho '"Error": *"[^"]*' "$mod/download.json" "$err" 2>/dev/null | head -n1 |
      sed 's/"Error": *"//; s/\\n\\t/ /g')
    [ -n "$reason" ] || reason=$(tr '\n' ' ' <"$err")
    # Only a definite refusal (the proxy answers that it does not serve this module/version) is
    # "unavailable"; timeouts, resets and other transient errors fail the build.
    if ! grep -qE '403 Forbidden|404 Not Found|410 Gone|not available|unknown revision|invalid version' <<<"$reason"; then
      log "$name $version: fetching failed (not a definite refusal): $reason"
      return 1
    fi
    log "$name $version cannot be fetched: $reason"
    echo "$name=unavailable:$reason"
    return 0
  fi
  # Repeat the module's own replace directives (versioned ones; a local-path replace cannot be
  # repeated), read from the go.mod the proxy served; fall back to the lines passed in.
  local gomod parsed
  gomod=$(sed -n 's/.*"GoMod": *"\([^"]*\)".*/\1/p' "$mod/download.json" | head -n 1)
  if [ -n "$gomod" ] && [ -f "$gomod" ]; then
    parsed=$(python3 - "$gomod" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
lines = re.findall(r'^replace\s+(.+)$', text, re.M)
for block in re.findall(r'^replace\s*\((.*?)^\)', text, re.M | re.S):
    lines += [l.strip() for l in block.splitlines() if l.strip() and not l.strip().startswith('//')]
for l in lines:
    l = l.split('//')[0].strip()
    if l and not l.startswith('(') and not re.search(r'=>\s*[./]', l):
        print(l)
PY
)
    if [ -n "$parsed" ]; then
      local -a reps=()
      mapfile -t reps <<<"$parsed"
      set -- "${reps[@]}"
    fi
  fi
  log "building $name $version with $(go version); replace: $*"
  {
    echo "module ${name}build"
    echo
    echo "go 1.26.0"
    local r
    for r in "$@"; do echo; echo "replace $r"; done
  } >"$mod/go.mod"
  printf '//go:build tools\n\npackage %sbuild\n\nimport _ "%s"\n' "$name" "$pkg" >"$mod/tools.go"
  (cd "$mod" && go get "$module@$version" "$pkg@$version" >&2)
  (cd "$mod" && go build -trimpath -ldflags "-s -w -buildid=" -o "$BIN/$name" "$pkg" >&2)
  echo "$version" >"$stamp"
  log "built $name $version in $(( $(date +%s) - start ))s"
  echo "$name=ok"
}

if [ "$WHAT" = all ] || [ "$WHAT" = aperture ]; then
  # Replace lines of aperture's go.mod at v0.5.0 (fallback; build_tool reads the fetched go.mod).
  build_tool aperture github.com/lightninglabs/aperture "$APERTURE_VERSION" \
    github.com/lightninglabs/aperture/cmd/aperture \
    "google.golang.org/protobuf => github.com/lightninglabs/protobuf-go-hex-display v1.34.2-hex-display"
fi
# l402check (interop/aperture/l402check): Aperture's own l402 and mpp packages run on our
# challenges and credentials, built in aperture's wrapper module so it links the versions
# aperture pins. Rebuilt when its sources change.
build_l402check() {
  local src mod sum stamp=$BIN/.l402check.sha256
  src=$(cd "$(dirname "$0")/../.." && pwd)/interop/aperture/l402check
  mod=$CACHE/aperturebuild-$APERTURE_VERSION
  [ -f "$src/main.go" ] || { echo "l402check=unavailable:$src/main.go missing"; return 0; }
  sum="$APERTURE_VERSION $(cat "$src"/*.go | sha256sum | cut -d' ' -f1)"
  if [ -x "$BIN/l402check" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    log "cached: l402check ($sum)"; echo "l402check=ok"; return 0
  fi
  [ -f "$mod/go.mod" ] || { echo "l402check=unavailable:aperture wrapper module missing"; return 0; }
  rm -rf "$mod/l402check" && mkdir -p "$mod/l402check" && cp "$src"/*.go "$mod/l402check/"
  (cd "$mod" && go build -trimpath -ldflags "-s -w -buildid=" -o "$BIN/l402check" ./l402check >&2)
  echo "$sum" >"$stamp"
  log "built l402check"
  echo "l402check=ok"
}
if [ "$WHAT" = all ] || [ "$WHAT" = aperture ]; then
  if [ -x "$BIN/aperture" ]; then build_l402check; fi
fi

if [ "$WHAT" = all ] || [ "$WHAT" = lnget ]; then
  # lnget's go.mod carries the same protobuf replace (lnget PR #26); build_tool repeats the
  # replace lines of the go.mod it fetched, this one is only the fallback.
  build_tool lnget github.com/lightninglabs/lnget "$LNGET_VERSION" \
    github.com/lightninglabs/lnget/cmd/lnget \
    "google.golang.org/protobuf => github.com/lightninglabs/protobuf-go-hex-display v1.34.2-hex-display"
fi
