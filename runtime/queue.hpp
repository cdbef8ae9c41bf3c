// runtime/queue.hpp — corio::queue<T> (asyncio.Queue): a FIFO channel between tasks,
// unbounded or bounded, with shutdown (asyncio 3.13's Queue.shutdown).
//
//   corio::queue<job> jobs(64);              // bounded: put() parks while 64 items wait
//   ... producer:  co_await jobs.put(j);
//   ... consumer:  job j = co_await jobs.get();   // parks while the queue is empty
//   ... at the end: jobs.shutdown();         // consumers drain what is left, then get throws
//
//          parked getters (only while empty)       parked putters (only while full)
//               [G1]->[G2]->...                         [P1]->[P2]->...
//                  ^ put() hands its item                   | get() takes the front item, then
//                  | straight to G1                         v moves P1's item to the back
//                  +--------  items: [front ... back]  <----+
//
// Contract:
//   * get() returns the front item; put() appends at the back. Waiting getters are served in
//     the order they began to wait, and so are waiting putters. put() with a getter waiting
//     hands the item straight to the oldest one; get() that frees a slot moves the oldest
//     putter's item into the queue at once. Nobody can barge past a waiter (try_get/try_put
//     included). A woken task resumes on the loop's thread on a later turn, never inside the
//     call that woke it; with an item or room available, get()/put() complete without suspending.
//   * Bounded queues: put() parks while size() >= capacity. The one exception: an item given
//     back by a cancelled getter (below) returns to the front even when that briefly makes
//     size() exceed the capacity, because losing it or reordering it would be worse.
//   * shutdown(): later puts (put, try_put) throw corio::queue_shut_down, and every parked
//     putter is woken with it (its item is not inserted). get() keeps returning the items
//     left, then throws queue_shut_down; parked getters are woken with it at once (they only
//     park when the queue is empty). shutdown(true) also drops every item now, so every get()
//     throws. Both are idempotent; shutdown(true) after shutdown() still drops the items.
//   * Cancellation (a task already cancelled takes and inserts nothing):
//       get: a cancelled get() loses no item. Cancelled while waiting, the getter leaves the
//            queue at once and throws corio::cancelled. If an item was already handed to it and
//            the task is cancelled before it resumes, the item goes to the next waiting getter
//            or back to the FRONT of the queue (dropped only after shutdown(true)), and get()
//            throws. Likewise if the waiting frame is destroyed.
//       put: a put() that throws corio::cancelled did not insert its item (it is destroyed with
//            the awaiter). Once a put's item is in the queue it cannot be taken back (a getter
//            may hold it already), so a put whose item was accepted returns normally even if
//            the task was cancelled meanwhile: the cancellation surfaces at its next suspension.
//   * Throws: queue_shut_down (derives from std::exception) as above; std::invalid_argument for
//     a capacity of 0. T must be nothrow move-constructible (items move inside noexcept paths).
//   * Single loop; destroying a queue that tasks wait on is a bug (asserted).
//   * No allocation per wait (nodes live in the awaiters). The item buffer is a ring that grows
//     by doubling and never shrinks, so a queue in steady use allocates nothing.
#pragma once

#include <bit>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "errors.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"
#include "waiter_list.hpp"

namespace corio {

/// Thrown by put after shutdown(), and by get once a shut-down queue has no items left.
class queue_shut_down : public std::exception {
 public:
  explicit queue_shut_down(const char* what) noexcept : what_(what) {}
  [[nodiscard]] const char* what() const noexcept override { return what_; }

 private:
  const char* what_;
};

namespace detail {

/// A growable ring of T that can push at both ends (the item buffer of corio::queue).
template <class T>
class item_ring {
 public:
  item_ring() noexcept = default;
  item_ring(const item_ring&) = delete;
  item_ring& operator=(const item_ring&) = delete;
  ~item_ring() {
    clear();
    if (slots_ != nullptr) std::allocator<T>().deallocate(slots_, capacity_);
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  void push_back(T&& v) {
    if (size_ == capacity_) grow();
    std::construct_at(slot(head_ + size_), std::move(v));
    ++size_;
  }
  void push_front(T&& v) {
    if (size_ == capacity_) grow();
    head_ = (head_ + capacity_ - 1) & (capacity_ - 1);
    std::construct_at(slot(head_), std::move(v));
    ++size_;
  }
  /// Precondition: !empty().
  T pop_front() noexcept {
    T* first = slot(head_);
    T v(std::move(*first));
    std::destroy_at(first);
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    return v;
  }
  void clear() noexcept {
    while (size_ > 0) (void)pop_front();
  }

 private:
  T* slot(std::size_t i) noexcept { return slots_ + (i & (capacity_ - 1)); }

  void grow() {
    const std::size_t bigger = capacity_ == 0 ? 8 : capacity_ * 2;
    T* fresh = std::allocator<T>().allocate(bigger);
    for (std::size_t i = 0; i < size_; ++i) {
      std::construct_at(fresh + i, std::move(*slot(head_ + i)));
      std::destroy_at(slot(head_ + i));
    }
    if (slots_ != nullptr) std::allocator<T>().deallocate(slots_, capacity_);
    slots_ = fresh;
    capacity_ = bigger;
    head_ = 0;
  }

  T* slots_ = nullptr;
  std::size_t capacity_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

inline constexpr const char* put_after_shutdown = "corio::queue: put on a queue that was shut down";
inline constexpr const char* get_after_shutdown = "corio::queue: get on a queue that was shut down and has no items left";

}  // namespace detail

template <class T>
class queue {
  static_assert(std::is_nothrow_move_constructible_v<T>, "corio::queue<T> needs a T that moves without throwing");

 public:
  class get_awaiter;
  class put_awaiter;

  /// Unbounded.
  queue() noexcept = default;
  /// Bounded: put() parks while `capacity` items wait. Throws std::invalid_argument for 0.
  explicit queue(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("corio::queue: capacity must be at least 1");
  }
  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
  [[nodiscard]] bool full() const noexcept { return items_.size() >= capacity_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool is_shut_down() const noexcept { return shut_down_; }

  /// Appends `value`, parking while the queue is full (see the contract above).
  [[nodiscard]] put_awaiter put(T value) noexcept { return put_awaiter(*this, std::move(value)); }
  /// Removes and returns the front item, parking while the queue is empty.
  [[nodiscard]] get_awaiter get() noexcept { return get_awaiter(*this); }

  /// Appends without suspending; false (and `value` untouched) when full.
  /// Throws queue_shut_down after shutdown().
  bool try_put(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    return try_put_value(value);
  }
  bool try_put(T&& value) { return try_put_value(std::move(value)); }

  /// The front item, or nullopt when empty. Throws queue_shut_down when shut down and empty.
  [[nodiscard]] std::optional<T> try_get() {
    if (!items_.empty()) return take_front();
    if (shut_down_) throw queue_shut_down(detail::get_after_shutdown);
    return std::nullopt;
  }

  /// Refuses further puts and wakes every parked task (see the contract above).
  void shutdown(bool immediate = false);

 private:
  template <class U>
  bool try_put_value(U&& value) {
    if (shut_down_) throw queue_shut_down(detail::put_after_shutdown);
    if (!getters_.empty()) {
      hand_to_getter(T(std::forward<U>(value)));
    } else if (!full()) {
      items_.push_back(T(std::forward<U>(value)));
    } else {
      return false;
    }
    return true;
  }

  /// Stores `value` in the oldest waiting getter and queues its task. Precondition: one waits.
  void hand_to_getter(T&& value);
  /// Pops the front item, then lets parked putters fill the room it made.
  T take_front();
  /// An item handed out but never delivered: to the next getter, or back to the front.
  void give_back(T&& value);

  detail::item_ring<T> items_;
  detail::waiter_list<get_awaiter> getters_;
  detail::waiter_list<put_awaiter> putters_;
  std::size_t capacity_ = std::numeric_limits<std::size_t>::max();
  bool shut_down_ = false;
  bool dropped_ = false;  // shutdown(true): items are dropped, given-back ones too
};

template <class T>
class queue<T>::get_awaiter final : public detail::list_waiter<get_awaiter> {
 public:
  explicit get_awaiter(queue& q) noexcept : queue_(&q) {}
  ~get_awaiter() {
    if (item_) queue_->give_back(std::move(*item_));  // handed an item, but never resumed
  }

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <detail::corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    this->owner_ = &detail::task_of(h);
    if (this->owner_->cancel_requested()) return false;
    if (!queue_->items_.empty()) {
      item_.emplace(queue_->take_front());
      return false;
    }
    if (queue_->shut_down_) {
      shut_out_ = true;
      return false;
    }
    this->park_in(queue_->getters_, h);
    return true;
  }

  T await_resume() {
    const bool cancelled = this->owner_->cancel_requested();
    if (item_) {
      T value(std::move(*item_));
      item_.reset();
      if (!cancelled) return value;
      queue_->give_back(std::move(value));  // handed an item, then cancelled before resuming
      detail::throw_cancelled();
    }
    if (cancelled || !shut_out_) detail::throw_cancelled();
    throw queue_shut_down(detail::get_after_shutdown);
  }

  [[nodiscard]] std::string describe() const override { return "queue get (the queue is empty)"; }

 private:
  friend class queue;
  queue* queue_;
  std::optional<T> item_;
  bool shut_out_ = false;
};

template <class T>
class queue<T>::put_awaiter final : public detail::list_waiter<put_awaiter> {
 public:
  put_awaiter(queue& q, T&& value) noexcept : queue_(&q), value_(std::move(value)) {}

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <detail::corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    this->owner_ = &detail::task_of(h);
    if (this->owner_->cancel_requested()) return false;
    if (queue_->shut_down_) {
      shut_out_ = true;
      return false;
    }
    if (!queue_->full() || !queue_->getters_.empty()) {
      accepted_ = queue_->try_put_value(std::move(value_));
      return false;
    }
    this->park_in(queue_->putters_, h);
    return true;
  }

  void await_resume() const {
    if (accepted_) return;  // the item is in; see the contract for why cancellation waits
    if (this->owner_->cancel_requested() || !shut_out_) detail::throw_cancelled();
    throw queue_shut_down(detail::put_after_shutdown);
  }

  [[nodiscard]] std::string describe() const override {
    return "queue put (the queue is full: " + std::to_string(queue_->size()) + " items)";
  }

 private:
  friend class queue;
  queue* queue_;
  T value_;
  bool accepted_ = false;
  bool shut_out_ = false;
};

template <class T>
void queue<T>::hand_to_getter(T&& value) {
  get_awaiter* g = getters_.pop_front();
  g->item_.emplace(std::move(value));
  g->wake();
}

template <class T>
T queue<T>::take_front() {
  T value = items_.pop_front();
  while (!full()) {
    put_awaiter* p = putters_.pop_front();
    if (p == nullptr) break;
    items_.push_back(std::move(p->value_));
    p->accepted_ = true;
    p->wake();
  }
  return value;
}

template <class T>
void queue<T>::give_back(T&& value) {
  if (dropped_) return;
  if (!getters_.empty()) {
    hand_to_getter(std::move(value));
  } else {
    items_.push_front(std::move(value));
  }
}

template <class T>
void queue<T>::shutdown(bool immediate) {
  shut_down_ = true;
  if (immediate) {
    dropped_ = true;
    items_.clear();
  }
  while (put_awaiter* p = putters_.pop_front()) {
    p->shut_out_ = true;
    p->wake();
  }
  while (get_awaiter* g = getters_.pop_front()) {  // they park only while the queue is empty
    g->shut_out_ = true;
    g->wake();
  }
}

}  // namespace corio
