#!/bin/sh
# tests/io/echo_sample_test.sh SERVER CLIENT — the echo samples end to end: echo_server on a
# free port, echo_client against it, then SIGTERM, which must stop the server cleanly (status 0).
# Bounded: every wait below has a limit, and the server is killed if the script ends early.
set -u
server=$1
client=$2
out=$(mktemp)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -f "$out"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$server" --port 0 >"$out" &
pid=$!
i=0
while [ ! -s "$out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
first=$(head -n 1 "$out")
echo "server: $first"
port=$(echo "$first" | sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p')
[ -n "$port" ] || fail "the first line is not 'listening on 127.0.0.1:PORT': '$first'"

timeout 60 "$client" --port "$port" --connections 8 --messages 200 --size 1000 || fail "echo_client failed"
timeout 60 "$client" --host localhost --port "$port" --connections 2 --messages 5 --size 300000 || fail "echo_client (large messages) failed"

kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -0 "$pid" 2>/dev/null && fail "echo_server still running 5 s after SIGTERM"
wait "$pid"
status=$?
pid=
[ "$status" -eq 0 ] || fail "echo_server exited with status $status after SIGTERM"
echo "PASS"
