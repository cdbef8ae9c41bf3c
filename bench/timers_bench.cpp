// Benchmarks for timers/wheel.hpp, named after scenarios:
//   insert_cancel       arm and disarm one timer: the common case of a timeout that is not hit
//   million_insert      libuv's benchmark-million-timers, phase 1: arm 1M timers over ~1 s
//   million_dispatch    phase 2: run the clock in 1 ms steps until all 1M have been released
//   million_cleanup     phase 3 (our variant): 1M still-armed timers destroyed at shutdown
//   churn               a steady state: arm, cancel half, let the rest expire as time moves
// Each reports allocs_per_op, counted by bench/alloc_counter.hpp's replacement of the global
// operator new: the wheel promises to allocate nothing, and the counter checks it rather than
// trusting it.
#include "timers/wheel.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using namespace std::chrono_literals;
using corio::time_point;
using corio::timers::timer_list;
using corio::timers::timer_node;
using corio::timers::wheel;

const time_point t0 = time_point{} + 1h;
constexpr std::size_t million = 1'000'000;

// Counts allocations made while the benchmark's clock runs: what untimed() does is left out of
// both the time and the count.
class alloc_meter {
 public:
  explicit alloc_meter(benchmark::State& state) noexcept
      : state_(state), start_(corio_bench::alloc::calls()) {}

  /// Runs `f` (setup or teardown that is not the operation measured) with the benchmark's clock
  /// and the allocation count both stopped.
  template <class F>
  void untimed(F&& f) {
    state_.PauseTiming();
    const std::uint64_t paused_at = corio_bench::alloc::calls();
    std::forward<F>(f)();
    excluded_ += corio_bench::alloc::calls() - paused_at;
    state_.ResumeTiming();
  }

  void report(double ops) const {
    const auto counted = corio_bench::alloc::calls() - start_ - excluded_;
    state_.counters["allocs_per_op"] = static_cast<double>(counted) / ops;
  }

 private:
  benchmark::State& state_;
  std::uint64_t start_;
  std::uint64_t excluded_ = 0;
};

// libuv's benchmark-million-timers uses timeouts 1..1001 ms, 1000 timers per millisecond.
corio::duration million_timeout(std::size_t i) {
  return std::chrono::milliseconds{1 + static_cast<std::int64_t>(i / 1000)};
}

void insert_million(wheel& w, timer_node* nodes) {
  for (std::size_t i = 0; i < million; ++i) w.insert(nodes[i], t0 + million_timeout(i));
}

void bm_insert_cancel(benchmark::State& state) {
  wheel w(t0);
  timer_node n;
  const auto timeout = std::chrono::milliseconds{state.range(0)};
  alloc_meter allocs(state);
  for (auto _ : state) {
    w.insert(n, t0 + timeout);
    w.cancel(n);
    benchmark::DoNotOptimize(&n);
  }
  allocs.report(static_cast<double>(state.iterations()));
}
// 1 ms lands on level 1, 10 s on level 3, 10 years beyond the range (the held list).
BENCHMARK(bm_insert_cancel)->Name("insert_cancel")->ArgName("timeout_ms")
    ->Arg(1)->Arg(10'000)->Arg(10LL * 365 * 24 * 3600 * 1000);

void bm_million_insert(benchmark::State& state) {
  auto nodes = std::make_unique<timer_node[]>(million);
  alloc_meter allocs(state);
  for (auto _ : state) {
    std::unique_ptr<wheel> w;
    allocs.untimed([&] { w = std::make_unique<wheel>(t0); });
    insert_million(*w, nodes.get());
    allocs.untimed([&] { w.reset(); });  // unlinks the nodes
  }
  allocs.report(static_cast<double>(state.iterations() * million));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * million));
}
BENCHMARK(bm_million_insert)->Name("million_insert")->Unit(benchmark::kMillisecond);

void bm_million_dispatch(benchmark::State& state) {
  auto nodes = std::make_unique<timer_node[]>(million);
  alloc_meter allocs(state);
  for (auto _ : state) {
    std::unique_ptr<wheel> w;
    allocs.untimed([&] {
      w = std::make_unique<wheel>(t0);
      insert_million(*w, nodes.get());
    });
    timer_list out;
    std::size_t fired = 0;
    for (time_point now = t0; !w->empty(); now += 1ms) {
      w->expire(now, out);
      while (timer_node* n = out.pop_front()) {
        benchmark::DoNotOptimize(n);
        ++fired;
      }
    }
    if (fired != million) state.SkipWithError("not every timer fired");
  }
  allocs.report(static_cast<double>(state.iterations() * million));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * million));
}
BENCHMARK(bm_million_dispatch)->Name("million_dispatch")->Unit(benchmark::kMillisecond);

void bm_million_cleanup(benchmark::State& state) {
  alloc_meter allocs(state);
  for (auto _ : state) {
    std::optional<wheel> w;  // in place, as a local wheel would be: only its setup is untimed
    std::unique_ptr<timer_node[]> nodes;
    allocs.untimed([&] {
      w.emplace(t0);
      nodes = std::make_unique<timer_node[]>(million);
      insert_million(*w, nodes.get());
    });
    for (std::size_t i = 0; i < million; ++i) w->cancel(nodes[i]);
    benchmark::DoNotOptimize(w->size());
    allocs.untimed([&] { nodes.reset(); });
  }
  allocs.report(static_cast<double>(state.iterations() * million));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * million));
}
BENCHMARK(bm_million_cleanup)->Name("million_cleanup")->Unit(benchmark::kMillisecond);

// Steady state with 64k timers of 1..100 ms: each op re-arms one timer and cancels every other
// one at once; every 1024 ops the clock moves 1 ms and what is due is released.
void bm_churn(benchmark::State& state) {
  constexpr std::size_t ring = 65'536;
  auto nodes = std::make_unique<timer_node[]>(ring);
  std::vector<corio::duration> timeouts(ring);
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::int64_t> one_to_100_ms(1'000, 100'000);
  for (auto& t : timeouts) t = std::chrono::microseconds{one_to_100_ms(rng)};
  wheel w(t0);
  timer_list out;
  time_point now = t0;
  std::size_t i = 0;
  std::size_t fired = 0;
  alloc_meter allocs(state);
  for (auto _ : state) {
    timer_node& n = nodes[i % ring];
    if (n.armed()) w.cancel(n);
    w.insert(n, now + timeouts[i % ring]);
    if (i % 2 == 1) w.cancel(n);
    if (++i % 1024 == 0) {
      now += 1ms;
      w.expire(now, out);
      while (out.pop_front() != nullptr) ++fired;
    }
  }
  benchmark::DoNotOptimize(fired);
  allocs.report(static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_churn)->Name("churn");

}  // namespace
