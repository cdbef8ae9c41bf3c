// samples/anti_patterns/anti_patterns.cpp — the seed's four asyncio anti-patterns, each done
// wrong and done right in corio, with real timings (docs/debugging.md walks through the output).
//
//   build/release/samples/anti_patterns
//
//   1. A blocking call inside a task (Python's time.sleep in async code) stalls every other
//      task. Debug mode names the culprit. Fix: corio::sleep, or corio::to_thread.
//   2. Independent awaits one after the other take the sum of their times; gather takes the max.
//   3. An exception lost: a detached task's failure is logged, never silently dropped; gather
//      rethrows the first failure, gather_settled hands every one back.
//   4. A needlessly async function (a coroutine that never awaits) costs a frame per call; and
//      one called without co_await never runs at all (debug mode reports it).
//
// corio's warnings and errors go to stderr through spdlog; everything else to stdout.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <thread>

#include <corio.hpp>

using namespace std::chrono_literals;
using real_clock = std::chrono::steady_clock;

namespace {

double ms(real_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// --- 1. a blocking call --------------------------------------------------------------------

// Stands for any synchronous call: reading a big file, a blocking DNS lookup, a heavy computation.
void blocking_call() { std::this_thread::sleep_for(300ms); }

corio::task<> blocks_the_loop() {
  co_await corio::sleep(10ms);
  blocking_call();  // the anti-pattern: nothing else runs for 300 ms
}

corio::task<> sleeps_instead() {
  co_await corio::sleep(10ms);
  co_await corio::sleep(300ms);  // the loop runs other tasks meanwhile
}

corio::task<> offloads_to_a_thread() {
  co_await corio::sleep(10ms);
  co_await corio::to_thread(blocking_call);  // the blocking call runs on the thread pool
}

/// Ticks every 20 ms and records the longest gap between two ticks: how long the loop was stuck.
corio::task<> heartbeat(int beats, real_clock::duration& longest_gap) {
  real_clock::time_point last = real_clock::now();
  for (int i = 0; i < beats; ++i) {
    co_await corio::sleep(20ms);
    const real_clock::time_point now = real_clock::now();
    longest_gap = std::max(longest_gap, now - last);
    last = now;
  }
}

corio::task<> beside_a_heartbeat(const char* label, corio::task<> work) {
  real_clock::duration longest_gap{};
  auto worker = corio::spawn(std::move(work), "worker");  // named: the warning names it
  co_await heartbeat(17, longest_gap);
  co_await worker;
  const corio::loop_metrics m = corio::event_loop::current()->metrics();
  std::printf("   %-45s: the heartbeat (every 20 ms) stalled for %3.0f ms; debug mode reported %llu slow resumption(s)\n",
              label, ms(longest_gap), static_cast<unsigned long long>(m.slow_resumptions));
}

void blocking_call_in_a_task() {
  std::puts("1. A blocking call inside a task (debug mode on for this part)");
  const corio::event_loop::options debug{.debug = corio::debug_mode::on};
  corio::run(beside_a_heartbeat("std::this_thread::sleep_for(300ms) in a task", blocks_the_loop()), debug);
  corio::run(beside_a_heartbeat("fix: co_await corio::sleep(300ms)", sleeps_instead()), debug);
  corio::run(beside_a_heartbeat("fix: co_await corio::to_thread(blocking_call)", offloads_to_a_thread()), debug);
}

// --- 2. sequential vs concurrent awaits ---------------------------------------------------

corio::task<int> fetch(int id) {
  co_await corio::sleep(100ms);  // a request that takes 100 ms to answer
  co_return id;
}

corio::task<> sequential_then_concurrent() {
  real_clock::time_point start = real_clock::now();
  int sum = 0;
  for (int id = 0; id < 3; ++id) sum += co_await fetch(id);  // waits for each before the next starts
  std::printf("   sequential: three 100 ms fetches awaited one after the other: %4.0f ms\n", ms(real_clock::now() - start));

  start = real_clock::now();
  const auto [a, b, c] = co_await corio::gather(fetch(0), fetch(1), fetch(2));
  std::printf("   concurrent: the same three with corio::gather:               %4.0f ms\n", ms(real_clock::now() - start));
  if (a + b + c != sum) throw std::logic_error("gather returned the wrong results");
}

// --- 3. an exception lost vs handled --------------------------------------------------------

corio::task<int> fetch_or_fail(int id) {
  co_await corio::sleep((id + 1) * 50ms);
  if (id == 1) throw std::runtime_error("fetch 1 failed");
  co_return id;
}

corio::task<> lost_and_handled() {
  std::puts("   a detached task that fails: its error cannot reach anyone, so corio logs it:");
  corio::spawn(fetch_or_fail(1), "fire-and-forget").detach();
  co_await corio::sleep(150ms);

  real_clock::time_point start = real_clock::now();
  try {
    (void)co_await corio::gather(fetch_or_fail(0), fetch_or_fail(1), fetch_or_fail(2));
  } catch (const std::runtime_error& e) {
    std::printf("   gather rethrew '%s' after %3.0f ms; fetch 2 was cancelled, fetch 0's result dropped\n", e.what(),
                ms(real_clock::now() - start));
  }

  start = real_clock::now();
  const auto [r0, r1, r2] = co_await corio::gather_settled(fetch_or_fail(0), fetch_or_fail(1), fetch_or_fail(2));
  std::printf("   gather_settled returned every outcome after %3.0f ms:", ms(real_clock::now() - start));
  for (const corio::outcome<int>* r : {&r0, &r1, &r2}) {
    try {
      std::printf(" [value %d]", r->value());
    } catch (const std::exception& e) {
      std::printf(" [error '%s']", e.what());
    }
  }
  std::puts("");
}

// --- 4. a needlessly async function ---------------------------------------------------------

// noinline: the compiler may not fold the plain call away, which would flatter it even more.
[[gnu::noinline]] int add(int a, int b) { return a + b; }

// A coroutine that never awaits: every call makes (and frees) a coroutine frame, and the caller
// must be a coroutine too. A plain function does the same job.
corio::task<int> add_async(int a, int b) { co_return a + b; }

corio::task<> needlessly_async() {
  constexpr int calls = 1'000'000;
  long long sum_plain = 0;
  real_clock::time_point start = real_clock::now();
  for (int i = 0; i < calls; ++i) sum_plain += add(i, 1);
  const real_clock::duration plain = real_clock::now() - start;

  long long sum_async = 0;
  start = real_clock::now();
  for (int i = 0; i < calls; ++i) sum_async += co_await add_async(i, 1);
  const real_clock::duration async = real_clock::now() - start;

  if (sum_plain != sum_async) throw std::logic_error("the two additions disagree");
  std::printf("   plain function add():         %5.1f ns per call\n", ms(plain) * 1e6 / calls);
  std::printf("   co_await add_async():         %5.1f ns per call (%.0fx: a frame made and freed each time)\n",
              ms(async) * 1e6 / calls, ms(async) / ms(plain));
  std::cout << "   this loop's metrics: " << corio::event_loop::current()->metrics() << '\n';
}

// Its cousin: calling a coroutine without co_await makes a frame and nothing else: the body
// never runs. [[nodiscard]] catches a bare call at compile time; debug mode catches the rest.
corio::task<> forgets_the_co_await() {
  auto sum = add_async(1, 2);  // should have been `co_await add_async(1, 2)`
  co_return;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines in order with corio's log on stderr, even in a pipe
  blocking_call_in_a_task();
  std::puts("2. Sequential vs concurrent awaits");
  corio::run(sequential_then_concurrent());
  std::puts("3. An exception lost vs handled");
  corio::run(lost_and_handled());
  std::puts("4. A needlessly async function");
  corio::run(needlessly_async());
  std::puts("   add_async(1, 2) called without co_await never runs; debug mode says so when it is destroyed:");
  corio::run(forgets_the_co_await(), {.debug = corio::debug_mode::on});
}
