#!/usr/bin/env bash
# Runs the whole test suite once per seed with the ready-queue shuffle on (CORIO_SHUFFLE_SEED,
# see event_loop::options::shuffle_seed): ready tasks then run in a seeded random order instead
# of FIFO, which flushes out code and tests that rely on an order corio does not promise.
# Prints, for each seed, whether the suite passed, and at the end the seeds that failed with
# their failing tests; exits 1 if any seed failed. Replay one with:
#   CORIO_SHUFFLE_SEED=<seed> ctest --test-dir <build dir> -R <test> --output-on-failure
# Usage: scripts/shuffle-run.sh SEED...         (CORIO_BUILD_DIR: default build/release;
#                                                SHUFFLE_JOBS: ctest -j, default 2)
# The build directory must be built already (cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: $0 SEED..." >&2; exit 2; }
build_dir=${CORIO_BUILD_DIR:-build/release}
[ -d "$build_dir" ] || { echo "$0: no build directory $build_dir (set CORIO_BUILD_DIR)" >&2; exit 2; }
jobs=${SHUFFLE_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "$0: SHUFFLE_JOBS must be a whole number of at least 1, not '$jobs'" >&2; exit 2; }

log_dir=$(mktemp -d "${TMPDIR:-/tmp}/corio-shuffle-XXXXXX")
trap 'rm -rf "$log_dir"' EXIT
failed_seeds=()
for seed in "$@"; do
  case $seed in '' | *[!0-9]*) echo "$0: a seed is a decimal number, not '$seed'" >&2; exit 2 ;; esac
  start=$(date +%s)
  if CORIO_SHUFFLE_SEED=$seed ctest --test-dir "$build_dir" -j"$jobs" --output-on-failure >"$log_dir/$seed.log" 2>&1; then
    echo "seed $seed: passed ($(($(date +%s) - start)) s)"
  else
    echo "seed $seed: FAILED ($(($(date +%s) - start)) s)"
    failed_seeds+=("$seed")
  fi
done

[ ${#failed_seeds[@]} -eq 0 ] && { echo "all ${#} seeds passed"; exit 0; }
for seed in "${failed_seeds[@]}"; do
  echo "=== seed $seed failed (replay: CORIO_SHUFFLE_SEED=$seed ctest --test-dir $build_dir -R <test>):"
  sed -n '/The following tests FAILED/,$p' "$log_dir/$seed.log"
done
exit 1
