#!/usr/bin/env bash
# The README's second command (and what CI runs): install what is missing, then build
# everything and run every test in each configuration we support:
#   release (g++)  dev (g++, ASan+UBSan)  tsan (g++)  clang-release (clang++ 14)
# with warnings as errors, then build a small consumer project against the installed package,
# then run the fuzzers (scripts/fuzz.sh, clang + libFuzzer) for CORIO_FUZZ_SECONDS each (default
# 20; 0 skips them).
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

for preset in "${presets[@]}"; do
  echo "=== $preset: configure, build, test"
  cmake --preset "$preset" -DCORIO_WERROR=ON >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset" -j2
done

echo "=== consumer: find_package(corio) after cmake --install, and add_subdirectory"
prefix="$PWD/build/install"
rm -rf "$prefix" build/consumer-installed build/consumer-subdir
cmake --install build/"${presets[0]}" --prefix "$prefix" >/dev/null
cmake -S tests/consumer -B build/consumer-installed -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build/consumer-installed >/dev/null
build/consumer-installed/consumer
cmake -S tests/consumer -B build/consumer-subdir -G Ninja -DCORIO_SOURCE_DIR="$PWD" >/dev/null
cmake --build build/consumer-subdir >/dev/null
build/consumer-subdir/consumer
fuzz_seconds=${CORIO_FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" -gt 0 ]; then
  echo "=== fuzzers: ${fuzz_seconds} s each"
  scripts/fuzz.sh "$fuzz_seconds"
fi
echo "=== all configurations passed: ${presets[*]}"
