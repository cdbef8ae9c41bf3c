// runtime/timeout.hpp — time limits: corio::timeout and corio::timeout_at (asyncio.timeout,
// trio.fail_after).
//
//   try {
//     auto page = co_await corio::timeout(2s, fetch(url));
//   } catch (const corio::timeout_error& e) {
//     // e.what(): "corio::timeout: the 2.000 s limit set at fetch.cpp:12 (in main) expired after 2.000 s"
//   }
//
// The work runs inline in the awaiting task, inside a cancel scope with a deadline. When the
// deadline passes, the scope is cancelled: the work's current suspension throws
// corio::cancelled, the work unwinds completely (a gather inside it cancels and waits for its
// children), and only then does timeout() throw corio::timeout_error.
//
// Contract:
//   * Never early: the limit fires at the first turn at which loop.now() >= deadline. Work
//     that finishes first returns its value, and the timer is disarmed (no exception, no
//     allocation: the timer node lives in this coroutine's frame).
//   * Nested limits: the earliest deadline fires first, and only the limit that fired turns
//     into timeout_error; an outer limit sees a timeout_error from an inner one as an ordinary
//     exception passing through. A cancellation from outside (an outer scope, join_handle::
//     cancel) is never reported as a timeout: it propagates as corio::cancelled, even if the
//     deadline passed at the same time.
//   * Work that swallows the cancellation and finishes anyway returns its value: the limit
//     only ever reports work that it actually stopped.
//   * What the interrupted wait leaves behind is that awaitable's own cancellation contract.
#pragma once

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cancel_scope.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "sleep.hpp"
#include "source_location.hpp"
#include "task.hpp"

namespace corio {

/// The time limit of a timeout()/timeout_at() expired and stopped the work.
class timeout_error : public std::runtime_error {
 public:
  timeout_error(corio::source_location where, duration limit, duration elapsed)
      : std::runtime_error(describe(where, limit, elapsed)), where_(where), limit_(limit), elapsed_(elapsed) {}

  /// Where the limit that fired was set.
  [[nodiscard]] const corio::source_location& where() const noexcept { return where_; }
  /// The limit as given (for timeout_at: the time from the call to the deadline).
  [[nodiscard]] duration limit() const noexcept { return limit_; }
  /// How long the work had run when the limit stopped it.
  [[nodiscard]] duration elapsed() const noexcept { return elapsed_; }

 private:
  static std::string describe(const corio::source_location& where, duration limit, duration elapsed) {
    char text[512];
    std::snprintf(text, sizeof text, "corio::timeout: the %.3f s limit set at %s:%u (in %s) expired after %.3f s",
                  std::chrono::duration<double>(limit).count(), where.file_name(), static_cast<unsigned>(where.line()),
                  where.function_name(), std::chrono::duration<double>(elapsed).count());
    return text;
  }

  corio::source_location where_;
  duration limit_;
  duration elapsed_;
};

namespace detail {

/// A cancel scope that cancels itself when its deadline passes.
class deadline_scope final : public timer_entry {
 public:
  deadline_scope(event_loop& loop, time_point deadline) : loop_(loop) { loop.arm(*this, deadline); }
  deadline_scope(const deadline_scope&) = delete;
  deadline_scope& operator=(const deadline_scope&) = delete;
  ~deadline_scope() {
    if (armed()) loop_.disarm(*this);
  }

  void on_fire() noexcept override {
    fired_ = true;
    scope.cancel();
  }

  [[nodiscard]] bool fired() const noexcept { return fired_; }

  cancel_scope scope;

 private:
  event_loop& loop_;
  bool fired_ = false;
};

}  // namespace detail

namespace detail {

/// The limit to put on some work: an absolute deadline, or a duration counted from the moment
/// the work starts (so that `auto t = timeout(1s, f()); ...; co_await std::move(t);` gives f a
/// full second).
struct time_limit {
  bool relative;
  duration length;
  time_point deadline;
};

/// The one coroutine behind timeout() and timeout_at(): a frame of its own, no more.
template <class T>
task<T> run_with_limit(time_limit limit, task<T> work, corio::source_location where) {
  detail::task_state& t = co_await detail::this_task{};
  event_loop& loop = t.loop();
  const time_point start = loop.now();
  const time_point deadline = limit.relative ? saturating_add(start, limit.length) : limit.deadline;
  {
    deadline_scope scope_with_timer(loop, deadline);
    scope_entry entry(scope_with_timer.scope, t);
    try {
      co_return co_await std::move(work);
    } catch (const cancelled&) {
      if (!scope_with_timer.fired()) throw;  // cancelled from outside, not by this limit
    }
  }
  if (t.cancel_requested()) throw_cancelled();  // an outer cancellation came too: it wins
  throw timeout_error(where, deadline - start, loop.now() - start);
}

}  // namespace detail

/// Runs `work`, stopping it with corio::timeout_error if it has not finished by `deadline`.
template <class T>
[[nodiscard]] task<T> timeout_at(time_point deadline, task<T> work,
                                 corio::source_location where = corio::source_location::current()) {
  return detail::run_with_limit(detail::time_limit{false, {}, deadline}, std::move(work), where);
}

/// Runs `work`, stopping it with corio::timeout_error if it takes longer than `limit`
/// (counted from when the work starts).
template <class T, class Rep, class Period>
[[nodiscard]] task<T> timeout(std::chrono::duration<Rep, Period> limit, task<T> work,
                              corio::source_location where = corio::source_location::current()) {
  return detail::run_with_limit(detail::time_limit{true, std::chrono::ceil<duration>(limit), {}}, std::move(work),
                                where);
}

}  // namespace corio
