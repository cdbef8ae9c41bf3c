#!/usr/bin/env bash
# scripts/overhead.sh — what a change costs on corio's hottest paths, in instructions.
#
#   scripts/overhead.sh BEFORE_REV [AFTER_REV]      (AFTER_REV: the working tree, uncommitted edits included)
#
# Builds bench/overhead.cpp (the working tree's copy, for both sides) against libcorio at
# BEFORE_REV and at AFTER_REV, -O2 -g1 (as the release preset, but line tables in DWARF 4), then runs every mode under
# `valgrind --tool=callgrind` at N and 2N and prints instructions per iteration
# = (count(2N) - count(N)) / N, which cancels start-up and teardown, and the ratio after/before.
# Instruction counts do not depend on the machine's load, so one run is enough.
#
# Environment:
#   CXX=clang++              the compiler (default g++)
#   N=100000                 the smaller size (default 100000)
#   MODES="inline yield"     the modes to run (default: inline yield spawn sleep)
#   FLAGS="--debug"          extra corio_overhead flags for the AFTER side (--debug, --trace): with
#                            BEFORE_REV = HEAD, the cost of debug mode or tracing against them off
#   BEFORE_FLAGS="--debug"   the same for the BEFORE side (debug mode's cost before/after a change)
#   WALL=5                   also run `corio_overhead bench` of both sides interleaved, WALL rounds
#                            each (Google Benchmark, manual time), and print medians and spread
#   WORK=/tmp/...            where the trees and builds go (default /tmp/h-records-overhead)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
before_rev=${1:?usage: scripts/overhead.sh BEFORE_REV [AFTER_REV]}
after_rev=${2:-}
CXX=${CXX:-g++}
N=${N:-100000}
MODES=${MODES:-inline yield spawn sleep}
FLAGS=${FLAGS:-}
BEFORE_FLAGS=${BEFORE_FLAGS:-}
WALL=${WALL:-0}
WORK=${WORK:-/tmp/h-records-overhead}
compiler_tag=$(basename "$CXX")
# -gdwarf-4: valgrind 3.19 cannot read the DWARF 5 that clang 14 writes by default.
opt_flags="-O2 -g1 -gdwarf-4 -DNDEBUG"

# export_tree REV DIR: the sources of REV in DIR (git archive: no checkout, no worktree to clean
# up); kept from an earlier run when it holds the same commit, so that its build is incremental.
export_tree() {
  local commit
  commit=$(git -C "$root" rev-parse --verify "$1^{commit}")
  [[ -f $2/.overhead-commit && $(cat "$2/.overhead-commit") == "$commit" ]] && return
  rm -rf "$2" && mkdir -p "$2"
  git -C "$root" archive "$commit" | tar -x -C "$2"
  echo "$commit" >"$2/.overhead-commit"
}

# build SRC_DIR BUILD_DIR: libcorio (nothing else) and corio_overhead from the working tree's
# bench/overhead.cpp, compiled exactly alike on both sides.
build() {
  local src=$1 out=$2
  cmake -S "$src" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_CXX_FLAGS_RELEASE="$opt_flags" \
    -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_BENCH=OFF -DCORIO_BUILD_SAMPLES=OFF -DCORIO_BUILD_HTTP=OFF >/dev/null
  cmake --build "$out" --target corio -j2 >/dev/null
  # In SRC/bench, so that its "../corio.hpp" finds that tree's headers.
  [[ $src == "$root" ]] || cmp -s "$root/bench/overhead.cpp" "$src/bench/overhead.cpp" ||
    cp "$root/bench/overhead.cpp" "$src/bench/overhead.cpp"
  # shellcheck disable=SC2086  # opt_flags is a list of words
  "$CXX" -std=c++20 $opt_flags -o "$out/corio_overhead" "$src/bench/overhead.cpp" \
    "$out/libcorio.a" -lbenchmark -lspdlog -lfmt -pthread
}

# instructions MODE N FLAGS... BINARY: the total instruction count of one run under callgrind.
instructions() {
  local binary=$1 mode=$2 n=$3
  shift 3
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$mode" "$n" "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}

per_iteration() {
  local binary=$1 mode=$2
  shift 2
  local small large
  small=$(instructions "$binary" "$mode" "$N" "$@")
  large=$(instructions "$binary" "$mode" $((2 * N)) "$@")
  echo $(((large - small) / N))
}

before_src=$WORK/src-$before_rev
before_build=$WORK/build-$before_rev-$compiler_tag
export_tree "$before_rev" "$before_src"
build "$before_src" "$before_build"
if [[ -n $after_rev ]]; then
  after_src=$WORK/src-$after_rev
  export_tree "$after_rev" "$after_src"
  after_name=$after_rev
else
  after_src=$root  # the working tree itself
  after_name="working tree"
fi
after_build=$WORK/build-after-${after_rev:-worktree}-$compiler_tag
build "$after_src" "$after_build"

echo "compiler: $("$CXX" --version | head -1)"
echo "before: $before_rev ${BEFORE_FLAGS:+(with $BEFORE_FLAGS)}  after: $after_name ${FLAGS:+(with $FLAGS)}"
echo "instructions per iteration = (count at N=$((2 * N)) - count at N=$N) / $N"
printf '%-8s %10s %10s %8s\n' mode before after ratio
for mode in $MODES; do
  # shellcheck disable=SC2086  # BEFORE_FLAGS is a list of words
  b=$(per_iteration "$before_build/corio_overhead" "$mode" $BEFORE_FLAGS)
  # shellcheck disable=SC2086  # FLAGS is a list of words
  a=$(per_iteration "$after_build/corio_overhead" "$mode" $FLAGS)
  printf '%-8s %10d %10d %8s\n' "$mode" "$b" "$a" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3fx", a / b }')"
done

if ((WALL > 0)); then
  # Interleaved, so that a change in the machine's load hits both sides alike.
  out=$WORK/wall-$compiler_tag
  rm -rf "$out" && mkdir -p "$out"
  for ((round = 1; round <= WALL; ++round)); do
    for side in before after; do
      binary=$before_build/corio_overhead
      [[ $side == after ]] && binary=$after_build/corio_overhead
      "$binary" bench --benchmark_min_time=0.2 --benchmark_format=csv 2>/dev/null |
        awk -F, -v side=$side '$1 ~ /^"BM_/ { gsub(/"/, "", $1); print side, $1, $NF }' >>"$out/all"
    done
  done
  echo
  echo "wall clock: ns per operation, $WALL interleaved rounds each (median, min-max); this VM is shared and noisy"
  python3 - "$out/all" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, name, value = line.split()
    rows.setdefault(name, {}).setdefault(side, []).append(float(value))
print(f"{'benchmark':12} {'before':>22} {'after':>22} {'ratio':>7}")
for name, sides in rows.items():
    b, a = sides["before"], sides["after"]
    fmt = lambda v: f"{statistics.median(v):7.1f} ({min(v):.1f}-{max(v):.1f})"
    print(f"{name:12} {fmt(b):>22} {fmt(a):>22} {statistics.median(a) / statistics.median(b):6.3f}x")
EOF
fi
