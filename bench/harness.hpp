// bench/harness.hpp — what every Google Benchmark binary of corio shares: running a benchmark
// body as the main task of a fresh loop, and turning one timed loop into per-operation counters.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>

#include "../corio.hpp"
#include "alloc_counter.hpp"

namespace corio_bench {

/// Runs `body(state)` as corio::run's main task on a fresh thread, with a fresh loop (each
/// benchmark starts from the same state); a failure of the body skips the benchmark with its
/// message instead of crashing the binary.
template <class Body>
void run_body(benchmark::State& state, Body body, corio::event_loop::options opts = {}) {
  std::exception_ptr error;
  std::thread([&] {
    try {
      corio::run(body(state), opts);
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  } catch (...) {  // corio::cancelled and friends do not derive from std::exception
    state.SkipWithError("the benchmark body ended with a non-std exception");
  }
}

/// Measures one timed loop: construct it just before `for (auto _ : state)`, report just after.
/// Counters: ns_per_op, allocs_per_op (operator new calls, see alloc_counter.hpp) and
/// frame_allocs_per_op (new arenas or oversized frames taken by corio's frame cache).
class op_meter {
 public:
  explicit op_meter(benchmark::State& state) noexcept
      : state_(state), calls0_(alloc::calls()), frames0_(corio::detail::frame_heap_allocations()),
        t0_(std::chrono::steady_clock::now()) {}

  /// `ops_per_iteration`: how many operations one turn of the state loop performs.
  void report(double ops_per_iteration) { report_total(ops_per_iteration * static_cast<double>(state_.iterations())); }

  /// `ops`: how many operations the whole timed loop performed.
  void report_total(double ops) {
    // Read everything first: adding a counter to state_.counters allocates a map node.
    const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - t0_;
    const auto allocs = static_cast<double>(alloc::calls() - calls0_);
    const auto frame_allocs = static_cast<double>(corio::detail::frame_heap_allocations() - frames0_);
    if (ops <= 0) return;
    state_.counters["ns_per_op"] = elapsed.count() / ops;
    state_.counters["allocs_per_op"] = allocs / ops;
    state_.counters["frame_allocs_per_op"] = frame_allocs / ops;
    state_.SetItemsProcessed(static_cast<std::int64_t>(ops));
  }

 private:
  benchmark::State& state_;
  std::uint64_t calls0_;
  std::size_t frames0_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace corio_bench
