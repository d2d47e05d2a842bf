#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in fuzz/src/lib.rs with libFuzzer (cargo-fuzz), on the
# stable toolchain. RUSTC_BOOTSTRAP=1 lets stable rustc accept the -Z flags cargo-fuzz passes;
# it is set here only, never for the normal build.
#
#   scripts/fuzz.sh [RUNS_PER_TARGET] [TARGET...]     (default 1500000 runs, every target)
#
# Each target starts from a scratch copy of fuzz/corpus/<target>/ (the corpus libFuzzer grows
# stays out of the repository). A crash stops the run with the input in
# fuzz/libfuzzer/artifacts/<target>/: add it to fuzz/corpus/<target>/ so `cargo test` replays
# it, fix the bug, rerun. Prints one line per target and the total number of executions.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-1500000}
shift || true
if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(sed -n '/^pub const TARGETS/,/^];/p' fuzz/src/lib.rs | grep -o '"[a-z0-9_]*"' | tr -d '"')
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
SANITIZER=${L402_FUZZ_SANITIZER:-none}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l402-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR=${L402_FUZZ_TARGET_DIR:-$ROOT/fuzz/libfuzzer/target}

echo "building ${#TARGETS[@]} targets (sanitizer: $SANITIZER)"
RUSTC_BOOTSTRAP=1 cargo fuzz build --fuzz-dir fuzz/libfuzzer --sanitizer "$SANITIZER" -O >/dev/null

BIN=$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release
ARTIFACTS=$ROOT/fuzz/libfuzzer/artifacts
total=0
printf '%-16s %12s %8s %10s %8s\n' target executions seconds exec/s corpus
for target in "${TARGETS[@]}"; do
  corpus=$WORK/$target
  mkdir -p "$corpus" "$ARTIFACTS/$target"
  cp "fuzz/corpus/$target"/* "$corpus"/
  log=$WORK/$target.log
  start=$(date +%s)
  # The binaries built above, run directly: later edits to the tree do not rebuild mid-campaign.
  if ! "$BIN/$target" "$corpus" -runs="$RUNS" -print_final_stats=1 -max_len=4096 \
      -artifact_prefix="$ARTIFACTS/$target/" >"$log" 2>&1; then
    tail -40 "$log"
    echo "FAIL $target: crash input in fuzz/libfuzzer/artifacts/$target/" >&2
    exit 1
  fi
  seconds=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  [ -n "$execs" ] || { tail -20 "$log"; echo "FAIL $target: no final stats" >&2; exit 1; }
  total=$(( total + execs ))
  printf '%-16s %12d %8d %10d %8d\n' "$target" "$execs" "$seconds" $(( execs / (seconds > 0 ? seconds : 1) )) "$(ls "$corpus" | wc -l)"
done
echo "total executions: $total"
