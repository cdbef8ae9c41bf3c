// bench/chains_bench.cpp — what await chains, timeout blame and tracing cost (issue 6).
//
//   build/rel/bench/chains_bench
//
// The same source also builds against a tree without those features (the `before` of a
// before/after comparison: compile it there, run both binaries interleaved). What changed on
// the hot path:
//   * every co_await stores its source location in the frame (promise_base::await_transform);
//   * task_state::park and ::wake each test one flag (timeout blame, tracing);
//   * the loop tests `tracer_` once per resumption, spawn and turn phase.
// Operations:
//   BM_await_inline       co_await of a task that finishes without suspending (two co_awaits:
//                         the caller's, and the child's co_return path has none)
//   BM_event_pingpong     two tasks hand an event back and forth: park, wake, resume
//   BM_sleep_fire         sleep(1 ns) on a manual clock: park on a timer, fire, resume
//   BM_*_traced           the same with a trace_recorder attached (only in the `after` tree)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "../corio.hpp"
#include "alloc_counter.hpp"
#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using corio_bench::op_meter;
using corio_bench::run_body;

std::uint64_t g_counter = 0;

corio::task<void> increment() {
  ++g_counter;
  co_return;
}

#if __has_include("../runtime/trace.hpp")
constexpr bool can_trace = true;
#else
constexpr bool can_trace = false;
#endif

// Attaches a recorder to the running loop when `on` (and the tree has one).
class maybe_trace {
 public:
  explicit maybe_trace(bool on) {
#if __has_include("../runtime/trace.hpp")
    if (on) recorder_.attach(*corio::event_loop::current());
#else
    (void)on;
#endif
  }

 private:
#if __has_include("../runtime/trace.hpp")
  corio::trace_recorder recorder_;
#endif
};

corio::task<void> await_inline_body(benchmark::State& state) {
  const maybe_trace trace(state.range(0) != 0);
  for (int i = 0; i < 1000; ++i) co_await increment();
  op_meter meter(state);
  for (auto _ : state) co_await increment();
  meter.report(1);
}

corio::task<void> ponger(corio::event& ping, corio::event& pong, const bool& stop) {
  while (!stop) {
    co_await ping.wait();
    ping.clear();
    pong.set();
  }
}

corio::task<void> event_pingpong_body(benchmark::State& state) {
  const maybe_trace trace(state.range(0) != 0);
  corio::event ping, pong;
  bool stop = false;
  auto partner = corio::spawn(ponger(ping, pong, stop));
  auto round = [&]() -> corio::task<void> {
    ping.set();
    co_await pong.wait();
    pong.clear();
  };
  for (int i = 0; i < 1000; ++i) co_await round();
  op_meter meter(state);
  for (auto _ : state) co_await round();
  meter.report(2);
  stop = true;
  ping.set();
  co_await partner;
}

corio::task<void> sleep_fire_body(benchmark::State& state) {
  const maybe_trace trace(state.range(0) != 0);
  for (int i = 0; i < 1000; ++i) co_await corio::sleep(1ns);
  op_meter meter(state);
  for (auto _ : state) co_await corio::sleep(1ns);
  meter.report(1);
}

corio::event_loop::options manual_clock() {
  return {.clock = corio::clock::manual(corio::time_point{}, /*autojump=*/true)};
}

// Arg: 0 = no recorder, 1 = a recorder attached. Traced runs keep every event in memory, so
// they get a fixed iteration count.
void BM_await_inline(benchmark::State& state) { run_body(state, await_inline_body); }
void BM_event_pingpong(benchmark::State& state) { run_body(state, event_pingpong_body); }
void BM_sleep_fire(benchmark::State& state) { run_body(state, sleep_fire_body, manual_clock()); }
BENCHMARK(BM_await_inline)->ArgName("traced")->Arg(0)->UseRealTime();
BENCHMARK(BM_event_pingpong)->ArgName("traced")->Arg(0)->UseRealTime();
BENCHMARK(BM_sleep_fire)->ArgName("traced")->Arg(0)->UseRealTime();

void register_traced() {
  if (!can_trace) return;
  benchmark::RegisterBenchmark("BM_await_inline_traced", BM_await_inline)->Arg(1)->Iterations(200000)->UseRealTime();
  benchmark::RegisterBenchmark("BM_event_pingpong_traced", BM_event_pingpong)->Arg(1)->Iterations(100000)->UseRealTime();
  benchmark::RegisterBenchmark("BM_sleep_fire_traced", BM_sleep_fire)->Arg(1)->Iterations(100000)->UseRealTime();
}
[[maybe_unused]] const int registered = (register_traced(), 0);

}  // namespace
