#!/usr/bin/env bash
# bench/pinned-echo.sh — echo servers side by side with the server and the client on CPUs of
# their own, to see where each server's CPU goes (docs/benchmarks.md, sixth session).
#
#   bench/pinned-echo.sh [--build DIR] [--conns N] [--rounds R] [--peers "P1 P2 ..."]
#
# The server runs pinned to CPU 0 and the harness's load generator to CPU 1 (64-byte ping-pong,
# 0.5 s of warm-up, then 3 s), each server in turn, R rounds (default 4) so that a slow spell of
# the host falls on every server alike. For each run: round trips in the 3.5 s, and the server's
# user and system CPU per round trip, read from /proc/PID/stat around the load generator. Then
# per server the medians. A peer is the harness's binary bin/PEER/echo (epoll-c, tokio, libuv,
# asio) or uvloop (Debian's python3 with the harness's python/echo.py).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/release conns=50 rounds=4 peers="epoll-c tokio libuv uvloop"
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--conns N] [--rounds R] [--peers \"P1 P2 ...\"]" >&2; exit 2 ;;
  esac
done
harness=${PEERS:-$(cd .. && pwd)/shared/peers}
loadgen=$harness/bin/loadgen/loadgen
[ -x "$loadgen" ] || { echo "pinned-echo: no $loadgen (run the harness's build.sh)" >&2; exit 1; }
[ -x "$build/samples/echo_server" ] || { echo "pinned-echo: build $build first" >&2; exit 1; }

# server_command NAME -> the command line, without the port.
server_command() {
  case $1 in
    corio) echo "$build/samples/echo_server --port" ;;
    uvloop) echo "/usr/bin/python3 $harness/python/echo.py --loop uvloop" ;;
    *) echo "$harness/bin/$1/echo" ;;
  esac
}

# one_run NAME -> "NAME ROUND_TRIPS USER_US_PER_RT SYSTEM_US_PER_RT"
one_run() {
  local port=$((20000 + RANDOM % 20000)) pid u0 s0 u1 s1 out rt
  # shellcheck disable=SC2046  # the command line is meant to split into words
  taskset -c 0 $(server_command "$1") "$port" >/dev/null 2>&1 &
  pid=$!
  sleep 0.5
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  out=$(taskset -c 1 "$loadgen" -p "$port" -c "$conns" -m 64 -d 3 -w 0.5 2>&1)
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rt=$(tr ' ' '\n' <<<"$out" | awk -F= '$1 == "rt" {print $2}')
  awk -v n="$1" -v rt="$rt" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%s %d %.3f %.3f\n", n, rt, u / hz * 1e6 / rt, s / hz * 1e6 / rt}'
}

runs=$(mktemp)
trap 'rm -f "$runs"' EXIT
for ((r = 1; r <= rounds; r++)); do
  for name in corio $peers; do one_run "$name" | tee -a "$runs"; done
done
echo "medians over $rounds rounds, $conns connections (round trips in 3.5 s; server µs per round trip):"
python3 - "$runs" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, rt, user, system = line.split()
    runs[name].append((int(rt), float(user), float(system)))
for name, v in runs.items():
    med = lambda i: statistics.median(x[i] for x in v)
    print(f"  {name:8} round trips {med(0):9.0f}   user {med(1):.2f}   system {med(2):.2f}   total {statistics.median(x[1] + x[2] for x in v):.2f}")
EOF
