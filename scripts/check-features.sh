#!/usr/bin/env bash
# The feature matrix the code's `cfg` gates promise: every workspace crate that has features is
# linted (clippy, warnings denied) with no default features, with each feature alone, and with
# the extra combinations listed below. The crate and feature lists come from `cargo metadata`,
# so a new crate or feature is covered without editing this file; the default feature set of
# every crate is already covered by `cargo clippy --workspace` in `.ci/run`.
#
# Library and binary targets only: tests, examples and benches switch dev-dependencies on,
# whose features would hide a gate that is missing in what users build.
#
#   scripts/check-features.sh            # every crate with features
#   scripts/check-features.sh CRATE...   # only these crates
set -euo pipefail
cd "$(dirname "$0")/.."

# Combinations beyond "none" and "each alone", one line per run: `crate feature,feature`.
EXTRA_COMBINATIONS=(
  "l402-lightning spec,dev,lnbits,lnd,nwc,cln,conformance"
  "l402-lightning spec,dev"
  "l402-lightning spec,lnd"
  "l402-tls reqwest,hyper,test-ca"
)

log() { printf '\n[check-features] %s\n' "$*" >&2; }

lint() {
  local crate=$1; shift
  log "$crate $*"
  cargo clippy --locked -p "$crate" "$@" -- -D warnings
}

# `name<TAB>true|false<TAB>feature,feature` for every workspace crate: whether it has default
# features, and its explicit features, without `default` and without the implicit
# `dep`-named feature of an optional dependency.
crates_with_features() {
  cargo metadata --no-deps --format-version 1 --locked | jq -r '
    .packages[]
    | [.name,
       ((.features.default // []) | length > 0 | tostring),
       ([.features | to_entries[]
         | select(.key != "default" and .value != ["dep:" + .key])
         | .key] | join(","))]
    | @tsv'
}

wanted=("$@")
selected() {
  [ ${#wanted[@]} -eq 0 ] && return 0
  local c
  for c in "${wanted[@]}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

runs=0
# A crate with features, or with default features (even if they only turn on optional
# dependencies, as `l402-cli`'s `mimalloc`), is linted without its defaults, then with each
# feature alone.
while IFS=$'\t' read -r crate has_default features; do
  [ -n "$features" ] || [ "$has_default" = true ] || continue
  selected "$crate" || continue
  lint "$crate" --no-default-features
  runs=$((runs + 1))
  [ -n "$features" ] || continue
  IFS=, read -r -a each <<<"$features"
  for feature in "${each[@]}"; do
    lint "$crate" --no-default-features --features "$feature"
    runs=$((runs + 1))
  done
done < <(crates_with_features)

for combination in "${EXTRA_COMBINATIONS[@]}"; do
  read -r crate features <<<"$combination"
  selected "$crate" || continue
  lint "$crate" --no-default-features --features "$features"
  runs=$((runs + 1))
done

if [ "$runs" -eq 0 ]; then
  echo "check-features: nothing checked (unknown crate or no features: ${wanted[*]:-})" >&2
  exit 1
fi
log "$runs feature combinations lint clean"
