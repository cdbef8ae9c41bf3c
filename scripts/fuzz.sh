#!/usr/bin/env bash
# Builds corio's libFuzzer targets (tests/fuzz/) with clang, ASan and UBSan in build/fuzz, then
# for each target:
#   1. replays its seed corpus and every saved regression input once (tests/fuzz/corpus/<target>/,
#      tests/fuzz/regressions/<target>/);
#   2. fuzzes it for SECONDS (default 60), starting from a scratch copy of the seed corpus in
#      build/fuzz/work/<target>/ (the checked-in corpus is never written to).
# Exits non-zero if any target failed, after printing each failing input's path and a hexdump of
# it. To keep a finding for good, copy the input into tests/fuzz/regressions/<target>/: the
# replay step above and the normal test suite (ctest: fuzz_replay.<target>) then run it forever.
#
# Usage: [FUZZ_JOBS=N] scripts/fuzz.sh [SECONDS-PER-TARGET]   (N targets at a time, default 1)
# Needs clang and libFuzzer's runtime (Debian: clang, libclang-rt-14-dev; scripts/install-deps.sh
# installs them); installs nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [seconds-per-target]   (a whole number of seconds, at least 1)" >&2
  exit 2
fi

build=build/fuzz
work=$build/work

# --- what we need -----------------------------------------------------------------------------
for tool in clang clang++ cmake ninja od; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: '$tool' not found; scripts/install-deps.sh installs it" >&2; exit 1; }
done
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf '#include <cstddef>\n#include <cstdint>\nextern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }\n' \
  >"$probe_dir/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" 2>"$probe_dir/err"; then
  echo "fuzz.sh: clang++ cannot build a libFuzzer target; is libFuzzer's runtime installed?" >&2
  echo "         (Debian 12: apt-get install libclang-rt-14-dev, or run scripts/install-deps.sh)" >&2
  sed 's/^/         /' "$probe_dir/err" >&2
  exit 1
fi

# --- build ------------------------------------------------------------------------------------
# -O1 -g without NDEBUG: the asserts in the code under test stay on (they are findings too).
build_start=$SECONDS
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCORIO_FUZZ=ON -DCORIO_SANITIZE=address,undefined -DCORIO_WERROR=ON \
  -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_BENCH=OFF -DCORIO_BUILD_SAMPLES=OFF >/dev/null
configured=$(ninja -C "$build" -t targets all)
targets=()
for dir in tests/fuzz/corpus/*/; do
  target=$(basename "$dir")
  # corio::http is optional (CORIO_BUILD_HTTP): fuzz only what was configured.
  if grep -q "^fuzz_$target:" <<<"$configured"; then targets+=("$target"); fi
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets configured in $build" >&2; exit 1; }
cmake --build "$build" --target "${targets[@]/#/fuzz_}"
echo "fuzz.sh: built ${#targets[@]} targets in $((SECONDS - build_start)) s"

# --- run --------------------------------------------------------------------------------------
# The sanitizers' reports end the run with a non-zero status (the build uses
# -fno-sanitize-recover=all); libFuzzer then saves the input as crash-<sha1>.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

show_log() {  # $1: a libFuzzer log: the failure, without libFuzzer's progress lines and own frames
  grep -v -E '^(INFO:|#[0-9]+[[:space:]])|in fuzzer::|libc\.so|in _start|__sanitizer_print_stack_trace|^NOTE: libFuzzer|Combine libFuzzer|^\*\*\*' "$1" |
    head -n 60
}

show_findings() {  # $1: a target's work directory, where libFuzzer saved the failing inputs
  local input
  for input in "$1"/crash-* "$1"/leak-* "$1"/timeout-* "$1"/oom-*; do
    [ -e "$input" ] || continue
    echo "fuzz.sh: failing input: $input ($(wc -c <"$input") bytes):"
    od -A d -t x1z -v "$input" | head -n 64
  done
}

final_stat() {  # $1: a libFuzzer log (-print_final_stats=1), $2: a stat's name
  awk -v key="stat::$2:" '$1 == key { print $2 }' "$1"
}

# Fuzzes one target (the two steps at the top); prints its report; fails on any finding.
fuzz_one() {  # $1: a target's name
  local target=$1
  local exe=$build/tests/fuzz/fuzz_$target
  local dir=$work/$target
  rm -rf "$dir"
  mkdir -p "$dir/corpus"
  cp tests/fuzz/corpus/"$target"/* "$dir/corpus/"

  echo "=== $target: replay the seeds and regressions, then fuzz for $seconds s"
  if ! "$exe" -runs=0 -timeout=10 -artifact_prefix="$dir/" tests/fuzz/corpus/"$target" tests/fuzz/regressions/"$target" \
       >"$dir/replay.log" 2>&1; then
    echo "fuzz.sh: $target FAILED on a saved input (log: $dir/replay.log):"
    show_log "$dir/replay.log"
    show_findings "$dir"
    return 1
  fi
  # -timeout: one input taking longer than that is a finding (a hang); -max_len: room for a few
  # pipelined messages or a thousand wheel operations; -dict: HTTP tokens for the parsers.
  local dict=()
  case "$target" in http_*) dict=(-dict=tests/fuzz/http.dict) ;; esac
  if ! "$exe" -max_total_time="$seconds" -timeout=10 -max_len=4096 -print_final_stats=1 "${dict[@]}" \
       -artifact_prefix="$dir/" "$dir/corpus" >"$dir/fuzz.log" 2>&1; then
    echo "fuzz.sh: $target FAILED (log: $dir/fuzz.log):"
    show_log "$dir/fuzz.log"
    show_findings "$dir"
    return 1
  fi
  local log=$dir/fuzz.log cov
  cov=$(grep -oE "cov: [0-9]+" "$log" | tail -n 1 | cut -d' ' -f2 || true)
  echo "    ok: $(final_stat "$log" number_of_executed_units) runs, coverage ${cov:-?} edges," \
       "$(final_stat "$log" new_units_added) new inputs (corpus now $(find "$dir/corpus" -type f | wc -l))," \
       "peak RSS $(final_stat "$log" peak_rss_mb) MB"
}

# FUZZ_JOBS targets at a time (default 1), each in the background with its report in a file,
# printed whole when it ends so that the reports of parallel targets never interleave.
jobs_max=${FUZZ_JOBS:-1}
if ! [[ "$jobs_max" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: FUZZ_JOBS must be a whole number of at least 1, not '$jobs_max'" >&2
  exit 2
fi
run_start=$SECONDS
failed=()
declare -A running=()  # pid -> target
finish_one() {  # waits for any running target, reports it
  local pid target
  wait -n -p pid "${!running[@]}" && status=0 || status=$?
  target=${running[$pid]}
  unset "running[$pid]"
  cat "$work/$target.report"
  [ "$status" -eq 0 ] || failed+=("$target")
}
mkdir -p "$work"
for target in "${targets[@]}"; do
  [ ${#running[@]} -lt "$jobs_max" ] || finish_one
  fuzz_one "$target" >"$work/$target.report" 2>&1 &
  running[$!]=$target
done
while [ ${#running[@]} -gt 0 ]; do finish_one; done
echo "fuzz.sh: ran ${#targets[@]} targets in $((SECONDS - run_start)) s"

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}. A new finding: copy its input into tests/fuzz/regressions/<target>/" \
       "(see the README there). A saved input failing: that bug is back, or not fixed yet." >&2
  exit 1
fi
echo "fuzz.sh: no findings"
