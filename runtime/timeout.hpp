// runtime/timeout.hpp — time limits: corio::timeout and corio::timeout_at (asyncio.timeout,
// trio.fail_after).
//
//   try {
//     auto page = co_await corio::timeout(2s, fetch(url));
//   } catch (const corio::timeout_error& e) {
//     // e.what(): "corio::timeout: the 2.000 s limit set at fetch.cpp:12 (in main) expired after
//     //   2.000 s; the task had been parked for 1.200 s at client.cpp:88 (in read_body), waiting
//     //   for fd 7 readable"
//   }
//
// Timeout blame: the error says where the budget went — the await site the task was parked at
// when the deadline fired (its innermost frame, see await_chain.hpp), what it waited for, and
// how long it had been parked there (parked_at(), waiting_for(), parked_for()). While a limit
// is active, each park of the task notes the time (task_state::park: one clock read, only
// inside a timeout). A task that was not parked when the deadline fired (it was in the ready
// queue) is blamed on its last await site with a parked time of zero.
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
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "await_chain.hpp"
#include "cancel_scope.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "sleep.hpp"
#include "source_location.hpp"
#include "task.hpp"

namespace corio {

/// Where a task was when its time limit fired (see "Timeout blame" above).
struct timeout_blame {
  corio::source_location parked_at;  // line 0: unknown
  duration parked_for{};
  std::string waiting_for;
};

/// The time limit of a timeout()/timeout_at() expired and stopped the work.
class timeout_error : public std::runtime_error {
 public:
  using blame = timeout_blame;

  timeout_error(corio::source_location where, duration limit, duration elapsed, blame b = timeout_blame())
      : std::runtime_error(describe(where, limit, elapsed, b)),
        where_(where),
        limit_(limit),
        elapsed_(elapsed),
        blame_(std::make_shared<const blame>(std::move(b))) {}

  /// Where the limit that fired was set.
  [[nodiscard]] const corio::source_location& where() const noexcept { return where_; }
  /// The limit as given (for timeout_at: the time from the call to the deadline).
  [[nodiscard]] duration limit() const noexcept { return limit_; }
  /// How long the work had run when the limit stopped it.
  [[nodiscard]] duration elapsed() const noexcept { return elapsed_; }
  /// The co_await the task was suspended at when the deadline fired (line 0: unknown). In a
  /// coroutine template, g++ names the function with its template arguments ("f<int>").
  [[nodiscard]] const corio::source_location& parked_at() const noexcept { return blame_->parked_at; }
  /// How long it had been parked there when the deadline fired.
  [[nodiscard]] duration parked_for() const noexcept { return blame_->parked_for; }
  /// What it was waiting for there ("fd 7 readable", "sleep, due in 3.000 s", "ready to run").
  [[nodiscard]] const std::string& waiting_for() const noexcept { return blame_->waiting_for; }

 private:
  static std::string describe(const corio::source_location& where, duration limit, duration elapsed, const blame& b) {
    std::string text = "corio::timeout: the " + detail::format_seconds(limit) + " limit set at " +
                       detail::short_site(where) + " (in " + where.function_name() + ") expired after " +
                       detail::format_seconds(elapsed);
    if (b.parked_at.line() == 0) return text;
    return text + "; the task had been parked for " + detail::format_seconds(b.parked_for) + " at " +
           detail::short_site(b.parked_at) + " (in " + std::string(detail::coroutine_name(b.parked_at.function_name())) +
           "), " + b.waiting_for;
  }

  corio::source_location where_;
  duration limit_;
  duration elapsed_;
  std::shared_ptr<const blame> blame_;  // shared: exceptions are copied, and copies must not throw
};

namespace detail {

/// Where task `t` is now, for a timeout_error (out of line: timeout_blame.cpp).
[[nodiscard]] timeout_error::blame blame_of(const task_state& t) noexcept;

/// A cancel scope that cancels itself when its deadline passes, noting first where the task
/// was (timeout blame). While it exists, the task notes the time of each park.
class deadline_scope final : public timer_entry {
 public:
  deadline_scope(task_state& t, time_point deadline) : task_(t) {
    t.loop().arm(*this, deadline);
    t.enter_timed_scope();
  }
  deadline_scope(const deadline_scope&) = delete;
  deadline_scope& operator=(const deadline_scope&) = delete;
  ~deadline_scope() {
    task_.leave_timed_scope();
    if (armed()) task_.loop().disarm(*this);
  }

  void on_fire() noexcept override {
    fired_ = true;
    blame_ = blame_of(task_);
    scope.cancel();
  }

  [[nodiscard]] bool fired() const noexcept { return fired_; }
  [[nodiscard]] timeout_error::blame take_blame() noexcept { return std::move(blame_); }

  cancel_scope scope;

 private:
  task_state& task_;
  timeout_error::blame blame_;
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
  timeout_error::blame blame;
  {
    deadline_scope scope_with_timer(t, deadline);
    scope_entry entry(scope_with_timer.scope, t);
    try {
      co_return co_await std::move(work);
    } catch (const cancelled&) {
      if (!scope_with_timer.fired()) throw;  // cancelled from outside, not by this limit
    }
    blame = scope_with_timer.take_blame();
  }
  if (t.cancel_requested()) throw_cancelled();  // an outer cancellation came too: it wins
  throw timeout_error(where, deadline - start, loop.now() - start, std::move(blame));
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

/// timeout_at() and timeout() of a socket operation (detail::task_operation, task.hpp): the
/// same as of the operation's task.
template <detail::task_operation Op>
[[nodiscard]] typename Op::task_type timeout_at(time_point deadline, Op operation,
                                                corio::source_location where = corio::source_location::current()) {
  return timeout_at(deadline, std::move(operation).as_task(), where);
}
template <detail::task_operation Op, class Rep, class Period>
[[nodiscard]] typename Op::task_type timeout(std::chrono::duration<Rep, Period> limit, Op operation,
                                             corio::source_location where = corio::source_location::current()) {
  return timeout(limit, std::move(operation).as_task(), where);
}

}  // namespace corio
