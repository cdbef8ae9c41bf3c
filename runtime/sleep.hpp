// runtime/sleep.hpp — corio::sleep, corio::sleep_until and corio::yield.
//
//   co_await corio::sleep(2s);             // asyncio.sleep(2)
//   co_await corio::sleep_until(deadline);
//   co_await corio::yield();               // asyncio.sleep(0): let every other ready task run
//
// Contract, for all three:
//   * Never completes inside the co_await that starts it: even a zero or past deadline goes
//     round the loop once (to the back of the ready queue), so other tasks get to run.
//   * Never early: the task resumes on the loop's thread at the first turn at which
//     loop.now() >= deadline. The delay counts from the co_await, not from the call to sleep().
//     Deadlines too far away to represent are clamped to time_point::max() (never fires).
//   * Cancellation: if the task is cancelled while sleeping, the timer is disarmed at once and
//     the co_await throws corio::cancelled; a task already cancelled throws without sleeping.
//     Nothing is left behind (no armed timer, no queued wake-up).
//   * No allocation: the timer node lives inside the awaiter, in the coroutine frame.
#pragma once

#include <chrono>
#include <coroutine>

#include "await_chain.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"

namespace corio {
namespace detail {

/// Adds `d` to `t` without overflowing: a sum beyond the representable range is max().
[[nodiscard]] inline time_point saturating_add(time_point t, duration d) noexcept {
  if (d > duration::zero() && t > time_point::max() - d) return time_point::max();
  return t + d;
}

class sleep_awaiter final : public waiter, public timer_entry {
 public:
  struct until_tag {};
  sleep_awaiter(duration delay) noexcept : delay_(delay) {}
  sleep_awaiter(until_tag, time_point deadline) noexcept : deadline_(deadline), absolute_(true) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  ~sleep_awaiter() {
    if (armed()) owner_->loop().disarm(*this);
  }

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    owner_ = &task_of(h);
    if (owner_->cancel_requested()) return false;
    if (!absolute_ && delay_ <= duration::zero()) return yield_to_others(h);  // no clock read
    event_loop& loop = owner_->loop();
    const time_point now = loop.now();
    const time_point deadline = absolute_ ? deadline_ : saturating_add(now, delay_);
    if (deadline <= now) return yield_to_others(h);
    resume_point = h;
    loop.arm(*this, deadline);
    owner_->park(*this);
    return true;
  }

  // Already due: go to the back of the ready queue, so the others run first.
  bool yield_to_others(std::coroutine_handle<> h) {
    owner_->schedule(h);
    return true;
  }

  void await_resume() const {
    if (owner_->cancel_requested()) throw_cancelled();
  }

  void on_fire() noexcept override { owner_->wake(*this); }

  bool on_cancel() noexcept override {
    owner_->loop().disarm(*this);
    return true;
  }

  [[nodiscard]] std::string describe() const override {
    if (deadline() == time_point::max()) return "sleep, forever";
    return "sleep, due in " + format_seconds(deadline() - owner_->loop().now());
  }

 private:
  task_state* owner_ = nullptr;
  duration delay_{};
  time_point deadline_{};
  bool absolute_ = false;
};

}  // namespace detail

/// Suspends the calling task for at least `delay` (rounded up to whole nanoseconds).
template <class Rep, class Period>
[[nodiscard]] detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> delay) noexcept {
  if (delay <= delay.zero()) return detail::sleep_awaiter(duration::zero());
  // Compare in floating point first, so that e.g. hours::max() cannot overflow nanoseconds.
  using float_seconds = std::chrono::duration<long double>;
  if (std::chrono::duration_cast<float_seconds>(delay) >= std::chrono::duration_cast<float_seconds>(duration::max()))
    return detail::sleep_awaiter(duration::max());
  return detail::sleep_awaiter(std::chrono::ceil<duration>(delay));
}

/// Suspends the calling task until loop.now() >= deadline.
[[nodiscard]] inline detail::sleep_awaiter sleep_until(time_point deadline) noexcept {
  return detail::sleep_awaiter(detail::sleep_awaiter::until_tag{}, deadline);
}

/// Lets every other ready task run once, then continues (asyncio.sleep(0)).
[[nodiscard]] inline detail::sleep_awaiter yield() noexcept { return detail::sleep_awaiter(duration::zero()); }

}  // namespace corio
