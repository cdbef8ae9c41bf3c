#!/bin/sh
# tests/io/reactor_inject.sh — runs one test of a test binary under strace's syscall fault
# injection, and checks that the test still passes, that strace really injected into each group
# of syscalls named, and (optionally) how often a log line appeared.
#
#   usage: reactor_inject.sh <binary> <gtest filter> <groups> <errno> <when> [<log text> <count>]
#
#   <groups>  syscall names separated by spaces; alternatives joined by '|' form one group that
#             must see at least one injection between them (the poller's wait is epoll_pwait2 or
#             poll depending on the backend)
#   <when>    strace's when= expression: 2+2 is every other call from the 2nd, 1..3 the first three
#
# Used for reliability.md T-02 (EINTR from recv, send, accept4 and the poller's wait is retried
# and never seen) and T-04's injected form (accept4 failing with EMFILE, which the ASan build
# cannot get from a real fd limit; see reactor_emfile_test.cpp). TCP's recv and send reach the
# kernel as recvfrom and sendto.
#
# strace is required (Debian package `strace`): without it this test FAILS, it does not skip.
set -eu

binary=$1
filter=$2
groups=$3
error=$4
when=$5
log_text=${6:-}
log_count=${7:-}

if ! command -v strace >/dev/null 2>&1; then
  echo "FAIL: strace is not installed (apt-get install strace); this test cannot run without it" >&2
  exit 1
fi

calls=$(echo "$groups" | tr ' |' ',,')
trace=$(mktemp)
output=$(mktemp)
trap 'rm -f "$trace" "$output"' EXIT

# LeakSanitizer cannot stop the world under ptrace, so it is off here (the test's own run covers it).
status=0
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
  strace -f -qq -o "$trace" -e trace="$calls" -e inject="$calls:error=$error:when=$when" \
  "$binary" --gtest_filter="$filter" >"$output" 2>&1 || status=$?
cat "$output"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ "$status" -eq 0 ] || fail "the test failed with $error injected (exit status $status)"
grep -q "\[  PASSED  \] 1 test" "$output" || fail "the filter '$filter' did not run exactly one passing test"
for group in $groups; do
  pattern=$(echo "$group" | sed 's/|/\\|/g')
  n=$(grep -c "\($pattern\)(.*(INJECTED)" "$trace" || true)
  echo "$group: $n calls failed with $error"
  [ "$n" -gt 0 ] || fail "strace injected nothing into $group: the test no longer exercises it"
done
if [ -n "$log_text" ]; then
  n=$(grep -c "$log_text" "$output" || true)
  echo "'$log_text' logged $n times"
  [ "$n" -eq "$log_count" ] || fail "expected '$log_text' $log_count times, found $n"
fi
echo "PASS"
