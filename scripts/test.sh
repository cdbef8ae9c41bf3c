#!/usr/bin/env bash
# The README's second command (and what CI runs): install what is missing, then build
# everything and run every test in each configuration we support:
#   release (g++)  dev (g++, ASan+UBSan)  tsan (g++, the executables that start threads:
#   tests/CMakeLists.txt, CORIO_THREAD_TESTS)  clang-release (clang++ 14)
# with warnings as errors. The ready-queue shuffle (CORIO_SHUFFLE_SEED, scripts/shuffle-run.sh)
# gives each configuration its own order: release runs in FIFO order (the default), then again
# under seeds 3, 4 and 5 and under socket fault injection (scripts/fault-run.sh); dev runs under
# seed 1, clang-release under seed 2, tsan in FIFO order. So the whole suite passes in five
# shuffled orders as well as in FIFO order, at the price of three extra runs instead of five.
# Then build a small consumer project against the installed package,
# then run the fuzzers (scripts/fuzz.sh, clang + libFuzzer) for CORIO_FUZZ_SECONDS each (default
# 60; 0 skips them), two at a time.
# Usage: scripts/test.sh [preset...]   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(release dev tsan clang-release)

# Any sanitizer report fails the run (the build also uses -fno-sanitize-recover=all).
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

# Every build keeps line tables only (-g1): sanitizer reports and backtraces still name file
# and line, and the test files compile a third faster than with full debug info (-g) — the dev
# (ASan+UBSan, -O0) build in 267 s instead of ~440 s — which is what keeps this whole script
# within CI's time on a 2-core machine. Build with the presets alone for full debug info.
line_tables_only=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
                  -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DCMAKE_C_FLAGS_DEBUG="-g1")

# mold links the ~190 executables of the four builds several times faster than ld.bfd (a test
# executable under ASan: 0.3 s instead of 1.4 s); ld.bfd where mold is missing.
linker=()
command -v ld.mold >/dev/null && linker=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=mold)

# The shuffle seed each configuration's test run uses (0: FIFO, the default order).
declare -A shuffle_seed=([release]=0 [dev]=1 [clang-release]=2 [tsan]=0)

# Test executables compile their files four at a time as one unit (CORIO_UNITY_TESTS,
# tests/CMakeLists.txt): the dev build's test objects take ~40% less compiler time. clang-release
# compiles every test file on its own, so a file that leans on another's includes or helpers
# still fails the run.
declare -A unity_tests=([release]=ON [dev]=ON [clang-release]=OFF [tsan]=ON)

for preset in "${presets[@]}"; do
  seed=${shuffle_seed[$preset]:-0}
  echo "=== $preset: configure, build, test (shuffle seed $seed)"
  step_start=$SECONDS
  cmake --preset "$preset" -DCORIO_WERROR=ON -DCORIO_UNITY_TESTS="${unity_tests[$preset]:-ON}" \
    "${line_tables_only[@]}" "${linker[@]}" >/dev/null
  cmake --build --preset "$preset"
  built=$SECONDS
  CORIO_SHUFFLE_SEED=$seed ctest --preset "$preset" -j2
  echo "=== $preset: built in $((built - step_start)) s, tested in $((SECONDS - built)) s"
  if [ "$preset" = release ]; then
    # The I/O and HTTP suites again under io/sys's seeded fault injection: pass 1 (short reads
    # and writes, spurious EAGAIN and EINTR, delayed readiness) must give the same results; pass
    # 2 adds resets, and a test may fail there only if a reset was injected into it.
    step_start=$SECONDS
    FAULT_SEEDS=1 FAULT_RESET_SEEDS=1 scripts/fault-run.sh build/release
    echo "=== release under fault injection: $((SECONDS - step_start)) s"
    step_start=$SECONDS
    CORIO_BUILD_DIR=build/release scripts/shuffle-run.sh 3 4 5
    echo "=== release under shuffle seeds 3-5: $((SECONDS - step_start)) s"
  fi
done

echo "=== consumer: find_package(corio) after cmake --install, and add_subdirectory"
prefix="$PWD/build/install"
rm -rf "$prefix" build/consumer-installed build/consumer-subdir
cmake --install build/"${presets[0]}" --prefix "$prefix" >/dev/null
cmake -S tests/consumer -B build/consumer-installed -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build/consumer-installed >/dev/null
build/consumer-installed/consumer
cmake -S tests/consumer -B build/consumer-subdir -G Ninja -DCORIO_SOURCE_DIR="$PWD" >/dev/null
cmake --build build/consumer-subdir --target consumer >/dev/null  # not corio::http, which it does not use
build/consumer-subdir/consumer
fuzz_seconds=${CORIO_FUZZ_SECONDS:-60}
if [ "$fuzz_seconds" -gt 0 ]; then
  echo "=== fuzzers: ${fuzz_seconds} s each, two at a time"
  FUZZ_JOBS=2 scripts/fuzz.sh "$fuzz_seconds"
fi
echo "=== all configurations passed: ${presets[*]}"
