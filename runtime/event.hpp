// runtime/event.hpp — corio::event, asyncio.Event: one task (or many) waits until another
// says "now".
//
//   corio::event ready;
//   ... in one task:    co_await ready.wait();     // parks until ready.set()
//   ... in another:     ready.set();               // wakes every waiter; later waits pass
//
// Contract:
//   * set() wakes every task waiting at that moment, in the order they began to wait; they
//     resume on the loop's thread on a later turn, never inside set(). The event stays set
//     (later waits return at once) until clear().
//   * wait() on a set event returns without suspending — unless the task is cancelled, which
//     throws corio::cancelled at once (a cancelled task cannot slip past a check point).
//   * Cancellation while waiting: the waiter is unlinked at once and wait() throws
//     corio::cancelled; the event is untouched (nothing is consumed, so it is cancel-safe).
//   * Single loop: set()/clear() must be called on the loop's thread (from a task or a
//     callback of that loop). Destroying an event that tasks still wait on is a bug (asserted).
//   * No allocation: each waiter is a node inside its awaiter, in the waiting frame.
#pragma once

#include <coroutine>
#include <string>

#include "errors.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"
#include "waiter_list.hpp"

namespace corio {

class event {
 public:
  event() noexcept = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  [[nodiscard]] bool is_set() const noexcept { return set_; }

  /// Sets the event and wakes every current waiter (FIFO).
  void set() noexcept;

  /// Makes later wait()s park again until the next set().
  void clear() noexcept { set_ = false; }

  class awaiter;
  /// Waits until the event is set (see the contract above).
  [[nodiscard]] awaiter wait() noexcept;

 private:
  detail::waiter_list<awaiter> waiters_;
  bool set_ = false;
};

class event::awaiter final : public detail::list_waiter<awaiter> {
 public:
  explicit awaiter(event& e) noexcept : event_(e) {}

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <detail::corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    owner_ = &detail::task_of(h);
    if (owner_->cancel_requested() || event_.set_) return false;
    park_in(event_.waiters_, h);
    return true;
  }

  void await_resume() const {
    if (owner_->cancel_requested()) detail::throw_cancelled();
  }

  [[nodiscard]] std::string describe() const override { return "event"; }

 private:
  friend class event;
  event& event_;
};

inline event::awaiter event::wait() noexcept { return awaiter(*this); }

inline void event::set() noexcept {
  set_ = true;
  while (awaiter* w = waiters_.pop_front()) w->wake();
}

}  // namespace corio
