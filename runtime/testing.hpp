// runtime/testing.hpp — testing async code with GoogleTest (pytest-asyncio's role).
// Not part of <corio.hpp>: include it from test files, which link GoogleTest.
//
//   CORIO_TEST(timeouts, a_slow_reply_is_abandoned_after_30_seconds) {
//     auto start = corio::event_loop::current()->now();
//     co_await corio::sleep(30s);                        // takes microseconds of real time
//     EXPECT_EQ(corio::event_loop::current()->now() - start, 30s);
//   }
//
// The body runs as a task on a fresh loop whose clock is manual with autojump: when every
// task waits on a timer, virtual time jumps straight to the next deadline. The test fails:
//   * on a hang — nothing could ever wake the body, or it ran past `virtual_limit` of virtual
//     time or `real_limit` of real time (checked between turns: a body that spins forever
//     without suspending cannot be stopped, only reported by the ctest timeout);
//   * if the body leaves tasks running when it finishes (each is named, with its spawn site;
//     not when it failed already: the handles it dropped cancelled their tasks, which end in
//     shutdown);
//   * if, after the loop cancelled and drained what was left, any task, timer or descriptor
//     registration remains;
//   * with the body's exception, which is rethrown for GoogleTest to report.
// When the ready-queue shuffle is on (CORIO_SHUFFLE_SEED, see event_loop::options), every
// failure message of the test carries the seed, so the failing order can be replayed.
// Inside the body use EXPECT_*, or CORIO_ASSERT(condition) to stop the test: ASSERT_* expands
// to a plain `return`, which a coroutine cannot contain.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include "source_location.hpp"

#include "errors.hpp"
#include "event_loop.hpp"
#include "run.hpp"
#include "spawn.hpp"
#include "task.hpp"

namespace corio::testing {

struct options {
  duration virtual_limit = std::chrono::hours(24 * 365 * 100);  // a century: far-future timers are legitimate
  std::chrono::steady_clock::duration real_limit = std::chrono::seconds(60);
  corio::clock clock = corio::clock::manual();
  /// event_loop::options::shuffle_seed: unset follows CORIO_SHUFFLE_SEED; 0 pins FIFO order.
  std::optional<std::uint64_t> shuffle_seed = std::nullopt;
};

/// Options for a body about real elapsed time (sleeps or timeouts that must really pass, real
/// I/O that must really arrive): the steady clock, no autojump, and a 20-second hang limit.
inline options real_time() {
  options opts;
  opts.clock = corio::clock::steady();
  opts.real_limit = std::chrono::seconds(20);
  return opts;
}

/// Checks that `loop` holds no task, timer or registration (every fixture's TearDown).
inline void expect_loop_is_empty(const event_loop& loop) {
  EXPECT_EQ(loop.live_tasks(), 0u) << "live tasks: " << detail::describe_live_tasks(loop);
  EXPECT_EQ(loop.armed_timers(), 0u) << "timers left armed";
  EXPECT_EQ(loop.registrations(), 0u) << "descriptors left registered";
}

namespace detail {

// Drives the loop until `main` is done or a hang is detected; returns false on a hang.
inline bool drive(event_loop& loop, const join_handle<void>& main, const options& opts) {
  const auto real_start = std::chrono::steady_clock::now();
  const time_point virtual_start = loop.now();
  const corio::detail::stop_loop_when_done stopper(loop, main.state());
  while (!main.done()) {
    if (!loop.run_once() && !main.done()) {
      ADD_FAILURE() << "hang: the test body waits but nothing can wake it; live tasks: "
                    << corio::detail::describe_live_tasks(loop);
      return false;
    }
    if (loop.now() - virtual_start > opts.virtual_limit) {
      ADD_FAILURE() << "hang: the test body ran past its virtual time limit";
      return false;
    }
    if (std::chrono::steady_clock::now() - real_start > opts.real_limit) {
      ADD_FAILURE() << "hang: the test body ran past its real time limit";
      return false;
    }
  }
  return true;
}

/// Adds the shuffle seed to every failure reported while the result lives (nothing when off).
inline std::unique_ptr<::testing::ScopedTrace> trace_shuffle_seed(const event_loop& loop) {
  if (loop.shuffle_seed() == 0) return nullptr;
  const std::string seed = std::to_string(loop.shuffle_seed());
  return std::make_unique<::testing::ScopedTrace>(__FILE__, __LINE__,
                                                  "ready-queue shuffle seed " + seed + " (replay: CORIO_SHUFFLE_SEED=" + seed + ")");
}

}  // namespace detail

inline void run_test(task<> body, options opts = {}, corio::source_location where = corio::source_location::current()) {
  event_loop loop({.clock = opts.clock, .shuffle_seed = opts.shuffle_seed});
  const auto seed_note = detail::trace_shuffle_seed(loop);
  join_handle<void> main = corio::detail::spawn_on(loop, std::move(body), "test body", where);
  const bool finished = detail::drive(loop, main, opts);
  // A body that failed (it threw, or stopped at a CORIO_ASSERT) dropped its join handles on the
  // way out, which cancels their tasks: they end on the loop's next turns, not leaked
  // (shutdown() runs them, and the checks below catch anything that outlives it). Its own
  // failure is the one to report; a body that passed must have joined what it spawned.
  const bool failed = main.state()->failed() || ::testing::Test::HasFailure();
  if (finished && !failed && loop.live_tasks() != 0)
    ADD_FAILURE() << "the test body finished but left tasks running: " << corio::detail::describe_live_tasks(loop);
  loop.shutdown();
  expect_loop_is_empty(loop);
  if (!finished) return;
  try {
    main.result();
  } catch (const cancelled&) {
    ADD_FAILURE() << "the test body ended with corio::cancelled";
  }
}

/// Options that keep the ready queue FIFO even under CORIO_SHUFFLE_SEED: for a test that watches
/// an order corio documents (waiters woken in the order they waited) through the order in which
/// the woken tasks run, which is otherwise not promised.
inline options fifo_order() {
  options opts;
  opts.shuffle_seed = 0;
  return opts;
}

}  // namespace corio::testing

/// ASSERT_* cannot be used in a coroutine (it expands to `return`); this is the co_return form.
#define CORIO_ASSERT(condition)                                         \
  if (!(condition)) {                                                  \
    ADD_FAILURE() << "assertion failed: " #condition;                  \
    co_return;                                                         \
  } else                                                               \
    (void)0

/// CORIO_TEST run with `opts`, an expression of type corio::testing::options.
#define CORIO_TEST_WITH(suite, name, opts)                                                       \
  static ::corio::task<> corio_test_body_##suite##_##name();                                     \
  TEST(suite, name) { ::corio::testing::run_test(corio_test_body_##suite##_##name(), (opts)); } \
  static ::corio::task<> corio_test_body_##suite##_##name()

/// Defines a GoogleTest test whose body is a coroutine (it may co_await) run by run_test().
#define CORIO_TEST(suite, name)                                                 \
  static ::corio::task<> corio_test_body_##suite##_##name();                    \
  TEST(suite, name) { ::corio::testing::run_test(corio_test_body_##suite##_##name()); } \
  static ::corio::task<> corio_test_body_##suite##_##name()

/// CORIO_TEST on the steady clock (options real_time()): for bodies that sleep or time out for
/// real, or wait for real I/O.
#define CORIO_REAL_TIME_TEST(suite, name)                                                   \
  static ::corio::task<> corio_test_body_##suite##_##name();                                \
  TEST(suite, name) {                                                                       \
    ::corio::testing::run_test(corio_test_body_##suite##_##name(), ::corio::testing::real_time()); \
  }                                                                                         \
  static ::corio::task<> corio_test_body_##suite##_##name()
