#!/bin/sh
# samples/anti_patterns/check_output.sh BINARY — runs the anti_patterns sample and checks the
# lines that carry its point (not the timings, which depend on the machine).
set -u
out=$(timeout 60 "$1" 2>&1) || { echo "$out"; echo "FAIL: the sample failed" >&2; exit 1; }
echo "$out"
expect() {
  printf '%s\n' "$out" | grep -E -q -- "$1" || { echo "FAIL: no line matches: $1" >&2; exit 1; }
}
expect "slow resumption: task #[0-9]+ 'worker' spawned at .*anti_patterns.cpp:[0-9]+, resumed in blocks_the_loop at anti_patterns.cpp:[0-9]+: ready to run kept the loop busy for [0-9.]+ ms \(threshold 100.0 ms\)"
expect "sleep_for\(300ms\) in a task +: the heartbeat \(every 20 ms\) stalled for +[0-9]+ ms; debug mode reported [1-9]"
expect "fix: co_await corio::sleep\(300ms\) +: the heartbeat"
expect "fix: co_await corio::to_thread\(blocking_call\) *: the heartbeat"
expect "sequential: three 100 ms fetches awaited one after the other: +[0-9]+ ms"
expect "concurrent: the same three with corio::gather: +[0-9]+ ms"
expect "Task exception was never retrieved: task #[0-9]+ 'fire-and-forget' .*fetch 1 failed"
expect "gather rethrew 'fetch 1 failed'"
expect "gather_settled returned every outcome .*\[value 0\] \[error 'fetch 1 failed'\] \[value 2\]"
expect "plain function add\(\): +[0-9.]+ ns per call"
expect "co_await add_async\(\): +[0-9.]+ ns per call"
expect "coroutine .*anti_patterns.cpp:[0-9]+ was never awaited"
expect "this loop's metrics: tasks spawned 1, live 1, resumptions"
echo "anti_patterns: every expected line is there"
