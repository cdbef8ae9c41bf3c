// runtime/debug.hpp — debug mode: what the loop watches for when it is on, and how to turn it on.
//
// Debug mode is asyncio's debug mode (PYTHONASYNCIODEBUG). It is off by default; turn it on
// with CORIO_DEBUG=1 in the environment, or for one loop with
// event_loop::options{.debug = corio::debug_mode::on}. While it is on:
//
//   * Slow resumptions. Every resumption is timed with the steady clock (real time, whatever
//     clock the loop uses). One that keeps the loop busy longer than options::slow_resumption
//     (100 ms by default, asyncio's slow_callback_duration) is logged as a warning naming the
//     task (id, name, spawn site) and its await chain at the moment it resumed. The warning
//     comes after the fact: a coroutine cannot be preempted, so a blocking call is reported
//     once it returns, never interrupted.
//   * Coroutines never awaited. A task<T> destroyed without having been awaited or spawned (its
//     body never ran) is logged as a warning with the coroutine's file and line (asyncio's
//     "coroutine ... was never awaited"). On a thread where no loop is running, CORIO_DEBUG
//     alone decides.
//   * Metrics. loop.metrics().longest_resumption and .slow_resumptions are measured only then.
//
// Exceptions nobody retrieved are logged whether debug mode is on or not (task_state.hpp).
// Cost while off: one predictable branch per resumption (a flag debug mode shares with the
// shuffle and tracing), and one per task<T> destroyed. Cost while on: two clock reads and a
// raw copy of the await chain per resumption (resumption_record); the chain is formatted only
// for a resumption that was slow. docs/debugging.md gives the numbers (bench/overhead.cpp).
// Nothing here throws; the log lines go through spdlog's "corio" logger (log.hpp), at level
// warn, which is shown by default.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../timers/clock.hpp"
#include "source_location.hpp"

namespace corio {

/// event_loop::options::debug.
enum class debug_mode : unsigned char {
  from_environment,  // on when the environment has CORIO_DEBUG=1, else off
  off,
  on,
};

namespace detail {

class promise_base;
class task_state;

/// Is CORIO_DEBUG=1 in the environment? Read once per process.
[[nodiscard]] bool debug_requested_by_environment() noexcept;

/// What debug mode notes about a task just before resuming it, so that a slow resumption can be
/// described afterwards, when the frames it resumed in (and the task record) may be gone.
/// capture() copies raw facts only — the task's id, name, spawn site, and each frame's file,
/// function and line — without allocating or formatting: every resumption pays for it, while
/// describe() runs only for the rare slow one.
class resumption_record {
 public:
  /// Notes `t`, a task about to be resumed. A chain deeper than kept_frames keeps its
  /// outermost frames and its innermost one; a name longer than kept_name is cut.
  void capture(const task_state& t) noexcept;
  /// "task #3 'fetch' spawned at a.cpp:12, resumed in f at a.cpp:20 -> in g at b.cpp:31: ready
  /// to run": the task and its await chain as describe_await_chain (await_chain.hpp) would
  /// have printed them at capture(), on one line. Out of memory, it returns an empty string.
  [[nodiscard]] std::string describe() const noexcept;

 private:
  static constexpr std::size_t kept_frames = 16;
  static constexpr std::size_t kept_name = 64;
  struct frame_site {
    const char* file;
    const char* function;
    std::uint_least32_t line;  // 0: the frame had not reached a co_await yet
  };

  std::uint32_t task_id_ = 0;
  corio::source_location spawn_site_;
  std::size_t name_length_ = 0;  // of the whole name; only kept_name characters are kept
  std::array<char, kept_name> name_;  // left uninitialised: capture() fills what it uses
  std::size_t depth_ = 0;  // frames in the chain; the last one kept is always the innermost
  std::array<frame_site, kept_frames> frames_;
  bool parked_ = false;  // on a waiter (not expected for a task in the ready queue)
};

/// Logs that one resumption of the task described by `resumed` (resumption_record) kept the
/// loop busy for `took`, longer than `threshold`.
void warn_slow_resumption(const std::string& resumed, duration took, duration threshold) noexcept;

/// task<T>'s destructor found a frame that was never awaited nor spawned: warns if debug mode
/// is on (the running loop's setting, or CORIO_DEBUG off a loop).
void report_never_awaited(const promise_base& frame) noexcept;

}  // namespace detail
}  // namespace corio
