// runtime/semaphore.hpp — corio::semaphore and corio::bounded_semaphore (asyncio.Semaphore,
// asyncio.BoundedSemaphore): at most N tasks at a time past this point.
//
//   corio::semaphore slots(4);
//   {
//     auto permit = co_await slots.acquire_guard();   // parks while all 4 permits are out
//     co_await fetch(url);
//   }                                                 // the guard releases the permit
//
// Contract:
//   * acquire() takes a permit, or parks until release() hands one over. Waiters are served in
//     the order they began to wait, and release() gives its permit straight to the first of them
//     (direct hand-off): a task arriving later cannot barge past them with an acquire() or a
//     try_acquire(). A woken waiter resumes on the loop's thread on a later turn, never inside
//     release().
//   * acquire() with a permit free completes without suspending — unless the task is cancelled:
//     then it throws corio::cancelled at once and takes nothing.
//   * Cancellation: while waiting, the waiter leaves the queue at once and acquire() throws
//     corio::cancelled. If a permit was already handed to it and the task is cancelled before it
//     resumes, the permit goes on to the next waiter (or back to the pool) and acquire() throws:
//     a cancelled acquire() holds no permit. Likewise if the waiting frame is destroyed.
//   * bounded_semaphore::release() beyond the initial value throws std::logic_error (a release
//     without an acquire is a bug; asyncio raises ValueError); semaphore's count is unbounded.
//   * Single loop; destroying a semaphore that tasks wait on is a bug (asserted).
//   * No allocation: each waiter is a node inside its awaiter, in the waiting frame.
//
// detail::permit_pool (counted permits + FIFO hand-off) is also what corio::mutex is made of:
// a mutex is a pool of one permit whose guard is the lock.
#pragma once

#include <coroutine>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "errors.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"
#include "waiter_list.hpp"

namespace corio {
namespace detail {

class permit_waiter;

/// Counted permits with FIFO hand-off to parked waiters. Invariant: waiters park only while the
/// count is 0, so `count_ > 0` implies nobody waits.
class permit_pool {
 public:
  /// `kind` names the primitive in await chains ("semaphore", "mutex"): a string literal.
  permit_pool(std::size_t permits, std::size_t limit, const char* kind = "semaphore") noexcept
      : count_(permits), limit_(limit), kind_(kind) {}

  [[nodiscard]] std::size_t available() const noexcept { return count_; }

  [[nodiscard]] bool try_take() noexcept {
    if (count_ == 0) return false;
    --count_;
    return true;
  }

  /// Returns one permit: to the oldest waiter if any (hand-off), else to the count.
  /// Throws std::logic_error if that would raise the count above the limit.
  void give();

 private:
  friend class permit_waiter;
  waiter_list<permit_waiter> waiters_;
  std::size_t count_;
  std::size_t limit_;
  const char* kind_;
};

/// A task waiting for a permit. `holding_` means a permit was taken or handed over for this
/// waiter and nobody has claimed it yet; whoever destroys the waiter in that state gives it back.
class permit_waiter : public list_waiter<permit_waiter> {
 public:
  /// permit_pool::give() hands this waiter its permit and queues its task.
  void grant() {
    holding_ = true;
    wake();
  }

 protected:
  explicit permit_waiter(permit_pool& pool) noexcept : pool_(&pool) {}
  ~permit_waiter() {
    if (holding_) pool_->give();  // handed a permit, but the frame died before it resumed
  }

  /// Takes a permit at once (true), or parks `h` at the back of the pool's queue (false).
  bool take_or_park(std::coroutine_handle<> h) noexcept {
    if (pool_->try_take()) {
      holding_ = true;
      return true;
    }
    park_in(pool_->waiters_, h);
    return false;
  }

  [[nodiscard]] std::string describe() const override {
    return std::string(pool_->kind_) + (pool_->limit_ == 1 ? " lock" : " permit");
  }

  /// After resumption: true if this waiter holds a permit, which now belongs to the caller.
  [[nodiscard]] bool claim() noexcept { return std::exchange(holding_, false); }

  permit_pool* pool_;
  bool holding_ = false;
};

inline void permit_pool::give() {
  if (permit_waiter* next = waiters_.pop_front()) {
    next->grant();  // the count stays 0: the permit moves straight to the next task
    return;
  }
  if (count_ == limit_) throw std::logic_error("corio::semaphore::release(): released more often than acquired (above the bound)");
  ++count_;
}

/// Adopts a permit that the holder already took.
struct adopt_permit_t {
  explicit adopt_permit_t() = default;
};
inline constexpr adopt_permit_t adopt_permit{};

/// Owns one permit of a pool and gives it back when destroyed (the scoped form of a permit).
class [[nodiscard]] permit_guard {
 public:
  permit_guard() noexcept = default;
  permit_guard(adopt_permit_t, permit_pool& pool) noexcept : pool_(&pool) {}
  permit_guard(permit_guard&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)) {}
  permit_guard& operator=(permit_guard&& other) noexcept {
    if (this != &other) {
      release();
      pool_ = std::exchange(other.pool_, nullptr);
    }
    return *this;
  }
  permit_guard(const permit_guard&) = delete;
  permit_guard& operator=(const permit_guard&) = delete;
  ~permit_guard() { release(); }

  [[nodiscard]] bool owns() const noexcept { return pool_ != nullptr; }
  explicit operator bool() const noexcept { return owns(); }

 protected:
  /// Gives the permit back now (to the next waiter, if any); a no-op for an empty guard.
  void release() {
    if (pool_ != nullptr) std::exchange(pool_, nullptr)->give();
  }

  permit_pool* pool_ = nullptr;
};

/// co_await of acquire() / acquire_guard() / mutex::lock(); `Result` is what it returns
/// (void, or a guard type constructible from (adopt_permit, pool)).
template <class Result>
class [[nodiscard]] acquire_awaiter final : public permit_waiter {
 public:
  explicit acquire_awaiter(permit_pool& pool) noexcept : permit_waiter(pool) {}

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    owner_ = &task_of(h);
    if (owner_->cancel_requested()) return false;  // a cancelled task takes nothing
    return !take_or_park(h);
  }

  Result await_resume() {
    if (!claim()) throw_cancelled();  // cancelled before or while waiting: nothing was taken
    if (owner_->cancel_requested()) {  // handed a permit, then cancelled before resuming
      pool_->give();
      throw_cancelled();
    }
    if constexpr (!std::is_void_v<Result>) return Result(adopt_permit, *pool_);
  }
};

}  // namespace detail

class semaphore {
 public:
  /// A scoped permit: given back when destroyed, or earlier by release().
  class guard : public detail::permit_guard {
   public:
    using permit_guard::permit_guard;
    using permit_guard::release;
  };

  explicit semaphore(std::size_t initial = 1) noexcept
      : pool_(initial, std::numeric_limits<std::size_t>::max()) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  /// Permits free right now.
  [[nodiscard]] std::size_t available() const noexcept { return pool_.available(); }

  /// Takes a permit if one is free (never suspends, never throws).
  [[nodiscard]] bool try_acquire() noexcept { return pool_.try_take(); }

  /// Takes a permit, parking until one is free (see the contract above).
  [[nodiscard]] detail::acquire_awaiter<void> acquire() noexcept { return detail::acquire_awaiter<void>(pool_); }

  /// acquire(), returning a guard that releases the permit when destroyed.
  [[nodiscard]] detail::acquire_awaiter<guard> acquire_guard() noexcept { return detail::acquire_awaiter<guard>(pool_); }

  /// Returns a permit: to the oldest waiter, or to the count. bounded_semaphore throws
  /// std::logic_error when this would exceed the initial value.
  void release() { pool_.give(); }

 protected:
  semaphore(std::size_t initial, std::size_t limit) noexcept : pool_(initial, limit) {}

 private:
  detail::permit_pool pool_;
};

/// A semaphore whose release() throws std::logic_error instead of going above the initial value.
class bounded_semaphore : public semaphore {
 public:
  explicit bounded_semaphore(std::size_t initial = 1) noexcept : semaphore(initial, initial) {}
};

}  // namespace corio
