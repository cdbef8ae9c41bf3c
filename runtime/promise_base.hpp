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
//
// Await sites. Every `co_await x` in a corio coroutine goes through await_transform, whose
// defaulted __builtin_LINE() argument is evaluated at the co_await (g++ 12 reports the line of
// the operand, clang 14 the line of the `co_await` keyword). Only that line is stored: one
// 32-bit store of a constant per co_await, no branch, no clock read. The file and function of
// a co_await are those of the coroutine it is written in, so the frame records them once, when
// it is made (the promise's constructor is called inside the coroutine, so its defaulted
// source_location argument names the coroutine): two pointers per frame. Until its first
// co_await, the frame's line slot holds the coroutine's own line, marked as such (what debug
// mode's "never awaited" warning prints). A suspended frame's await_site() is therefore the
// co_await it is suspended in (await_chain.hpp prints them); bench/overhead.cpp measures the cost.
//
// In a coroutine template, g++ names the function with its template arguments there
// ("gather<void, void>"); await_chain.hpp's coroutine_name() drops them when printing.
// (std::source_location would make the site one pointer to a static record, but clang 14 with
// libstdc++ 12 lacks it, its function_name() is the whole signature, and a line is cheaper to
// store than a pointer anyway.)
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>

#include "errors.hpp"
#include "frame_allocator.hpp"
#include "source_location.hpp"

namespace corio::detail {

class task_state;

template <class A>
concept has_member_co_await = requires(A&& a) { static_cast<A&&>(a).operator co_await(); };

/// An awaiter seen through a pointer (see promise_base::await_transform): the three calls go
/// straight to it, with the awaiting coroutine's typed handle.
template <class Awaiter>
struct awaiter_ref {
  Awaiter& awaiter;
  [[nodiscard]] bool await_ready() { return awaiter.await_ready(); }
  template <class Promise>
  decltype(auto) await_suspend(std::coroutine_handle<Promise> h) {
    return awaiter.await_suspend(h);
  }
  decltype(auto) await_resume() { return awaiter.await_resume(); }
};

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
  /// The coroutine function this frame runs: its file and name.
  [[nodiscard]] const char* coroutine_file() const noexcept { return file_; }
  [[nodiscard]] const char* coroutine_function() const noexcept { return function_; }
  /// Has the frame reached a co_await yet?
  [[nodiscard]] bool has_awaited() const noexcept { return (line_ & before_first_await) == 0; }
  /// Before the frame's first co_await: the coroutine's own line (g++ gives the line of its
  /// closing brace, clang its first line), for debug messages (runtime/debug.hpp); 0 after.
  [[nodiscard]] std::uint_least32_t coroutine_line() const noexcept { return has_awaited() ? 0 : line_ & ~before_first_await; }
  /// Where this frame last co_awaited: while it is suspended, the co_await it is suspended in.
  /// Line 0 before the frame's first co_await.
  [[nodiscard]] corio::source_location await_site() const noexcept {
    return corio::source_location::current(file_, function_, has_awaited() ? line_ : 0);
  }

  /// Records the line of every co_await (see the file comment), then hands the awaitable on:
  /// one with a member operator co_await (a task, a join_handle) gets it applied here, as the
  /// co_await would have; any other awaiter is passed on through awaiter_ref, so that it stays
  /// the very object the co_await expression made. (Returning a reference instead makes g++ 12
  /// copy the awaiter, and corio's awaiters are not copyable.)
  template <class Awaitable>
  decltype(auto) await_transform(Awaitable&& awaitable, std::uint_least32_t line = __builtin_LINE()) {
    line_ = line;
    if constexpr (has_member_co_await<Awaitable>)
      return static_cast<Awaitable&&>(awaitable).operator co_await();
    else
      return awaiter_ref<std::remove_reference_t<Awaitable>>{awaitable};
  }

 protected:
  explicit promise_base(const corio::source_location& coroutine) noexcept
      : line_(coroutine.line() | before_first_await), file_(coroutine.file_name()), function_(coroutine.function_name()) {}
  ~promise_base() = default;

  std::exception_ptr error_;

 private:
  template <class T> friend class task_awaiter;
  friend class task_state;
  friend struct final_awaiter;
  friend struct initial_awaiter;

  // The top bit of line_: no co_await yet, the rest is the coroutine's own line. No source file
  // has 2^31 lines.
  static constexpr std::uint_least32_t before_first_await = std::uint_least32_t{1} << 31;

  std::coroutine_handle<> continuation_;
  task_state* owner_ = nullptr;
  promise_base* awaiting_ = nullptr;
  inline_state inline_ = inline_state::not_inline;
  bool ended_by_cancellation_ = false;
  std::uint_least32_t line_;  // in what would be padding: a frame grows by two pointers
  const char* file_;
  const char* function_;
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
