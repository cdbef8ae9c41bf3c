#!/usr/bin/env bash
# scripts/soak.sh — the soak (issue 7, docs/soak.md): a corio server in its own process under
# long, messy load, then three figures that must hold at the end.
#
#   scripts/soak.sh                     # 60 s of echo, then 60 s of HTTP (about 2.5 minutes)
#   scripts/soak.sh --seconds 10        # the same, shorter
#
# Phase 1, echo: tests/soak/soak_echo_server (samples/echo_server, its buffers resident from the
# start so that the RSS figure means something) against tests/soak/soak_echo_client: 1,000
# connections for the whole time, each slot opening one connection after another; 10% of them
# cancelled at a random moment (mid-read, mid-write, or between), 10% reset (SO_LINGER {1, 0}).
# Phase 2, HTTP: tests/soak/soak_http_server (corio::http::server, header timeout 3 s) under
# wrk, with 200 slowloris connections (tests/soak/slowloris.py) mixed in, each sending one
# header byte every 0.5 s, which the server must close at its deadline.
#
# For each phase it prints, and checks:
#   bytes lost            must be 0 (echo: soak_echo_client's accounting, echo_ledger.hpp)
#   server fds            /proc/PID/fd counted before the load and after it: back to baseline
#   server RSS            at the start of the steady state (after a warm-up) and at the end of
#                         the load: the growth must stay under a bound (8 MiB for echo's
#                         64 MiB of buffers, 1 MiB for the 8 MiB HTTP server)
# and the client-side counts: connections, cancels, resets, requests, wrk's non-2xx responses and
# socket errors (must be 0), slowloris connections closed at the deadline (all of them), and the
# server's own counters. Exit status 0 when every figure is within bounds, 1 otherwise, 2 for a
# bad command line.
#
# Options: --seconds N (per phase, default 60), --connections N (echo, 1000), --slowloris N
# (200), --wrk-connections N (100), --header-timeout-ms N (3000), --rss-bound-kib N (echo's
# bound on the RSS growth, 8192), --http-rss-bound-kib N (1024), --seed N (1), --poller epoll|poll (the servers' backend, CORIO_POLLER; default: the platform's
# best), --build DIR (default build/release, configured with the release preset when it does not
# exist yet). Needs wrk and python3; the echo phase alone needs neither (--skip-http).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
connections=1000
slowloris=200
wrk_connections=100
header_timeout_ms=3000
rss_bound_kib=8192       # echo: 1,000 connections of 64 KiB buffers are about 64 MiB
http_rss_bound_kib=1024  # http: the whole server is about 8 MiB
seed=1
build=build/release
poller=""
skip_http=false

usage() {
  awk 'NR >= 3 && !/^#/ { exit } NR >= 3 { sub(/^# ?/, ""); print }' "$0" >&2  # the comment above
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --slowloris) slowloris=$2; shift 2 ;;
    --wrk-connections) wrk_connections=$2; shift 2 ;;
    --header-timeout-ms) header_timeout_ms=$2; shift 2 ;;
    --rss-bound-kib) rss_bound_kib=$2; shift 2 ;;
    --http-rss-bound-kib) http_rss_bound_kib=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --poller) poller=$2; shift 2 ;;
    --skip-http) skip_http=true; shift ;;
    *) usage ;;
  esac
done
for n in "$seconds" "$connections" "$slowloris" "$wrk_connections" "$header_timeout_ms" "$rss_bound_kib" "$http_rss_bound_kib" \
         "$seed"; do
  [[ "$n" =~ ^[0-9]+$ ]] || usage
done
[[ "$poller" =~ ^(epoll|poll|kqueue|)$ ]] || usage

work=$(mktemp -d "${TMPDIR:-/tmp}/corio-soak.XXXXXX")
pids=()  # every process this script started and has not reaped yet
forget() {  # forget PID: it was reaped
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

failures=()
check() {  # check CONDITION-TEXT MESSAGE: records MESSAGE as a failure unless the condition holds
  if ! eval "$1"; then failures+=("$2"); fi
}

# --- building ----------------------------------------------------------------------------------
targets=(soak_echo_server soak_echo_client)
$skip_http || targets+=(soak_http_server)
if [ ! -f "$build/build.ninja" ]; then
  if [ "$build" = build/release ]; then
    cmake --preset release >/dev/null
  else
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORIO_BUILD_BENCH=OFF >/dev/null
  fi
fi
cmake --build "$build" --target "${targets[@]}" >/dev/null

# --- the server process ------------------------------------------------------------------------
# Both give 0 once the process is gone (the server died: stop_server reports it).
fd_count() { { ls "/proc/$1/fd" 2>/dev/null || true; } | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# running PID: still running (an exited child stays a zombie, which kill -0 still finds, until
# it is waited for).
running() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] && [ "$state" != Z ]
}

# start_server NAME COMMAND...: starts it, reads the port from "listening on 127.0.0.1:PORT";
# sets server_pid and port.
start_server() {
  local name=$1
  shift
  if [ -n "$poller" ]; then
    CORIO_POLLER=$poller "$@" >"$work/$name.out" 2>"$work/$name.err" &
  else
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
  fi
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 100); do
    [ -s "$work/$name.out" ] && break
    sleep 0.05
  done
  port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/$name.out")
  [ -n "$port" ] || { cat "$work/$name.err" >&2; echo "soak: $name did not start" >&2; exit 1; }
}

# wait_for_fds PID BASELINE: up to 10 s for the server to close what the load left open (the
# HTTP server lingers up to 2 s after an error response); prints the count it ends with.
wait_for_fds() {
  local count
  for _ in $(seq 100); do
    count=$(fd_count "$1")
    [ "$count" -le "$2" ] && break
    sleep 0.1
  done
  echo "$count"
}

# stop_server NAME: SIGTERM, which must end it cleanly (status 0) within 10 s.
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true  # already gone: its exit status says how
  local status=0
  for _ in $(seq 100); do
    running "$server_pid" || break
    sleep 0.1
  done
  running "$server_pid" && kill -KILL "$server_pid"
  wait "$server_pid" || status=$?
  forget "$server_pid"
  check "[ $status -eq 0 ]" "$1: the server exited with status $status after SIGTERM (137: killed, by us 10 s after SIGTERM or earlier by something else)"
}

# sample_rss WARMUP PID: samples the server's RSS every second while PID (the load generator)
# runs; sets rss_start (the first sample after the warm-up), rss_end (the last), rss_max, and
# rss_series (one sample in 5, from the start of the load, for the record).
sample_rss() {
  local elapsed=0
  rss_series=""
  rss_start=""
  rss_max=0
  while running "$2"; do
    rss_end=$(rss_kib "$server_pid")
    [ $((elapsed % 5)) -eq 0 ] && rss_series+=" $rss_end"
    if [ "$elapsed" -ge "$1" ]; then
      [ -n "$rss_start" ] || rss_start=$rss_end
      [ "$rss_end" -gt "$rss_max" ] && rss_max=$rss_end
    fi
    sleep 1
    elapsed=$((elapsed + 1))
  done
  [ -n "$rss_start" ] || rss_start=$rss_end
}

# A load generator that does not end by itself in its time plus this is stopped (timeout(1)).
overtime=60

# field FILE TAG KEY: the value of KEY=... on the line of FILE that starts with TAG (or "?").
field() {
  local value
  value=$(sed -n "s/^$2 .*\\b$3=\\([0-9][0-9]*\\).*/\\1/p" "$1" | tail -n 1)
  echo "${value:-?}"
}

# report_server PHASE FD_BEFORE FD_AFTER RSS_BOUND: the two server figures of a phase, and their
# checks.
report_server() {
  local growth=$((rss_end - rss_start)) bound=$4
  echo "  server fds: $2 before, $3 after (must be back to baseline)"
  echo "  server RSS: $rss_start KiB at the start of the steady state, $rss_end KiB at the end" \
       "(growth $growth KiB, bound $bound KiB; max $rss_max KiB)"
  echo "  server RSS every 5 s from the start of the load, KiB:$rss_series"
  check "[ $3 -le $2 ]" "$1: server fds $2 before, $3 after"
  check "[ $growth -le $bound ]" "$1: server RSS grew $growth KiB (bound $bound KiB)"
}

# The warm-up before the steady state: a fifth of the run, at least 1 s.
warmup=$((seconds / 5))
[ "$warmup" -ge 1 ] || warmup=1

# --- phase 1: echo -----------------------------------------------------------------------------
echo_phase() {
  echo "=== echo: $connections connections for $seconds s, 10% cancelled, 10% reset"
  start_server echo_server "$build/tests/soak/soak_echo_server" --port 0
  local fds_before fds_after client_status=0
  fds_before=$(fd_count "$server_pid")
  timeout "$((seconds + overtime))" "$build/tests/soak/soak_echo_client" --port "$port" \
      --connections "$connections" --seconds "$seconds" --seed "$seed" >"$work/echo_client.out" 2>"$work/echo_client.err" &
  local client=$!
  pids+=("$client")
  for _ in $(seq 300); do  # the steady state starts once every connection is open (at most 30 s)
    grep -q "all $connections connections open" "$work/echo_client.out" && break
    running "$client" || break
    sleep 0.1
  done
  sample_rss "$warmup" "$client"
  wait "$client" || client_status=$?
  forget "$client"
  fds_after=$(wait_for_fds "$server_pid" "$fds_before")
  stop_server echo_server

  local r="$work/echo_client.out"
  echo "  client: $(field "$r" RESULT connections) connections: $(field "$r" RESULT clean) clean," \
       "$(field "$r" RESULT cancels) cancelled (mid-read $(field "$r" RESULT cancels_mid_read)," \
       "mid-write $(field "$r" RESULT cancels_mid_write), between $(field "$r" RESULT cancels_between))," \
       "$(field "$r" RESULT resets) reset," \
       "$(field "$r" RESULT failed) failed, $(field "$r" RESULT connect_errors) connect errors"
  echo_lost=$(field "$r" RESULT bytes_lost)
  local corrupt
  corrupt=$(field "$r" RESULT bytes_corrupt)
  echo "  bytes: $(field "$r" RESULT bytes_sent) sent, $(field "$r" RESULT bytes_echoed) echoed back in order," \
       "$echo_lost lost, $corrupt corrupt (both must be 0)"
  head -n 5 "$work/echo_client.err" | sed 's/^/  client stderr: /'
  local e="$work/echo_server.out"
  echo "  server counters: $(field "$e" STATS connections) connections: $(field "$e" STATS ended_by_eof) ended by EOF," \
       "$(field "$e" STATS ended_by_error) by an error (the client's resets and cut connections)"
  report_server echo "$fds_before" "$fds_after" "$rss_bound_kib"
  check "[ '$(field "$e" STATS connections)' = '$(field "$r" RESULT connections)' ]" \
        "echo: the server accepted $(field "$e" STATS connections) connections, the client opened $(field "$r" RESULT connections)"
  check "[ $client_status -eq 0 ]" "echo: soak_echo_client exited with status $client_status"
  check "[ '$echo_lost' = 0 ]" "echo: $echo_lost bytes lost"
  check "[ '$corrupt' = 0 ]" "echo: $corrupt bytes came back corrupt"
  echo_summary="bytes lost $echo_lost (corrupt $corrupt); server fds $fds_before -> $fds_after; server RSS $rss_start -> $rss_end KiB ($((rss_end - rss_start)) KiB)"
}

# --- phase 2: HTTP -----------------------------------------------------------------------------
# wrk_figure PATTERN: the number wrk printed after PATTERN (0 when wrk left the line out).
wrk_figure() {
  local value
  value=$(sed -n "s/.*$1 *\\([0-9][0-9]*\\).*/\\1/p" "$work/wrk.out" | head -n 1)
  echo "${value:-0}"
}

http_phase() {
  local timeout_s
  timeout_s=$(awk "BEGIN { printf \"%.3f\", $header_timeout_ms / 1000 }")
  echo "=== http: wrk ($wrk_connections connections) for $seconds s, with $slowloris slowloris connections" \
       "(header timeout $timeout_s s)"
  start_server http_server "$build/tests/soak/soak_http_server" --port 0 --header-timeout-ms "$header_timeout_ms"
  local fds_before fds_after wrk_status=0 slow_status=0
  fds_before=$(fd_count "$server_pid")
  timeout "$((seconds + overtime))" python3 tests/soak/slowloris.py --port "$port" --header-timeout "$timeout_s" --connections "$slowloris" \
      --seconds "$seconds" --seed "$seed" >"$work/slowloris.out" 2>"$work/slowloris.err" &
  local slow=$!
  pids+=("$slow")
  timeout "$((seconds + overtime))" wrk -t1 -c"$wrk_connections" -d"${seconds}s" --timeout 10s "http://127.0.0.1:$port/" >"$work/wrk.out" 2>&1 &
  local load=$!
  pids+=("$load")
  local http_warmup=$warmup
  [ "$http_warmup" -ge $((header_timeout_ms / 1000 + 1)) ] || http_warmup=$((header_timeout_ms / 1000 + 1))
  sample_rss "$http_warmup" "$load"
  wait "$load" || wrk_status=$?
  forget "$load"
  wait "$slow" || slow_status=$?  # its last connections end up to a header timeout later
  forget "$slow"
  fds_after=$(wait_for_fds "$server_pid" "$fds_before")
  stop_server http_server

  local requests non2xx errors
  requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$work/wrk.out")
  non2xx=$(wrk_figure "Non-2xx or 3xx responses:")
  errors="connect $(wrk_figure "connect"), read $(wrk_figure "read"), write $(wrk_figure "write"), timeout $(wrk_figure "timeout")"
  local socket_errors=$(( $(wrk_figure "connect") + $(wrk_figure "read") + $(wrk_figure "write") + $(wrk_figure "timeout") ))
  echo "  wrk: ${requests:-?} requests, $(sed -n 's/^Requests\/sec: *//p' "$work/wrk.out") requests/s;" \
       "non-2xx/3xx responses $non2xx; socket errors: $errors"
  local s="$work/slowloris.out"
  echo "  slowloris: $(field "$s" RESULT connections) connections: $(field "$s" RESULT at_deadline) closed at the deadline," \
       "$(field "$s" RESULT early) early, $(field "$s" RESULT late) late, $(field "$s" RESULT never_closed) never," \
       "$(field "$s" RESULT answered) answered, $(field "$s" RESULT connect_errors) connect errors;" \
       "longest life $(field "$s" RESULT max_life_ms) ms"
  head -n 5 "$work/slowloris.err" | sed 's/^/  slowloris stderr: /'
  local h="$work/http_server.out"
  echo "  server counters: $(field "$h" STATS connections) connections, $(field "$h" STATS requests) requests," \
       "$(field "$h" STATS timed_out) timed out, $(field "$h" STATS error_responses) error responses," \
       "$(field "$h" STATS aborted_responses) aborted responses, $(field "$h" STATS refused) refused"
  report_server http "$fds_before" "$fds_after" "$http_rss_bound_kib"
  check "[ $wrk_status -eq 0 ] && [ -n '$requests' ]" "http: wrk failed (status $wrk_status)"
  check "[ $non2xx -eq 0 ]" "http: wrk saw $non2xx non-2xx/3xx responses"
  check "[ $socket_errors -eq 0 ]" "http: wrk saw socket errors ($errors)"
  check "[ $slow_status -eq 0 ]" "http: slowloris connections not closed at the deadline (see above)"
  check "[ '$(field "$h" STATS timed_out)' = '$(field "$s" RESULT connections)' ]" \
        "http: the server timed out $(field "$h" STATS timed_out) connections, slowloris opened $(field "$s" RESULT connections)"
  http_summary="requests ${requests:-?}, non-2xx $non2xx, socket errors $socket_errors; slowloris $(field "$s" RESULT at_deadline)/$(field "$s" RESULT connections) closed at the deadline; server fds $fds_before -> $fds_after; server RSS $rss_start -> $rss_end KiB ($((rss_end - rss_start)) KiB)"
}

echo_phase
$skip_http || http_phase

echo "=== soak summary ($seconds s per phase)"
echo "  echo: $echo_summary"
$skip_http || echo "  http: $http_summary"
if [ ${#failures[@]} -eq 0 ]; then
  echo "PASS"
  exit 0
fi
printf 'FAIL: %s\n' "${failures[@]}"
exit 1
