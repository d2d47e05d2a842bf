#!/usr/bin/env bash
# Installs cargo-deny (the dependency checker `.ci/run` runs: bans, licenses, sources) from
# crates.io at a pinned version, with its own lock file (`--locked`). Idempotent: does nothing
# when `cargo deny --version` already reports that version.
#
#   scripts/lib/install-cargo-deny.sh
#
# Env: CARGO_DENY_VERSION (default below; needs a version that builds with the toolchain in use).
set -euo pipefail

CARGO_DENY_VERSION=${CARGO_DENY_VERSION:-0.20.2}

log() { printf '[install-cargo-deny] %s\n' "$*" >&2; }

installed=$(cargo deny --version 2>/dev/null || true)
if [ "$installed" = "cargo-deny $CARGO_DENY_VERSION" ]; then
  log "already installed: $installed"
  exit 0
fi

log "installing cargo-deny $CARGO_DENY_VERSION (found: ${installed:-none})"
# Its own build directory: the workspace's CARGO_TARGET_DIR (shared build cache) stays untouched.
build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT
CARGO_TARGET_DIR=$build_dir cargo install --locked --force cargo-deny --version "=$CARGO_DENY_VERSION"
log "installed: $(cargo deny --version)"
