#!/usr/bin/env bash
# bench/peer-runs.sh — the whole peer comparison of docs/benchmarks.md (issues 4 and 5) in one
# command: TCP echo at 50 connections, 1 connection, a fixed offered load and 64 KiB messages,
# echo again at 10 and 100 connections, and HTTP plaintext, corio against every peer of the
# shared harness, in one run per workload set.
#
#   bench/peer-runs.sh [--build DIR] [--reps N] [--label NAME] [--peers "P1 P2 ..."]
#
#   --build   a release build with the samples (default build/release)
#   --reps    repetitions of each server in each workload (default 5); the harness reports
#             medians, and on a noisy machine more repetitions give steadier ones
#   --label   suffix of the raw-record files (default today's date), see below
#   --peers   the peers besides corio (default: every peer the harness has)
#
# The harness lives beside the checkout (../shared/peers, or $PEERS); run its build.sh once per
# machine first. The samples are copied to a temporary directory before the first run, so a
# rebuild meanwhile cannot change what is measured. Each workload set's report (the tables)
# goes to stdout and its raw records, one `RUN ...` line per run, to
# docs/bench-data/{echo,echo-c10,echo-c100,http}-LABEL.txt, which bench/plot_peers.py draws.
# The machine should be quiet: a build or a test run beside it moves every number.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/release reps=5 label=$(date +%F)
peers="epoll-c tokio libuv asio go uvloop node"
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--reps N] [--label NAME] [--peers \"P1 P2 ...\"]" >&2; exit 2 ;;
  esac
done

harness=${PEERS:-$(cd .. && pwd)/shared/peers}
[ -x "$harness/run.sh" ] || { echo "peer-runs: no harness at $harness (set PEERS)" >&2; exit 1; }
for sample in echo_server http_hello; do
  [ -x "$build/samples/$sample" ] || { echo "peer-runs: $build/samples/$sample is missing: build the release preset first" >&2; exit 1; }
done

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cp "$build/samples/echo_server" "$build/samples/http_hello" "$bin/"
records=$PWD/docs/bench-data
mkdir -p "$records"

export SUBJECT_NAME=corio SUBJECT_ECHO="$bin/echo_server --port" SUBJECT_HTTP="$bin/http_hello --port"

# run_set NAME WORKLOADS SECONDS [VAR=VALUE]: one harness run; its tables to stdout, its raw
# records (the file the harness names on its "raw records:" line) to docs/bench-data/NAME-LABEL.txt.
run_set() {
  local name=$1 workloads=$2 secs=$3 report raw
  report=$(cd "$harness" && env ${4:+"$4"} ./run.sh -r "$reps" -d "$secs" -R epoll-c "$workloads" corio $peers)
  grep -v '^ *RUN ' <<<"$report"
  raw=$(sed -n 's/.*raw records: \([^ ]*\).*/\1/p' <<<"$report" | tail -1)
  [ -f "$raw" ] || { echo "peer-runs: the harness named no raw records for $name" >&2; return 1; }
  cp "$raw" "$records/$name-$label.txt"
}

run_set echo echo,echo1,echo-rate,bulk 2
run_set echo-c10 echo 2 ECHO_CONNS=10
run_set echo-c100 echo 2 ECHO_CONNS=100
run_set http http 3
echo "raw records: $records/{echo,echo-c10,echo-c100,http}-$label.txt"
