// bench/thread_bench.cpp — what crossing threads costs: to_thread round trips and
// call_soon_threadsafe posts.
//
//   build/release/bench/thread_bench
//
// Run as bench/runtime_bench.cpp does: the Google Benchmark loop sits inside a coroutine that
// corio::run() drives on a fresh thread with a fresh loop, after an untimed warm-up (which also
// starts the thread pool). Counters: ns_per_op (wall time) and allocs_per_op (global operator new
// calls, from alloc_counter.hpp, on every thread).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>

#include "../corio.hpp"
#include "../runtime/to_thread.hpp"
#include "alloc_counter.hpp"
#include "harness.hpp"

namespace {

using steady = std::chrono::steady_clock;
namespace alloc = corio_bench::alloc;
using corio_bench::op_meter;
using corio_bench::run_body;



// ---------------------------------------------------------------------------------------------
// to_thread round trip: the main task awaits a trivial job. Operation: submit to the pool, a pool
// thread wakes and runs it, posts the completion, the loop wakes from epoll and resumes the task.

corio::task<void> to_thread_body(benchmark::State& state) {
  for (int i = 0; i < 1000; ++i) (void)co_await corio::to_thread([] { return 1; });
  op_meter meter(state);
  for (auto _ : state) benchmark::DoNotOptimize(co_await corio::to_thread([] { return 1; }));
  meter.report(1);
}

void BM_to_thread_round_trip(benchmark::State& state) { run_body(state, to_thread_body); }
BENCHMARK(BM_to_thread_round_trip)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// call_soon_threadsafe, burst: a pool thread posts N callbacks as fast as it can while the loop
// drains them. Operation: one post and the run of its callback (throughput; most posts find
// the mailbox non-empty and skip the eventfd write).

corio::task<void> burst_body(benchmark::State& state) {
  const auto n = state.range(0);
  std::int64_t runs = 0;  // loop thread only
  const corio::loop_handle handle = corio::event_loop::current()->remote();
  auto burst = [&] {
    for (std::int64_t i = 0; i < n; ++i) (void)handle.call_soon_threadsafe([&runs] { ++runs; });
  };
  co_await corio::to_thread(burst);  // its completion is posted last: every callback ran before
  op_meter meter(state);
  for (auto _ : state) co_await corio::to_thread(burst);
  meter.report(static_cast<double>(n));
  if (runs != n * static_cast<std::int64_t>(state.iterations() + 1)) state.SkipWithError("lost callbacks");
}

void BM_call_soon_threadsafe_burst(benchmark::State& state) { run_body(state, burst_body); }
BENCHMARK(BM_call_soon_threadsafe_burst)->Arg(1000)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// call_soon_threadsafe, ping: a pool thread posts one callback and waits until the loop has run
// it, N times. The loop sleeps in epoll_wait between posts (a job is in flight), so every post
// pays the eventfd wake. Operation: post -> wake -> run -> the poster sees it (latency).

corio::task<void> ping_body(benchmark::State& state) {
  const auto n = state.range(0);
  std::atomic<std::int64_t> runs{0};
  const corio::loop_handle handle = corio::event_loop::current()->remote();
  auto pings = [&] {
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t before = runs.load(std::memory_order_acquire);
      if (!handle.call_soon_threadsafe([&runs] { runs.fetch_add(1, std::memory_order_release); })) return;
      while (runs.load(std::memory_order_acquire) == before) {
      }
    }
  };
  co_await corio::to_thread(pings);
  op_meter meter(state);
  for (auto _ : state) co_await corio::to_thread(pings);
  meter.report(static_cast<double>(n));
}

void BM_call_soon_threadsafe_ping(benchmark::State& state) { run_body(state, ping_body); }
BENCHMARK(BM_call_soon_threadsafe_ping)->Arg(100)->UseRealTime();

}  // namespace
