// runtime/testing_cancel.hpp — cancellation at every await: runs a scenario once to count its
// suspension points, then once more per point, cancelling it there, and checks each time that
// nothing was swallowed, lost or leaked. Not part of <corio.hpp>: include it from test files.
//
//   struct state { corio::queue<int> q; std::vector<int> produced, consumed; };
//   auto report = corio::testing::cancel_at_every_await<state>(
//       [](state& s) -> corio::task<> { ... the scenario, using only s and its own frames ... },
//       [](state& s, const corio::testing::cancel_run& run) { ... EXPECT_* the invariants ... });
//   EXPECT_EQ(report.surfaced, report.suspension_points);
//
// What "the k-th suspension point" means. Every run uses a fresh loop with event_interval = 1,
// so each turn resumes at most one task, and the loop counts resumptions (the root's start is
// the first; a child's start, a wake-up after a timer, I/O or another task count alike). Run 0
// is not cancelled: its resumption count is N, the scenario's suspension points. Run k (1..N)
// cancels the root task just before the k-th resumption, i.e. while the scenario is suspended
// at its k-th suspension point: k = 1 cancels it before it ever ran. Only the root is cancelled;
// the scenario must own everything it starts (gather, task_group, join_handles it awaits), so
// the cancellation reaches every child through its owner, as it would in a program.
// Suspensions that complete without the loop (an await that finds its data ready) are not
// points: cancellation is delivered only when a task really suspends.
//
// Each run k must end in one of these ways, and the report counts them:
//   * surfaced: the root ended with corio::cancelled (the only outcome allowed when the root
//     was parked, or not yet started, when it was cancelled, or when any corio::cancelled was
//     thrown in the scenario after the cancel);
//   * finished_first: the root was queued to resume (its wake-up was on its way) when cancelled,
//     resumed without a corio::cancelled, and finished without suspending again, so no
//     suspension point was left to deliver the cancellation at: legitimate, and the check sees
//     the finished state;
//   * not_reached: the run finished in fewer than k resumptions. Scenarios on the manual clock
//     without I/O repeat exactly, so this stays 0; over real sockets the kernel's timing
//     moves a few points (an EAGAIN one run, data ready the next), so it may be small, not 0.
// Any other ending fails the test: an exception other than corio::cancelled, a hang, or a value
// returned although the root was parked when cancelled or a corio::cancelled was thrown after
// the cancel (a swallowed cancellation: detail::cancellations_thrown() counts the throws). A
// scenario that cancels work of its own on purpose (timeout(), when_any) inside the cancelled
// root is judged the same way, which is right as long as it lets corio::cancelled through.
// After every run (0 included): no task may still be alive when the root has finished (nothing
// outlives its owner), and after the loop's shutdown no timer or registration may remain; the
// check runs (with the loop still alive); and once the loop and the state are destroyed, the
// process must hold exactly the descriptors it held before the run (Linux: /proc/self/fd).
// Frames are not counted separately: every frame belongs to a task the loop counts.
//
// Limits, stated honestly: a hang inside a run that waits on I/O that never comes (no timer)
// blocks in the poller and is stopped only by ctest's timeout; the count assumes one scenario
// per process thread (the loop is made here); the shuffle has no effect with event_interval 1.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "errors.hpp"
#include "event_loop.hpp"
#include "run.hpp"
#include "source_location.hpp"
#include "spawn.hpp"
#include "task.hpp"
#include "testing.hpp"

namespace corio::testing {

/// How one run ended (see the top).
enum class cancel_outcome { completed, surfaced, finished_first, not_reached, failed };

/// What the invariant check is told about the run it checks.
struct cancel_run {
  std::size_t point = 0;  // k: cancelled before the k-th resumption; 0 for the uncancelled run
  std::size_t suspension_points = 0;  // N (0 while run 0 itself is being checked)
  cancel_outcome outcome = cancel_outcome::completed;
  /// Did the root end with corio::cancelled?
  [[nodiscard]] bool cancelled() const noexcept { return outcome == cancel_outcome::surfaced; }
};

struct cancel_report {
  std::size_t suspension_points = 0;  // N, from run 0
  std::size_t surfaced = 0;
  std::size_t finished_first = 0;
  std::size_t not_reached = 0;
};

struct cancel_options {
  /// Manual autojump by default: timers cost no real time and runs repeat exactly.
  bool real_clock = false;
  /// Per run, checked between turns.
  std::chrono::steady_clock::duration real_limit = std::chrono::seconds(20);
  /// Refuses scenarios longer than this many suspension points (N + 1 runs would take too long).
  std::size_t max_points = 5000;
};

namespace detail {

/// Descriptors this process holds now, or 0 where /proc/self/fd does not exist.
inline std::size_t open_descriptor_count() {
  std::error_code error;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end; it.increment(error)) ++n;
  return error ? 0 : n;
}

/// What was true when the cancellation was sent, for judge().
struct cancel_delivery {
  bool sent = false;
  bool must_surface = false;            // the root was parked, or not started yet
  std::uint64_t throws_at_cancel = 0;   // detail::cancellations_thrown() then
};

/// Steps `loop` one resumption at a time until `root` finished, cancelling it before the
/// `point`-th resumption (0: never), as recorded in `delivery`. Returns false on a hang.
inline bool step_until_done(event_loop& loop, join_handle<void>& root, std::size_t point, const cancel_options& opts,
                            cancel_delivery& delivery) {
  const auto real_start = std::chrono::steady_clock::now();
  const corio::detail::stop_loop_when_done stopper(loop, root.state());
  while (!root.done()) {
    if (point != 0 && !delivery.sent && loop.resumptions() == point - 1) {
      delivery.must_surface = point == 1 || root.state()->current_wait() != nullptr;
      delivery.throws_at_cancel = corio::detail::cancellations_thrown();
      root.cancel();
      delivery.sent = true;
    }
    if (!loop.run_once() && !root.done()) {
      ADD_FAILURE() << "hang: the scenario waits but nothing can wake it; live tasks: "
                    << corio::detail::describe_live_tasks(loop);
      return false;
    }
    if (std::chrono::steady_clock::now() - real_start > opts.real_limit) {
      ADD_FAILURE() << "hang: the scenario ran past its real time limit";
      return false;
    }
  }
  return true;
}

/// Classifies how the finished root ended (see the top); reports the forbidden endings.
inline cancel_outcome judge(join_handle<void>& root, std::size_t point, const cancel_delivery& delivery) {
  try {
    root.result();
  } catch (const cancelled&) {
    if (delivery.sent) return cancel_outcome::surfaced;
    ADD_FAILURE() << "the scenario ended with corio::cancelled that nobody asked for";
    return cancel_outcome::failed;
  } catch (...) {
    ADD_FAILURE() << "the scenario failed: " << corio::detail::describe_exception(std::current_exception());
    return cancel_outcome::failed;
  }
  if (point == 0) return cancel_outcome::completed;
  if (!delivery.sent) return cancel_outcome::not_reached;
  if (delivery.must_surface) {
    ADD_FAILURE() << "cancellation swallowed: the scenario was parked when cancelled, yet returned normally";
    return cancel_outcome::failed;
  }
  if (corio::detail::cancellations_thrown() != delivery.throws_at_cancel) {
    ADD_FAILURE() << "cancellation swallowed: corio::cancelled was thrown in the scenario after the cancel, "
                     "yet it returned normally";
    return cancel_outcome::failed;
  }
  return cancel_outcome::finished_first;
}

/// One run: a fresh state and loop; returns its outcome and sets `resumptions` to the count.
template <class State, class Scenario, class Check>
cancel_outcome run_cancelled_at(Scenario& scenario, Check& check, cancel_run run, const cancel_options& opts,
                                corio::source_location where, std::uint64_t& resumptions) {
  const std::size_t descriptors_before = open_descriptor_count();
  {
    State state{};
    event_loop loop({.clock = opts.real_clock ? corio::clock::steady() : corio::clock::manual(), .event_interval = 1});
    join_handle<void> root = corio::detail::spawn_on(loop, scenario(state), "scenario", where);
    cancel_delivery delivery;
    const bool finished = step_until_done(loop, root, run.point, opts, delivery);
    resumptions = loop.resumptions();
    run.outcome = finished ? judge(root, run.point, delivery) : cancel_outcome::failed;
    if (finished) {
      EXPECT_EQ(loop.live_tasks(), 0u) << "the scenario finished but left tasks running: "
                                       << corio::detail::describe_live_tasks(loop);
    }
    loop.shutdown();
    expect_loop_is_empty(loop);
    if (finished) check(state, run);
  }
  EXPECT_EQ(open_descriptor_count(), descriptors_before) << "descriptors leaked";
  return run.outcome;
}

}  // namespace detail

/// Runs `scenario` (State& -> task<>) N + 1 times as described at the top, calling
/// `check(State&, const cancel_run&)` after each run; failures name the run's point.
template <class State, class Scenario, class Check>
cancel_report cancel_at_every_await(Scenario scenario, Check check, cancel_options opts = {},
                                    corio::source_location where = corio::source_location::current()) {
  cancel_report report;
  std::uint64_t resumptions = 0;
  {
    SCOPED_TRACE("the uncancelled run");
    if (detail::run_cancelled_at<State>(scenario, check, cancel_run{}, opts, where, resumptions) !=
        cancel_outcome::completed)
      return report;
  }
  if (resumptions > opts.max_points) {
    ADD_FAILURE() << "the scenario has " << resumptions << " suspension points, more than max_points";
    return report;
  }
  report.suspension_points = static_cast<std::size_t>(resumptions);
  const bool failed_before = ::testing::Test::HasFailure();
  for (std::size_t k = 1; k <= report.suspension_points; ++k) {
    SCOPED_TRACE("cancelled at suspension point " + std::to_string(k) + " of " +
                 std::to_string(report.suspension_points));
    const cancel_run run{.point = k, .suspension_points = report.suspension_points};
    switch (detail::run_cancelled_at<State>(scenario, check, run, opts, where, resumptions)) {
      case cancel_outcome::surfaced: ++report.surfaced; break;
      case cancel_outcome::finished_first: ++report.finished_first; break;
      case cancel_outcome::not_reached: ++report.not_reached; break;
      case cancel_outcome::completed:
      case cancel_outcome::failed: break;
    }
    if (!failed_before && ::testing::Test::HasFailure()) break;  // one failing point is enough to read
  }
  std::printf("[ cancel   ] %zu suspension points: %zu surfaced, %zu finished first, %zu not reached\n",
              report.suspension_points, report.surfaced, report.finished_first, report.not_reached);
  return report;
}

}  // namespace corio::testing
