// runtime/mutex.hpp — corio::mutex (asyncio.Lock): one task at a time in a critical section
// that spans suspensions.
//
//   corio::mutex m;
//   {
//     auto lock = co_await m.lock();    // parks while another task holds it
//     co_await write_record(file);      // other tasks run meanwhile, but not in here
//   }                                   // the guard unlocks (or call lock.unlock() earlier)
//
// Contract:
//   * lock() returns a [[nodiscard]], move-only guard that owns the lock until it is destroyed
//     or its unlock() is called. Only guards unlock, so "unlock what you did not lock" cannot
//     be written.
//   * Fair: waiters get the lock in the order they began to wait. Unlocking hands the lock
//     straight to the first waiter (it stays locked in between), so a task that arrives later
//     cannot barge past the queue, not even with try_lock(). The new owner resumes on the loop's
//     thread on a later turn, never inside unlock().
//   * lock() on a free mutex completes without suspending — unless the task is cancelled: then
//     it throws corio::cancelled at once without locking.
//   * Cancellation: a cancelled lock() holds no lock. While waiting, the waiter leaves the queue
//     at once and lock() throws corio::cancelled. If the lock was already handed to it and the
//     task is cancelled before it resumes, the lock passes on to the next waiter (or is
//     released) and lock() throws. The same happens if the waiting frame is destroyed.
//   * Not re-entrant: a task that locks a mutex it holds waits for itself forever (the loop's
//     deadlock detection reports it when nothing else can run).
//   * Single loop; destroying a mutex that is held or waited on is a bug (asserted for waiters).
//   * No allocation: each waiter is a node inside its awaiter, in the waiting frame.
//
// It is a detail::permit_pool of one permit (semaphore.hpp): the queue, hand-off and
// cancellation rules are the semaphore's, word for word.
#pragma once

#include "semaphore.hpp"

namespace corio {

class condition;

class mutex {
 public:
  /// Owns the lock while it is alive and not unlocked; an empty guard owns nothing.
  class guard : public detail::permit_guard {
   public:
    using permit_guard::permit_guard;

    [[nodiscard]] bool owns_lock() const noexcept { return owns(); }
    /// Unlocks now (handing the lock to the next waiter); a no-op if it owns nothing.
    void unlock() { release(); }

   private:
    friend class condition;  // releases and re-takes the lock across a wait
  };

  mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  [[nodiscard]] bool is_locked() const noexcept { return pool_.available() == 0; }

  /// Locks if the mutex is free (no suspension); otherwise returns an empty guard.
  [[nodiscard]] guard try_lock() noexcept {
    return pool_.try_take() ? guard(detail::adopt_permit, pool_) : guard();
  }

  /// Locks, parking until the lock is handed over (see the contract above).
  [[nodiscard]] detail::acquire_awaiter<guard> lock() noexcept { return detail::acquire_awaiter<guard>(pool_); }

 private:
  friend class condition;
  detail::permit_pool pool_{1, 1, "mutex"};
};

}  // namespace corio
