// runtime/promise_base.hpp — what every corio coroutine frame carries, whatever its result type.
//
//      spawned task (task_state)                       one frame per `task<T>` call
//      +------------------------+   owner   +-------------------+ awaiting +-------------------+
//      | name, spawn site,      |<----------| promise_base      |--------->| promise_base      |
//      | cancel flag, current   |           |  continuation=null|<---------|  continuation     |
//      | wait, join listener    |---------->|  (the root frame) |          |  (a child frame)  |
//      +------------------------+  frame    +-------------------+          +-------------------+
//
// `owner` lets a leaf awaitable (sleep, join, ...) find the task it suspends, and through it
// the loop; `awaiting` keeps the chain of frames a task is suspended in reachable, so that the
// await chain can be printed; `continuation` is who to resume when this frame finishes.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>

#include "errors.hpp"
#include "frame_allocator.hpp"
#include "source_location.hpp"

namespace corio::detail {

class task_state;

/// How a child frame relates to the `co_await` that started it (see task.hpp, "stack depth").
enum class inline_state : unsigned char {
  not_inline,         // started by the loop (a spawned root), or already parked once
  running_inline,     // being run from inside its awaiter's await_suspend
  completed_inline,   // finished before that await_suspend returned
};

class promise_base {
 public:
  // Frames come from the per-thread recycling allocator (frame_allocator.hpp).
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { deallocate_frame(frame, size); }

  void unhandled_exception() noexcept {
    error_ = std::current_exception();
    ended_by_cancellation_ = handling_cancellation();
  }

  [[nodiscard]] bool failed() const noexcept { return error_ != nullptr; }
  /// The task ended with exactly corio::cancelled: stopped on purpose, not an error to report.
  [[nodiscard]] bool ended_by_cancellation() const noexcept { return ended_by_cancellation_; }
  [[nodiscard]] const std::exception_ptr& error() const noexcept { return error_; }
  [[nodiscard]] task_state* owner() const noexcept { return owner_; }
  [[nodiscard]] const promise_base* awaiting() const noexcept { return awaiting_; }
  /// The coroutine function this frame runs, as file and line (g++ gives the line of its
  /// closing brace, clang its first line); for debug messages (runtime/debug.hpp).
  [[nodiscard]] const char* coroutine_file() const noexcept { return coroutine_file_; }
  [[nodiscard]] std::uint_least32_t coroutine_line() const noexcept { return coroutine_line_; }

 protected:
  explicit promise_base(const corio::source_location& coroutine) noexcept
      : coroutine_line_(coroutine.line()), coroutine_file_(coroutine.file_name()) {}
  ~promise_base() = default;

  std::exception_ptr error_;

 private:
  template <class T> friend class task_awaiter;
  friend class task_state;
  friend struct final_awaiter;
  friend struct initial_awaiter;

  std::coroutine_handle<> continuation_;
  task_state* owner_ = nullptr;
  promise_base* awaiting_ = nullptr;
  inline_state inline_ = inline_state::not_inline;
  bool ended_by_cancellation_ = false;
  std::uint_least32_t coroutine_line_;  // in what would be padding: a frame grows by one pointer
  const char* coroutine_file_;
};

/// Every awaitable in corio must be awaited from a corio coroutine: it needs the owning task.
template <class P>
concept corio_promise = std::derived_from<P, promise_base>;

/// The task that the coroutine `h` runs in.
template <corio_promise P>
[[nodiscard]] task_state& task_of(std::coroutine_handle<P> h) noexcept {
  return *h.promise().owner();
}

}  // namespace corio::detail
