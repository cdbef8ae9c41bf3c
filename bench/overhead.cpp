// bench/overhead.cpp — fixed-work programs for counting what the hot paths cost, in
// instructions (callgrind) or in wall time (Google Benchmark), before and after a change.
//
//   corio_overhead MODE N [--debug] [--trace]    MODE: inline | yield | spawn | sleep
//   corio_overhead bench [--benchmark_...]       the same four as Google Benchmarks
//
// Each MODE repeats one operation N times on a fresh loop and prints one line:
//   inline  co_await of a task that finishes without suspending (a frame, one co_await)
//   yield   two tasks taking turns through corio::yield() (per iteration: one yield of each)
//   spawn   spawn a task that returns at once, then co_await its join_handle
//   sleep   sleep(1 ns) on a manual autojump clock: park on a timer, fire, resume
// --debug turns debug mode on (event_loop::options::debug), --trace attaches a trace_recorder;
// a tree without those features ignores them with a message (see below).
//
// scripts/overhead.sh builds this one file against libcorio at two revisions and runs both
// under callgrind at two sizes: instructions per iteration = (count(2N) - count(N)) / N, which
// cancels start-up and teardown. The file must therefore compile against older trees too
// (bddec2a, before the debugging records): newer APIs are guarded with __has_include.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "../corio.hpp"

#if __has_include("../runtime/trace.hpp")
#define CORIO_OVERHEAD_HAS_TRACE 1
#include "../runtime/trace.hpp"
#endif
#if __has_include("../runtime/debug.hpp")
#define CORIO_OVERHEAD_HAS_DEBUG 1
#endif

namespace {

using namespace std::chrono_literals;

std::uint64_t g_counter = 0;  // the work each operation does, so nothing is optimised away

corio::task<void> increment() {
  ++g_counter;
  co_return;
}

corio::task<void> inline_body(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) co_await increment();
}

corio::task<void> yielder(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) co_await corio::yield();
}

corio::task<void> yield_body(std::uint64_t n) {
  corio::join_handle<void> first = corio::spawn(yielder(n));
  corio::join_handle<void> second = corio::spawn(yielder(n));
  co_await std::move(first);
  co_await std::move(second);
}

corio::task<void> spawn_body(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) co_await corio::spawn(increment());
}

corio::task<void> sleep_body(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) co_await corio::sleep(1ns);
}

// Attaches a recorder to the running loop for the life of the workload, when asked to.
class maybe_trace {
 public:
  explicit maybe_trace([[maybe_unused]] bool on) {
#ifdef CORIO_OVERHEAD_HAS_TRACE
    if (on) recorder_.attach(*corio::event_loop::current());
#endif
  }

 private:
#ifdef CORIO_OVERHEAD_HAS_TRACE
  corio::trace_recorder recorder_;
#endif
};

struct workload {
  std::string_view name;
  corio::task<void> (*body)(std::uint64_t);
  bool manual_clock;
};

constexpr workload workloads[] = {
    {"inline", inline_body, false},
    {"yield", yield_body, false},
    {"spawn", spawn_body, false},
    {"sleep", sleep_body, true},
};

struct settings {
  bool debug = false;
  bool trace = false;
};

corio::event_loop::options loop_options(const workload& w, const settings& s) {
  corio::event_loop::options opts;
  if (w.manual_clock) opts.clock = corio::clock::manual(corio::time_point{}, /*autojump=*/true);
#ifdef CORIO_OVERHEAD_HAS_DEBUG
  opts.debug = s.debug ? corio::debug_mode::on : corio::debug_mode::off;
#else
  (void)s;
#endif
  return opts;
}

corio::task<void> traced(const workload& w, std::uint64_t n, bool trace) {
  const maybe_trace recorder(trace);
  co_await w.body(n);
}

// Runs `n` operations of `w` as the main task of a fresh loop; returns the seconds they took
// (the loop's construction and teardown excluded).
double run_workload(const workload& w, std::uint64_t n, const settings& s) {
  std::chrono::steady_clock::time_point start;
  auto timed = [&]() -> corio::task<void> {
    start = std::chrono::steady_clock::now();
    co_await traced(w, n, s.trace);
  };
  std::chrono::steady_clock::time_point end;
  auto main_task = [&]() -> corio::task<void> {
    co_await timed();
    end = std::chrono::steady_clock::now();
  };
  corio::run(main_task(), loop_options(w, s));
  return std::chrono::duration<double>(end - start).count();
}

const workload* find_workload(std::string_view name) {
  for (const workload& w : workloads)
    if (w.name == name) return &w;
  return nullptr;
}

// ---- Google Benchmark: each iteration is one fresh loop running 10,000 operations ----

constexpr std::uint64_t ops_per_iteration = 10'000;

void bm_workload(benchmark::State& state, const workload* w) {
  double seconds = 0;
  for (auto _ : state) {
    const double took = run_workload(*w, ops_per_iteration, settings{});
    state.SetIterationTime(took);
    seconds += took;
  }
  const auto ops = static_cast<double>(state.iterations() * ops_per_iteration);
  state.counters["ns_per_op"] = seconds * 1e9 / ops;
}

int run_benchmarks(int argc, char** argv) {
  for (const workload& w : workloads)
    benchmark::RegisterBenchmark(std::string("BM_").append(w.name).c_str(), bm_workload, &w)->UseManualTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

int usage() {
  std::fputs("usage: corio_overhead inline|yield|spawn|sleep N [--debug] [--trace]\n"
             "       corio_overhead bench [--benchmark_...]\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "bench") == 0) return run_benchmarks(argc - 1, argv + 1);
  if (argc < 3) return usage();
  const workload* w = find_workload(argv[1]);
  char* end = nullptr;
  const std::uint64_t n = std::strtoull(argv[2], &end, 10);
  if (w == nullptr || end == argv[2] || *end != '\0') return usage();
  settings s;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--debug") == 0) s.debug = true;
    else if (std::strcmp(argv[i], "--trace") == 0) s.trace = true;
    else return usage();
  }
#ifndef CORIO_OVERHEAD_HAS_DEBUG
  if (s.debug) std::fputs("corio_overhead: this tree has no debug mode; --debug ignored\n", stderr);
#endif
#ifndef CORIO_OVERHEAD_HAS_TRACE
  if (s.trace) std::fputs("corio_overhead: this tree has no trace recorder; --trace ignored\n", stderr);
#endif
  const double seconds = run_workload(*w, n, s);
  std::printf("%s n=%llu %.1f ns/op counter=%llu\n", argv[1], static_cast<unsigned long long>(n),
              seconds * 1e9 / static_cast<double>(n), static_cast<unsigned long long>(g_counter));
  return 0;
}
