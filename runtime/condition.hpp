// runtime/condition.hpp — corio::condition (asyncio.Condition): wait, with a mutex held, until
// another task says the state you wait for may have changed.
//
//   corio::mutex m;
//   corio::condition ready(m);
//   ... consumer:  auto lock = co_await m.lock();
//                  co_await ready.wait_for(lock, [&] { return !jobs.empty(); });
//                  take(jobs);                         // still under the lock
//   ... producer:  auto lock = co_await m.lock();
//                  jobs.push_back(j);
//                  ready.notify();
//
// Contract:
//   * wait(guard) releases the lock (handing it to the next task waiting for it), parks until
//     notify(), then takes the lock again before it returns. The guard owns the lock again
//     whenever wait() returns or throws — corio::cancelled included, as in asyncio.
//   * notify(n) wakes the n oldest waiters, notify_all() every one; they go to the back of the
//     mutex's queue at once (no extra round trip through the loop), and resume one at a time, in
//     that order, as the lock is handed to them: on the loop's thread, on a later turn, never
//     inside notify(). notify without the lock held throws std::logic_error (asyncio raises
//     RuntimeError), as does wait() with a guard that does not hold this condition's mutex.
//   * Spurious wake-ups do not happen, but another task may have changed the state between
//     notify() and the waiter's resumption: wait in a loop, or use wait_for(guard, predicate),
//     which returns once predicate() is true (at once if it already is, without suspending).
//   * Cancellation: a cancelled task's wait() throws corio::cancelled with the lock held. Cancelled
//     while waiting for notify: the waiter leaves the notify queue at once (no notification is
//     consumed) and queues for the lock; while queued for the lock it keeps its place, since it
//     must hold the lock when it throws. Already cancelled: it throws without releasing the lock.
//   * Single loop; destroying a condition that tasks wait on is a bug (asserted).
//   * No allocation for wait(): its nodes (one per queue) live inside its awaiter.
//     wait_for() is a coroutine: one frame from the frame cache per call, not per wake-up.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstddef>
#include <limits>
#include <stdexcept>

#include "errors.hpp"
#include "mutex.hpp"
#include "promise_base.hpp"
#include "semaphore.hpp"
#include "task.hpp"
#include "task_state.hpp"
#include "waiter_list.hpp"

namespace corio {
namespace detail {

/// The second half of a condition wait: queued for the mutex, where cancellation does not
/// remove it (the waiter must hold the lock when corio::cancelled propagates).
class relock_waiter final : public permit_waiter {
 public:
  explicit relock_waiter(permit_pool& mutex_pool) noexcept : permit_waiter(mutex_pool) {}

  bool on_cancel() noexcept override { return false; }  // keep the place; resume once granted

  /// Takes the lock for `owner`'s coroutine `h` (true), or parks it in the mutex's queue.
  bool take_or_park(task_state& owner, std::coroutine_handle<> h) noexcept {
    owner_ = &owner;
    return permit_waiter::take_or_park(h);
  }
  using permit_waiter::claim;
};

}  // namespace detail

class condition {
 public:
  explicit condition(mutex& m) noexcept : mutex_(&m) {}
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;

  [[nodiscard]] corio::mutex& get_mutex() const noexcept { return *mutex_; }

  class wait_awaiter;
  /// Releases `lock`, waits for notify(), re-locks (see the contract above).
  [[nodiscard]] wait_awaiter wait(mutex::guard& lock);

  /// Waits until predicate() is true; predicate is only ever called with the lock held.
  template <class Predicate>
  [[nodiscard]] task<> wait_for(mutex::guard& lock, Predicate predicate);

  /// Wakes up to `n` waiters, oldest first. Throws std::logic_error unless the mutex is held.
  void notify(std::size_t n = 1);
  void notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

 private:
  detail::waiter_list<wait_awaiter> waiters_;
  corio::mutex* mutex_;
};

class condition::wait_awaiter final : public detail::list_waiter<wait_awaiter> {
 public:
  wait_awaiter(condition& cv, mutex::guard& lock) noexcept
      : cv_(&cv), lock_(&lock), relock_(cv.mutex_->pool_) {}

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <detail::corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    owner_ = &detail::task_of(h);
    if (owner_->cancel_requested()) return false;  // throws with the lock still held
    // The guard must not unlock a lock it lends out: if this frame dies mid-wait, relock_
    // gives back whatever it holds, and the guard must not give it back a second time.
    lock_->pool_ = nullptr;
    released_ = true;
    cv_->mutex_->pool_.give();
    park_in(cv_->waiters_, h);
    return true;
  }

  void await_resume() {
    if (released_) {
      [[maybe_unused]] const bool relocked = relock_.claim();
      assert(relocked && "a condition waiter resumed without the lock");
      lock_->pool_ = &cv_->mutex_->pool_;
    }
    if (owner_->cancel_requested()) detail::throw_cancelled();
  }

  [[nodiscard]] std::string describe() const override { return "condition"; }

  /// Cancelled while waiting for notify: leave that queue, then queue for the lock.
  bool on_cancel() noexcept override {
    cv_->waiters_.remove(*this);
    return relock();
  }

 private:
  friend class condition;

  /// Notified (or cancelled): take the lock at once (true) or park in the mutex's queue.
  bool relock() noexcept { return relock_.take_or_park(*owner_, resume_point); }

  condition* cv_;
  mutex::guard* lock_;
  detail::relock_waiter relock_;
  bool released_ = false;
};

inline condition::wait_awaiter condition::wait(mutex::guard& lock) {
  if (lock.pool_ != &mutex_->pool_)
    throw std::logic_error("corio::condition::wait: the guard does not hold this condition's mutex");
  return wait_awaiter(*this, lock);
}

template <class Predicate>
task<> condition::wait_for(mutex::guard& lock, Predicate predicate) {
  while (!predicate()) co_await wait(lock);
}

inline void condition::notify(std::size_t n) {
  if (!mutex_->is_locked()) throw std::logic_error("corio::condition::notify: the mutex is not locked");
  for (; n > 0; --n) {
    wait_awaiter* w = waiters_.pop_front();
    if (w == nullptr) break;
    // The notifier holds the lock, so this parks the waiter in the mutex's queue; it resumes
    // when the lock is handed to it. (relock() can only succeed at once from on_cancel.)
    if (w->relock()) w->wake();
  }
}

}  // namespace corio
