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
// Cost while off: one predictable branch per batch of resumptions, and one per task<T>
// destroyed. Cost while on: two clock reads and one await-chain description per resumption.
// Only describe_await_chain throws (std::bad_alloc); the log lines go through spdlog's "corio" logger (log.hpp), at level
// warn, which is shown by default.
#pragma once

#include <string>

#include "../timers/clock.hpp"

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

/// "task #3 'fetch' spawned at a.cpp:12, resumed in f at a.cpp:20 -> in g at b.cpp:31: ready to
/// run": the task and its await chain (await_chain.hpp, describe_await_chain) on one line.
/// Never throws: the loop calls it between popping a task and resuming it, where an exception
/// would lose the task. Out of memory, it returns an empty string.
[[nodiscard]] std::string describe_resumption(const task_state& t) noexcept;

/// Logs that one resumption of the task described by `resumed` (describe_resumption) kept the
/// loop busy for `took`, longer than `threshold`.
void warn_slow_resumption(const std::string& resumed, duration took, duration threshold) noexcept;

/// task<T>'s destructor found a frame that was never awaited nor spawned: warns if debug mode
/// is on (the running loop's setting, or CORIO_DEBUG off a loop).
void report_never_awaited(const promise_base& frame) noexcept;

}  // namespace detail
}  // namespace corio
