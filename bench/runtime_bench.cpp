// bench/runtime_bench.cpp — what the loop's basic operations cost: spawn/join, gather, arming
// and cancelling timers, task switches (yield), and many concurrent sleepers.
//
//   build/release/bench/runtime_bench                        # everything
//   build/release/bench/runtime_bench --benchmark_filter=yield
//
// How every benchmark is run. The Google Benchmark loop (`for (auto _ : state)`) sits INSIDE a
// coroutine that corio::run() drives, so what is timed is the operation itself, not making and
// tearing down an event loop. Each invocation runs on a fresh thread with a fresh loop. The
// frame cache's free blocks outlive the thread (an exiting thread hands them to a process-wide
// depot that the next one draws from), so what puts every benchmark in the same state is its
// explicit warm-up (untimed, uncounted) before the timed loop: the counters show the steady state.
//
// Counters (per operation; what "an operation" is is said at each benchmark):
//   ns_per_op            wall time per operation (the Time column is per loop iteration)
//   allocs_per_op        global operator new calls (bench/alloc_counter.hpp replaces it)
//   frame_allocs_per_op  what corio's frame cache took from the system
//                        (corio::detail::frame_heap_allocations()): new 2 MiB arenas (mmap, which
//                        allocs_per_op does not see) and frames over 2 KiB (operator new, which it does)
//   heap_B_per_sleeper   (peak live heap bytes − live bytes before the first sleeper) / N: the
//                        operator new heap only; frames and task records live in the frame
//                        cache's arenas and are not in it
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "../corio.hpp"
#include "alloc_counter.hpp"
#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
namespace alloc = corio_bench::alloc;
using corio_bench::op_meter;
using corio_bench::run_body;

// ---------------------------------------------------------------------------------------------
// Harness


corio::event_loop::options manual_clock() {
  return {.clock = corio::clock::manual(corio::time_point{}, /*autojump=*/true)};
}


/// The peers' delay sequence (xorshift64 from 42), reduced modulo `modulus` microseconds.
std::vector<corio::duration> xorshift_delays(std::size_t n, std::uint64_t modulus) {
  std::vector<corio::duration> delays(n);
  std::uint64_t x = 42;
  for (auto& d : delays) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d = std::chrono::microseconds(x % modulus);
  }
  return delays;
}

std::uint64_t g_counter = 0;  // what the trivial tasks touch, so they do something

corio::task<void> increment() {
  ++g_counter;
  co_return;
}

corio::task<void> sleep_for(corio::duration d) { co_await corio::sleep(d); }

// ---------------------------------------------------------------------------------------------
// spawn + join: one iteration spawns N trivial tasks, then awaits every join_handle (Tokio's
// spawn benchmark does the same). Operation: one task (spawn, first run, finish, join).

corio::task<void> spawn_join_body(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<corio::join_handle<void>> handles;
  handles.reserve(n);
  auto round = [&]() -> corio::task<void> {
    for (std::size_t i = 0; i < n; ++i) handles.push_back(corio::spawn(increment()));
    for (auto& h : handles) co_await h;
    handles.clear();
  };
  co_await round();  // warm-up: fills the frame cache and grows the ready ring to N
  op_meter meter(state);
  for (auto _ : state) co_await round();
  meter.report(static_cast<double>(n));
}

void BM_spawn_join(benchmark::State& state) { run_body(state, spawn_join_body); }
BENCHMARK(BM_spawn_join)->Arg(1)->Arg(1000)->Arg(100000)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// gather of 10,000 tasks: one iteration builds the vector of tasks and co_awaits gather(vector).
// Operation: one task (its frame, spawn, run, and its slot in the result vector).

corio::task<void> gather_body(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto round = [n]() -> corio::task<void> {
    std::vector<corio::task<void>> tasks;
    tasks.reserve(n);
    for (std::size_t i = 0; i < n; ++i) tasks.push_back(increment());
    auto results = co_await corio::gather(std::move(tasks));
    benchmark::DoNotOptimize(results.data());
  };
  co_await round();
  op_meter meter(state);
  for (auto _ : state) co_await round();
  meter.report(static_cast<double>(n));
}

void BM_gather(benchmark::State& state) { run_body(state, gather_body); }
BENCHMARK(BM_gather)->Arg(10000)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Timers, raw: loop.arm() + loop.disarm() of an intrusive timer with a 10 s deadline — the cost
// of the wheel as the loop sees it, with no task around it. Arg = how many other timers are
// armed meanwhile (spread over 0–100 s, so over several wheel levels): O(1) means the same cost.
// Operation: one arm + one disarm.

struct noop_timer final : corio::detail::timer_entry {
  void on_fire() noexcept override {}
};

corio::task<void> arm_disarm_raw_body(benchmark::State& state) {
  corio::event_loop& loop = *corio::event_loop::current();
  std::vector<noop_timer> background(static_cast<std::size_t>(state.range(0)));
  const auto spread = xorshift_delays(background.size(), 100'000'000);  // 0–100 s
  for (std::size_t i = 0; i < background.size(); ++i) loop.arm(background[i], loop.now() + spread[i]);
  noop_timer timer;
  const corio::time_point deadline = loop.now() + 10s;
  for (int i = 0; i < 1000; ++i) {
    loop.arm(timer, deadline);
    loop.disarm(timer);
  }
  op_meter meter(state);
  for (auto _ : state) {
    loop.arm(timer, deadline);
    loop.disarm(timer);
  }
  meter.report(1);
  for (auto& t : background) loop.disarm(t);
  co_return;
}

void BM_timer_arm_disarm_raw(benchmark::State& state) { run_body(state, arm_disarm_raw_body); }
BENCHMARK(BM_timer_arm_disarm_raw)->Arg(0)->Arg(100000)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Timers, as a user writes a timeout today (corio has no timeout() yet): spawn a task that
// sleeps 10 s, let it run far enough to arm its timer, cancel it and join it. Operation: the
// whole round — spawn, arm, cancel (disarm), the task unwinding with corio::cancelled, the join
// rethrowing it. Two C++ exceptions per op are part of the price.

corio::task<void> sleep_cancel_body(benchmark::State& state) {
  auto round = []() -> corio::task<void> {
    auto h = corio::spawn(sleep_for(10s));
    co_await corio::yield();  // h runs first (it was queued first) and parks on its timer
    h.cancel();
    try {
      co_await h;
    } catch (const corio::cancelled&) {
    }
  };
  for (int i = 0; i < 1000; ++i) co_await round();
  op_meter meter(state);
  for (auto _ : state) co_await round();
  meter.report(1);
}

void BM_timer_spawned_sleep_cancel(benchmark::State& state) { run_body(state, sleep_cancel_body); }
BENCHMARK(BM_timer_spawned_sleep_cancel)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Timers through sleep(): the main task sleeps 1 ms per iteration under a manual autojump clock,
// so each op is: the sleep awaiter arms the wheel, the loop finds nothing ready, jumps the clock
// to the deadline, drains the due slot, wakes and resumes the task — no syscall, no real wait.
// Operation: one sleep (arm + fire + resume).

corio::task<void> sleep_fire_body(benchmark::State& state) {
  for (int i = 0; i < 1000; ++i) co_await corio::sleep(1ms);
  op_meter meter(state);
  for (auto _ : state) co_await corio::sleep(1ms);
  meter.report(1);
}

void BM_timer_sleep_fire_manual_clock(benchmark::State& state) {
  run_body(state, sleep_fire_body, manual_clock());
}
BENCHMARK(BM_timer_sleep_fire_manual_clock)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Yield ping-pong: the main task and a partner each `co_await corio::yield()` in a loop, so
// every iteration is two task switches through the ready queue (main -> partner -> main).
// Operation: one switch. Arg 0: steady clock; Arg 1: manual clock. yield() does not read the
// clock (a zero delay goes straight to the ready queue), so the two should cost the same.

corio::task<void> yielder(const bool& stop, std::uint64_t& switches) {
  while (!stop) {
    co_await corio::yield();
    ++switches;
  }
}

corio::task<void> yield_pingpong_body(benchmark::State& state) {
  bool stop = false;
  std::uint64_t partner_switches = 0;
  auto partner = corio::spawn(yielder(stop, partner_switches));
  for (int i = 0; i < 1000; ++i) co_await corio::yield();
  op_meter meter(state);
  for (auto _ : state) co_await corio::yield();
  meter.report(2);
  stop = true;
  co_await partner;
  state.counters["partner_switches_per_iter"] =
      static_cast<double>(partner_switches) / static_cast<double>(state.iterations() + 1000);
}

// Arg 2: the manual clock with the ready-queue shuffle on (a debugging mode), for its cost; the
// others pin it off whatever CORIO_SHUFFLE_SEED says.
void BM_yield_pingpong(benchmark::State& state) {
  corio::event_loop::options opts = state.range(0) == 0 ? corio::event_loop::options{} : manual_clock();
  opts.shuffle_seed = state.range(0) == 2 ? 1 : 0;
  run_body(state, yield_pingpong_body, std::move(opts));
}
BENCHMARK(BM_yield_pingpong)->ArgName("manual_clock")->Arg(0)->Arg(1)->Arg(2)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Debug mode's price (runtime/debug.hpp): the yield ping-pong again, with debug mode off and on
// in the same binary. Off, the loop pays one branch per batch of resumptions; on, two clock reads
// and a description of the task (strings: see allocs_per_op) per resumption.
// Operation: one switch.

void BM_yield_pingpong_debug_mode(benchmark::State& state) {
  const corio::debug_mode mode = state.range(0) == 0 ? corio::debug_mode::off : corio::debug_mode::on;
  run_body(state, yield_pingpong_body, corio::event_loop::options{.debug = mode});
}
BENCHMARK(BM_yield_pingpong_debug_mode)->ArgName("debug")->Arg(0)->Arg(1)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Inline await: `co_await add_one(i)` where the child never suspends — a frame made, run and
// destroyed inside the awaiting task, without the loop. task<T>'s destructor checks (one branch)
// whether the frame was ever awaited, for debug mode's "never awaited" warning.
// Operation: one co_await.

corio::task<std::uint64_t> add_one(std::uint64_t x) { co_return x + 1; }

corio::task<void> inline_await_body(benchmark::State& state) {
  std::uint64_t x = 0;
  for (int i = 0; i < 1000; ++i) x = co_await add_one(x);
  op_meter meter(state);
  for (auto _ : state) x = co_await add_one(x);
  meter.report(1);
  benchmark::DoNotOptimize(x);
}

void BM_inline_await(benchmark::State& state) { run_body(state, inline_await_body); }
BENCHMARK(BM_inline_await)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Concurrent sleepers: one iteration spawns N tasks, each sleeping its own xorshift delay (the
// peers' sequence), and joins them all. Operation: one sleeper. heap_B_per_sleeper counts, at
// the peak, the join_handle in the vector and what the loop grows on the heap (its ready ring);
// not the frame or the task record, which come from the frame cache's arenas.
//   manual clock: delays 0–100 ms as in the peer harness; autojump makes it CPU-bound.
//   real clock:   delays 0–1 ms, so the ~1 ms of real waiting is small next to the work.

corio::task<void> sleepers_body(benchmark::State& state, std::uint64_t modulus_us) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto delays = xorshift_delays(n, modulus_us);
  std::vector<corio::join_handle<void>> handles;
  handles.reserve(n);
  const std::int64_t base = alloc::live_bytes();
  alloc::reset_peak();
  auto round = [&]() -> corio::task<void> {
    for (const corio::duration d : delays) handles.push_back(corio::spawn(sleep_for(d)));
    for (auto& h : handles) co_await h;
    handles.clear();
  };
  co_await round();  // the first round is the one that takes memory from the heap
  op_meter meter(state);
  for (auto _ : state) co_await round();
  meter.report(static_cast<double>(n));
  state.counters["heap_B_per_sleeper"] =
      static_cast<double>(alloc::peak_bytes() - base + static_cast<std::int64_t>(n * sizeof(handles[0]))) /
      static_cast<double>(n);
}

corio::task<void> sleepers_manual_body(benchmark::State& state) { return sleepers_body(state, 100'001); }
corio::task<void> sleepers_real_body(benchmark::State& state) { return sleepers_body(state, 1'001); }

void BM_sleepers_manual_clock(benchmark::State& state) { run_body(state, sleepers_manual_body, manual_clock()); }
void BM_sleepers_real_clock(benchmark::State& state) { run_body(state, sleepers_real_body); }
BENCHMARK(BM_sleepers_manual_clock)->Arg(100000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sleepers_real_clock)->Arg(100000)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
