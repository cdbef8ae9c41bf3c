// CPU-heavy work run on the loop's thread freezes every other task; corio::to_thread moves it to
// a pool thread. A ticker that wants to run every 10 ms shows the difference.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>
#include <corio.hpp>
using namespace std::chrono_literals;
using wall_clock = std::chrono::steady_clock;

long long count_primes(long long limit) {  // deliberately slow: trial division
  long long count = 0;
  for (long long n = 2; n < limit; ++n) {
    bool prime = true;
    for (long long d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
    count += prime ? 1 : 0;
  }
  return count;
}

constexpr long long limit = 2'000'000;

corio::task<long long> count_on_the_loop() { co_return count_primes(limit); }
corio::task<long long> count_on_a_thread() { co_return co_await corio::to_thread(count_primes, limit); }

double ms_between(wall_clock::time_point a, wall_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

corio::task<> ticker(const bool& running, double& longest_gap_ms) {
  auto last = wall_clock::now();
  while (running) {
    co_await corio::sleep(10ms);
    const auto now = wall_clock::now();
    longest_gap_ms = std::max(longest_gap_ms, ms_between(last, now));
    last = now;
  }
}

corio::task<> measure(const char* label, corio::task<long long> work) {
  bool running = true;
  double longest_gap_ms = 0;
  corio::join_handle<void> ticks = corio::spawn(ticker(running, longest_gap_ms), "ticker");
  co_await corio::sleep(30ms);  // the ticker is under way
  const auto start = wall_clock::now();
  const long long primes = co_await std::move(work);
  const double work_ms = ms_between(start, wall_clock::now());
  running = false;
  co_await ticks;
  std::printf("%-10s %lld primes in %.0f ms; longest gap between ticks: %.0f ms\n", label, primes,
              work_ms, longest_gap_ms);
}

corio::task<> async_main() {
  co_await measure("loop:", count_on_the_loop());
  co_await measure("to_thread:", count_on_a_thread());
}

int main() { corio::run(async_main()); }
