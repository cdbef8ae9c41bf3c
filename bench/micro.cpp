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
// corio has no timeout() yet, so "an armed timeout" is what a user can write today: a spawned
// task parked in `co_await corio::sleep(10s)`, cancelled by dropping its join_handle (the drop
// cancels; the task then unwinds with corio::cancelled on a later turn and frees itself). This
// pays for a whole task per timer — a frame, a task record, a turn through the ready queue to
// start and another to unwind, and the cancellation exception — and will get much cheaper once
// corio::timeout exists (the timer node will live in the awaiter, as sleep's does).
// A timer is armed when its task first runs, i.e. at the next yield; Tokio's peer arms on the
// spot by polling once. With W = 1000 and a yield every 100 arms, every timer is armed long
// before it is cancelled either way.

corio::task<void> armed_timeout() {
  co_await corio::sleep(10s);
  ++counter;  // a timeout that fired: must never happen here
}

corio::task<double> bench_timeouts(std::uint64_t n) {
  constexpr std::uint64_t window = 1000;  // W: cancel 1000 arms later
  constexpr std::uint64_t batch = 100;    // give the loop control every 100 arms
  corio::event_loop& loop = *corio::event_loop::current();
  std::vector<corio::join_handle<void>> ring(window);
  std::vector<corio::join_handle<void>> kept;
  kept.reserve(n / 10 + 1);
  const auto t0 = steady::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    auto& slot = ring[i % window];
    if (i % 10 != 0) {
      slot = corio::spawn(armed_timeout());  // move-assigning drops (cancels) the one from W ago
    } else {
      kept.push_back(corio::spawn(armed_timeout()));
      slot = {};  // cancel the one from W ago, leave this slot empty
    }
    if (i % batch == batch - 1) co_await corio::yield();
  }
  ring.clear();  // cancel what is left: the last W arms and the 10% kept to the end
  kept.clear();
  // Done when every cancelled task has unwound and freed itself (only this main task is left).
  while (loop.live_tasks() > 1) co_await corio::yield();
  const double secs = seconds_since(t0);
  if (counter != 0) std::fprintf(stderr, "timeouts: %llu fired\n", static_cast<unsigned long long>(counter));
  co_return secs;
}

// ---- C4 pingpong: two tasks pass a token back and forth; N one-way passes ----
//
// corio has no channel yet (the queue comes with the next issue), so the token travels through
// two corio::events, as the Asio peer does with its timer-as-event: set() the other side's
// event, wait on our own, clear it. Each one-way pass is one task switch through the ready queue.

corio::task<void> pong(corio::event& in, corio::event& out, std::uint64_t rounds) {
  for (std::uint64_t i = 0; i < rounds; ++i) {
    co_await in.wait();
    in.clear();
    out.set();
  }
}

corio::task<double> bench_pingpong(std::uint64_t n) {
  corio::event to_pong, to_ping;
  const std::uint64_t rounds = n / 2;
  const auto t0 = steady::now();
  auto responder = corio::spawn(pong(to_pong, to_ping, rounds));
  for (std::uint64_t i = 0; i < rounds; ++i) {
    to_pong.set();
    co_await to_ping.wait();
    to_ping.clear();
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
