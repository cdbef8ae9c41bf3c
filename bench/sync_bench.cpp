// bench/sync_bench.cpp — what the sync primitives cost: a queue round trip between two tasks,
// a mutex handed from task to task under contention, an event waking 10,000 waiters.
//
//   build/release/bench/sync_bench
//   build/release/bench/sync_bench --benchmark_filter=queue
//
// As in runtime_bench.cpp, the timed loop runs inside the main task of corio::run() on a fresh
// thread, after an untimed warm-up, so what is measured is the steady state of the primitive,
// not the making of a loop. Counters, per operation (each benchmark says what one is):
//   ns_per_op       wall time
//   allocs_per_op   global operator new calls (bench/alloc_counter.hpp replaces it)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

#include "../corio.hpp"
#include "../runtime/mutex.hpp"
#include "../runtime/queue.hpp"
#include "alloc_counter.hpp"
#include "harness.hpp"

namespace {

using corio_bench::op_meter;
using corio_bench::run_body;



constexpr int warm_up_rounds = 1000;

// ---------------------------------------------------------------------------------------------
// Queue ping-pong: main puts a number into `ping`, the partner gets it and puts it into `pong`,
// main gets it back. Both queues are bounded with capacity 1, as Tokio's mpsc::channel(1) in the
// peers' benchmark. Each get parks and is handed the item by the other task's put.
// Operation: one round trip (two puts, two gets, two task switches).

corio::task<void> echo(corio::queue<std::uint64_t>& in, corio::queue<std::uint64_t>& out) {
  try {
    for (;;) co_await out.put(co_await in.get());
  } catch (const corio::queue_shut_down&) {
  }
}

corio::task<void> queue_pingpong_body(benchmark::State& state) {
  corio::queue<std::uint64_t> ping(1);
  corio::queue<std::uint64_t> pong(1);
  auto partner = corio::spawn(echo(ping, pong));
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < warm_up_rounds; ++i) {
    co_await ping.put(i);
    sum += co_await pong.get();
  }
  op_meter m(state);
  for (auto _ : state) {
    co_await ping.put(sum);
    sum += co_await pong.get();
  }
  m.report_total(static_cast<double>(state.iterations()));
  benchmark::DoNotOptimize(sum);
  ping.shutdown();
  co_await partner;
}

void BM_queue_pingpong_capacity_1(benchmark::State& state) { run_body(state, queue_pingpong_body); }
BENCHMARK(BM_queue_pingpong_capacity_1)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Mutex hand-off under contention: N tasks (main included) each lock, yield once while holding
// the lock (so the others queue up behind it), and unlock, which hands the lock to the next in
// line. Operation: one acquisition (one hand-off plus the holder's yield round trip).

struct contention {
  corio::mutex m;
  std::uint64_t acquisitions = 0;
  bool stop = false;
};

corio::task<void> lock_once(contention& c) {
  auto lock = co_await c.m.lock();
  ++c.acquisitions;
  co_await corio::yield();
}

corio::task<void> contender(contention& c) {
  while (!c.stop) co_await lock_once(c);
}

corio::task<void> mutex_handoff_body(benchmark::State& state) {
  contention c;
  std::vector<corio::join_handle<void>> others;
  for (std::int64_t i = 1; i < state.range(0); ++i) others.push_back(corio::spawn(contender(c)));
  for (int i = 0; i < warm_up_rounds; ++i) co_await lock_once(c);
  const std::uint64_t before = c.acquisitions;
  op_meter m(state);
  for (auto _ : state) co_await lock_once(c);
  m.report_total(static_cast<double>(c.acquisitions - before));
  c.stop = true;
  for (auto& t : others) co_await t;
}

void BM_mutex_handoff(benchmark::State& state) { run_body(state, mutex_handoff_body); }
BENCHMARK(BM_mutex_handoff)->ArgName("tasks")->Arg(2)->Arg(8)->Arg(64)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// Event fan-out: 10,000 tasks wait on an event; set() wakes them all, each counts itself in and
// waits for the next round; the last one in tells main. Two events alternate between rounds so
// that a waiter that already passed this round's event parks on the next one.
// Operation: one waiter woken and resumed (one round wakes 10,000).

struct fan_out {
  corio::event go[2];
  corio::event all_in;
  std::int64_t waiters = 0;
  std::int64_t arrived = 0;
  bool stop = false;
};

corio::task<void> fan_out_waiter(fan_out& f) {
  for (std::uint64_t round = 0;; ++round) {
    co_await f.go[round % 2].wait();
    if (f.stop) co_return;
    if (++f.arrived == f.waiters) f.all_in.set();
  }
}

corio::task<void> fan_out_round(fan_out& f, std::uint64_t round) {
  f.go[(round + 1) % 2].clear();  // everyone passed it last round: the next wait parks
  f.arrived = 0;
  f.all_in.clear();
  f.go[round % 2].set();
  co_await f.all_in.wait();
}

corio::task<void> event_fan_out_body(benchmark::State& state) {
  fan_out f;
  f.waiters = state.range(0);
  std::vector<corio::join_handle<void>> waiters;
  waiters.reserve(static_cast<std::size_t>(f.waiters));
  for (std::int64_t i = 0; i < f.waiters; ++i) waiters.push_back(corio::spawn(fan_out_waiter(f)));
  std::uint64_t round = 0;
  for (; round < 10; ++round) co_await fan_out_round(f, round);
  op_meter m(state);
  for (auto _ : state) co_await fan_out_round(f, round++);
  m.report_total(static_cast<double>(state.iterations() * f.waiters));
  f.stop = true;
  f.go[(round + 1) % 2].clear();
  f.go[round % 2].set();
  for (auto& w : waiters) co_await w;
}

void BM_event_fan_out(benchmark::State& state) { run_body(state, event_fan_out_body); }
BENCHMARK(BM_event_fan_out)->ArgName("waiters")->Arg(10000)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
