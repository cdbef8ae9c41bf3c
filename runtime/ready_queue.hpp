// runtime/ready_queue.hpp — the FIFO of coroutines that are ready to run.
//
//        head                      tail
//         v                         v
//   [ . | A | B | C | D | . | . | . ]     capacity: a power of two, index = position & mask
//
// A ring buffer of (coroutine handle, owning task) pairs. Pushing never allocates once the ring
// has grown to the program's high-water mark; it doubles when full (amortised O(1)), and never
// shrinks, so steady-state scheduling costs two stores and an increment.
// Not thread-safe: only the loop's thread touches it (cross-thread wakeups arrive through the
// loop's own channel, not here).
#pragma once

#include <bit>
#include <coroutine>
#include <cstddef>
#include <memory>

namespace corio {
class event_loop;
}

namespace corio::detail {

class task_state;

struct ready_entry {
  std::coroutine_handle<> handle;  // the exact coroutine to resume
  task_state* task;                // the spawned task it belongs to (the loop's "current task")
};

class ready_queue {
 public:
  explicit ready_queue(event_loop& loop, std::size_t initial_capacity = 1024)
      : loop_(&loop),
        slots_(std::make_unique<ready_entry[]>(std::bit_ceil(initial_capacity))),
        mask_(std::bit_ceil(initial_capacity) - 1) {}

  /// The loop this queue belongs to (task records reach their loop through it, which keeps
  /// them one pointer smaller: a million live tasks, 16 MB less).
  [[nodiscard]] event_loop& loop() const noexcept { return *loop_; }

  [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
  [[nodiscard]] std::size_t size() const noexcept { return tail_ - head_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
  [[nodiscard]] std::size_t high_water_mark() const noexcept { return high_water_; }

  void push(ready_entry e) {
    if (size() == capacity()) grow();
    slots_[tail_++ & mask_] = e;
    if (size() > high_water_) high_water_ = size();
  }

  /// Precondition: !empty().
  ready_entry pop() noexcept { return slots_[head_++ & mask_]; }

  void clear() noexcept { head_ = tail_; }

 private:
  void grow() {
    const std::size_t new_capacity = capacity() * 2;
    auto bigger = std::make_unique<ready_entry[]>(new_capacity);
    for (std::size_t i = 0; i < size(); ++i) bigger[i] = slots_[(head_ + i) & mask_];
    tail_ = size();
    head_ = 0;
    slots_ = std::move(bigger);
    mask_ = new_capacity - 1;
  }

  event_loop* loop_;
  std::unique_ptr<ready_entry[]> slots_;
  std::size_t mask_;
  std::size_t head_ = 0;  // positions grow without bound; only `& mask_` indexes the ring
  std::size_t tail_ = 0;
  std::size_t high_water_ = 0;
};

}  // namespace corio::detail
