// bench/micro.cpp — corio's side of the peer harness (/work/shared/peers, README part C).
//
//   micro BENCH N      BENCH: spawn | sleepers | timeouts | pingpong
//
// prints exactly one line, in the format every peer prints:
//   MICRO bench=<name> n=<N> secs=<s> ops_per_s=<N/s> rss0_kib=<ru_maxrss before> rss_kib=<after>
// `secs` runs from just before the first spawn or arm to completion; making the loop is not
// included (the clock starts inside the main task). Each workload is written the way a corio
// user would write it with the public API, mirroring the Tokio peer (tokio/src/bin/micro.rs).
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "../corio.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

long maxrss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::uint64_t counter = 0;

double seconds_since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

// ---- C1 spawn: N tasks each incrementing a counter, then await every handle ----

corio::task<void> increment() {
  ++counter;
  co_return;
}

corio::task<double> bench_spawn(std::uint64_t n) {
  std::vector<corio::join_handle<void>> handles;
  handles.reserve(n);
  const auto t0 = steady::now();
  for (std::uint64_t i = 0; i < n; ++i) handles.push_back(corio::spawn(increment()));
  for (auto& h : handles) co_await h;
  const double secs = seconds_since(t0);
  if (counter != n) std::fprintf(stderr, "spawn: counter %llu != n\n", static_cast<unsigned long long>(counter));
  co_return secs;
}

// ---- C2 sleepers: N tasks each sleeping a random 0–100 ms, then join them all ----

corio::task<void> sleeper(std::chrono::microseconds d) {
  co_await corio::sleep(d);
  ++counter;
}

corio::task<double> bench_sleepers(const std::vector<std::uint64_t>& delays_us) {
  std::vector<corio::join_handle<void>> handles;
  handles.reserve(delays_us.size());
  const auto t0 = steady::now();
  for (const std::uint64_t d : delays_us) handles.push_back(corio::spawn(sleeper(std::chrono::microseconds(d))));
  for (auto& h : handles) co_await h;
  const double secs = seconds_since(t0);
  if (counter != delays_us.size()) std::fprintf(stderr, "sleepers: %llu woke\n", static_cast<unsigned long long>(counter));
  co_return secs;
}

// ---- C3 timeouts: the I/O-timeout pattern ----
//
// What a corio user writes for "an I/O wait with a time limit": `corio::timeout(10s, op)`.
// Each armed timeout is a task waiting for a reply under a 10 s limit; the reply is an
// event that a peer sets. "Cancelling the timeout W arms later" is the reply arriving: the
// wait ends, corio::timeout disarms its timer (no exception: the common path of a limit that
// is not hit), and the task finishes and frees itself (detached). 10% of the replies only
// arrive at the end. None of the limits fires.
// This pays for a task per timeout (frame, task record, two turns through the ready queue),
// which Tokio's peer does not: it polls a bare boxed Sleep once. A timer alone (arm + disarm)
// costs ~11 ns in corio (bench/runtime_bench, BM_timer_arm_disarm_raw).

corio::task<void> wait_for_reply(corio::event& reply) { co_await reply.wait(); }

void arm_timeout(corio::event& reply) {
  corio::spawn(corio::timeout(10s, wait_for_reply(reply))).detach();  // a limit that fires would log
}

corio::task<double> bench_timeouts(std::uint64_t n) {
  constexpr std::uint64_t window = 1000;  // W: the reply comes 1000 arms later
  constexpr std::uint64_t batch = 100;    // give the loop control every 100 arms
  corio::event_loop& loop = *corio::event_loop::current();
  std::vector<corio::event> ring(window);     // one reply event per slot, reused
  std::deque<corio::event> late(n / 10 + 1);  // replies that only arrive at the end
  std::vector<bool> pending(window, false);
  std::uint64_t late_used = 0;
  const auto t0 = steady::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t slot = i % window;
    if (pending[slot]) {
      ring[slot].set();    // the reply from W arms ago arrives: its timeout is disarmed
      ring[slot].clear();  // (its waiter was already taken off the event by set())
    }
    pending[slot] = i % 10 != 0;
    arm_timeout(pending[slot] ? ring[slot] : late[late_used++]);
    if (i % batch == batch - 1) co_await corio::yield();
  }
  for (std::uint64_t slot = 0; slot < window; ++slot)
    if (pending[slot]) ring[slot].set();
  for (std::uint64_t k = 0; k < late_used; ++k) late[k].set();
  // Done when every waiting task has finished (only this main task is left).
  while (loop.live_tasks() > 1) co_await corio::yield();
  co_return seconds_since(t0);
}

// ---- C4 pingpong: two tasks pass a token back and forth; N one-way passes ----
//
// Through two bounded corio::queue<std::uint64_t>s of capacity 1, as Tokio's peer does with
// mpsc::channel(1): put the token in the other side's queue, get it back from our own.

corio::task<void> pong(corio::queue<std::uint64_t>& in, corio::queue<std::uint64_t>& out, std::uint64_t rounds) {
  for (std::uint64_t i = 0; i < rounds; ++i) co_await out.put(co_await in.get());
}

corio::task<double> bench_pingpong(std::uint64_t n) {
  corio::queue<std::uint64_t> to_pong(1), to_ping(1);
  const std::uint64_t rounds = n / 2;
  const auto t0 = steady::now();
  auto responder = corio::spawn(pong(to_pong, to_ping, rounds));
  for (std::uint64_t i = 0; i < rounds; ++i) {
    co_await to_pong.put(i);
    if (co_await to_ping.get() != i) std::fprintf(stderr, "pingpong: token out of order\n");
  }
  co_await responder;
  co_return seconds_since(t0);
}

void print_line(const std::string& bench, std::uint64_t n, double secs, long rss0) {
  std::printf("MICRO bench=%s n=%llu secs=%.6f ops_per_s=%.0f rss0_kib=%ld rss_kib=%ld\n", bench.c_str(),
              static_cast<unsigned long long>(n), secs, static_cast<double>(n) / secs, rss0, maxrss_kib());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s spawn|sleepers|timeouts|pingpong N\n", argv[0]);
    return 2;
  }
  const std::string bench = argv[1];
  const std::uint64_t n = std::strtoull(argv[2], nullptr, 10);

  std::vector<std::uint64_t> delays;
  if (bench == "sleepers") {
    delays.resize(n);
    std::uint64_t x = 42;
    for (auto& d : delays) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      d = x % 100'001;  // 0–100 ms in microseconds
    }
  }

  const long rss0 = maxrss_kib();
  double secs = 0;
  if (bench == "spawn") {
    secs = corio::run(bench_spawn(n));
  } else if (bench == "sleepers") {
    secs = corio::run(bench_sleepers(delays));
  } else if (bench == "timeouts") {
    secs = corio::run(bench_timeouts(n));
  } else if (bench == "pingpong") {
    secs = corio::run(bench_pingpong(n));
  } else {
    std::fprintf(stderr, "unknown bench %s\n", bench.c_str());
    return 2;
  }
  print_line(bench, n, secs, rss0);
  return 0;
}
