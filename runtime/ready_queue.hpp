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
//
// Shuffle (a debugging aid, Seastar's SEASTAR_SHUFFLE_TASK_QUEUE): with a non-zero seed, each
// pop(window) first swaps a pseudo-random one of the first `window` entries to the head, so ready
// tasks run in a seeded random order instead of FIFO. Code that silently relies on an order that
// is not promised breaks under it, reproducibly: the same seed and the same program give the
// same order. The generator is splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom
// number generators", OOPSLA 2014): one add, two multiplies, three xor-shifts. Off, the cost is
// one well-predicted branch per pop.
#pragma once

#include <bit>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <utility>
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

  /// The oldest entry, whatever the shuffle says (the loop's path when no shuffle is on).
  /// Precondition: !empty().
  ready_entry pop_front() noexcept { return slots_[head_++ & mask_]; }

  /// Takes the oldest entry; with the shuffle on, a random one of the oldest `window` entries.
  /// Precondition: 0 < window <= size().
  ready_entry pop(std::size_t window) noexcept {
    if (shuffle_on_) [[unlikely]]
      swap_to_head(next_random() % window);
    return slots_[head_++ & mask_];
  }

  /// Turns the shuffle on with `seed`, or off with 0 (the default).
  void set_shuffle_seed(std::uint64_t seed) noexcept {
    shuffle_on_ = seed != 0;
    random_state_ = seed;
  }

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

  void swap_to_head(std::size_t offset) noexcept {
    std::swap(slots_[head_ & mask_], slots_[(head_ + offset) & mask_]);
  }

  // splitmix64: every seed gives a full-period sequence, and nearby seeds give unrelated ones.
  std::uint64_t next_random() noexcept {
    std::uint64_t z = (random_state_ += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
  }

  event_loop* loop_;
  std::unique_ptr<ready_entry[]> slots_;
  std::size_t mask_;
  std::size_t head_ = 0;  // positions grow without bound; only `& mask_` indexes the ring
  std::size_t tail_ = 0;
  std::size_t high_water_ = 0;
  bool shuffle_on_ = false;
  std::uint64_t random_state_ = 0;
};

}  // namespace corio::detail
