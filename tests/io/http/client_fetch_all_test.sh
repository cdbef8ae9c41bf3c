#!/bin/sh
# tests/io/http/client_fetch_all_test.sh FETCH_ALL — samples/fetch_all end to end: the demo
# (embedded delayed server, sequential then concurrent half) prints what it should and the
# concurrent half is really concurrent; given URLs, a bad one is reported clearly and the exit
# status says something failed. Every run is bounded by `timeout`.
set -u
fetch_all=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$out" >&2; exit 1; }

# 50 URLs, 100 ms each: sequential (5 of them) >= 0.5 s; concurrent about 0.1 s (1 s allowed:
# sanitizer builds on a loaded machine are slow, and 50 x 100 ms in turn would be 5 s).
timeout 60 "$fetch_all" --count 50 --delay-ms 100 --sequential-count 5 >"$out" 2>&1 || fail "fetch_all failed"
cat "$out"
grep -q '^50 URLs like http://127\.0\.0\.1:[0-9]*/delay/100ms?i=0, each answered after 100 ms' "$out" || fail "no banner"
seq_s=$(sed -n 's/^sequential: 5 fetches, one after the other: \([0-9.]*\) s$/\1/p' "$out")
con_s=$(sed -n 's/^concurrent: 50 fetches with corio::gather (pool limit 50): \([0-9.]*\) s$/\1/p' "$out")
[ -n "$seq_s" ] || fail "no sequential line"
[ -n "$con_s" ] || fail "no concurrent line"
grep -q '^speed-up: [0-9.]*x' "$out" || fail "no speed-up line"
awk -v s="$seq_s" 'BEGIN { exit !(s >= 0.5) }' || fail "5 sequential fetches of 100 ms took $seq_s s (< 0.5 s)"
awk -v c="$con_s" 'BEGIN { exit !(c >= 0.1 && c < 1.0) }' || fail "50 concurrent fetches took $con_s s"

# Given URLs: an https one and a refused one are reported, and the status is 1.
timeout 30 "$fetch_all" https://127.0.0.1/ http://127.0.0.1:1/ >"$out" 2>&1
status=$?
cat "$out"
[ "$status" -eq 1 ] || fail "exit status $status for failing URLs (expected 1)"
grep -q "https is not supported yet" "$out" || fail "the https URL was not reported"
grep -q "Connection refused" "$out" || fail "the refused connection was not reported"

# A bad flag gives the usage and status 2.
timeout 10 "$fetch_all" --count >"$out" 2>&1
[ $? -eq 2 ] || fail "a flag without its value did not give status 2"
grep -q "^usage:" "$out" || fail "no usage line"
echo "PASS"
