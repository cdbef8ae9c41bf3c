// runtime/task.hpp — corio::task<T>, the coroutine type everything else is built from.
//
// A task is lazy: calling a `task<T>` function allocates its frame and stops before the first
// statement. It runs when it is awaited (`co_await f()`, inline in the awaiting task) or
// spawned (`corio::spawn(f())`, as a task of its own). It is move-only and [[nodiscard]]:
// a task that is neither awaited nor spawned never runs, and the compiler says so.
//
// Result and errors: `co_await f()` returns what f co_returned, or rethrows the exception that
// escaped f (corio::cancelled included). Awaiting an empty (moved-from) task, or a task a second
// time (finished, or still running for another awaiter), throws corio::broken_promise.
//
// Where it resumes: a task awaited by another resumes its awaiter directly when it finishes
// (symmetric transfer), on the loop's thread; nothing goes through the ready queue.
//
// Stack depth. `co_await child` where the child finishes without suspending must not grow the
// stack, or a loop of a million such awaits overflows it. Symmetric transfer only guarantees
// that with a real tail call, which g++ 12 does not emit at -O0 or under ASan/TSan
// (reliability.md §6). So the awaiter starts the child with an ordinary resume() and watches a
// flag (cppcoro's bool-returning await_suspend technique):
//   * the child finishes inline  -> its final awaiter returns to us; await_suspend returns false
//                                   and the parent continues on the same stack frame;
//   * the child parks somewhere  -> await_suspend returns true; when the child later finishes
//                                   (resumed by the loop), its final awaiter transfers to the
//                                   parent — one frame deep, from the loop's shallow stack.
#pragma once

#include <cassert>
#include <concepts>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "debug.hpp"
#include "errors.hpp"
#include "promise_base.hpp"
#include "source_location.hpp"
#include "task_state.hpp"

namespace corio {

template <class T = void>
class task;

namespace detail {

/// What a task<T> gives as a value: T, or std::monostate for task<void> (so that combinators
/// can hold every result in a tuple, variant or optional).
template <class T>
using value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// Checked when a frame is first resumed: a spawned task cancelled before it ever ran does not
/// start its body (asyncio behaves the same), it finishes with corio::cancelled at once.
struct initial_awaiter {
  promise_base* promise;
  [[nodiscard]] bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const {
    task_state* owner = promise->owner_;
    if (owner != nullptr && !promise->continuation_ && owner->cancel_requested()) throw_cancelled();
  }
};

struct final_awaiter {
  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <corio_promise P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> finished) const noexcept {
    promise_base& p = finished.promise();
    if (p.inline_ == inline_state::running_inline) {
      p.inline_ = inline_state::completed_inline;  // back into the awaiter's await_suspend
      return std::noop_coroutine();
    }
    if (p.continuation_) return p.continuation_;  // parent was parked on us: resume it
    p.owner_->on_root_finished();                 // a spawned task ended (may free this frame)
    return std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

template <class T>
class task_promise final : public promise_base {
 public:
  static_assert(!std::is_reference_v<T>, "corio::task<T&> is not supported: return a pointer or a value");

  /// The compiler calls this inside the coroutine, so the default argument names the coroutine
  /// function itself (see promise_base.hpp, "Await sites").
  explicit task_promise(corio::source_location coroutine = corio::source_location::current()) noexcept
      : promise_base(coroutine) {}

  task<T> get_return_object() noexcept;
  initial_awaiter initial_suspend() noexcept { return {this}; }
  final_awaiter final_suspend() noexcept { return {}; }

  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.template emplace<1>(std::forward<U>(value));
  }

  /// Moves the result out, or rethrows the stored exception. Call once.
  T take() {
    if (error_) std::rethrow_exception(error_);
    assert(value_.index() == 1 && "corio::task result taken twice");
    return std::move(std::get<1>(value_));
  }

 private:
  std::variant<std::monostate, T> value_;
};

template <>
class task_promise<void> final : public promise_base {
 public:
  explicit task_promise(corio::source_location coroutine = corio::source_location::current()) noexcept
      : promise_base(coroutine) {}

  task<void> get_return_object() noexcept;
  initial_awaiter initial_suspend() noexcept { return {this}; }
  final_awaiter final_suspend() noexcept { return {}; }
  void return_void() noexcept {}
  void take() const {
    if (error_) std::rethrow_exception(error_);
  }
};

/// What `co_await some_task` does (see the "Stack depth" note at the top of this file).
template <class T>
class task_awaiter {
 public:
  explicit task_awaiter(std::coroutine_handle<task_promise<T>> child) noexcept : child_(child) {}

  /// Ready (nothing to run) when empty, or when the child was already started by an earlier
  /// co_await: await_resume then throws broken_promise instead of resuming that frame (T-27).
  [[nodiscard]] bool await_ready() const noexcept { return !child_ || child_.promise().owner() != nullptr; }

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> parent) noexcept {
    promise_base& child = child_.promise();
    parent_ = &parent.promise();
    child.continuation_ = parent;
    child.owner_ = parent_->owner_;
    child.inline_ = inline_state::running_inline;
    parent_->awaiting_ = &child;
    child_.resume();
    if (child.inline_ == inline_state::completed_inline) return false;  // finished: go on
    child.inline_ = inline_state::not_inline;  // parked: its final awaiter will resume us
    return true;
  }

  T await_resume() {
    if (!child_) throw broken_promise("co_await on an empty corio::task (moved from?)");
    if (parent_ == nullptr) throw broken_promise("co_await on a corio::task that was already awaited");
    parent_->awaiting_ = nullptr;
    return child_.promise().take();
  }

 private:
  std::coroutine_handle<task_promise<T>> child_;
  promise_base* parent_ = nullptr;
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  task() noexcept = default;
  task(task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      destroy_frame();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  /// Destroying a task that never ran frees its frame; its body never executes (debug mode
  /// warns about that: runtime/debug.hpp).
  ~task() { destroy_frame(); }

  /// False for a default-constructed or moved-from task.
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(frame_); }

  /// Runs the task inline in the awaiting task; see the file comment.
  detail::task_awaiter<T> operator co_await() && noexcept { return detail::task_awaiter<T>(frame_); }
  /// Awaiting a named task consumes it, so say so: `co_await std::move(t)`.
  void operator co_await() & = delete;

  /// Hands the frame over to a new owner (spawn). The task becomes empty.
  [[nodiscard]] std::coroutine_handle<promise_type> release() noexcept { return std::exchange(frame_, {}); }

 private:
  friend promise_type;
  explicit task(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}

  // A frame with no owner was never awaited (the awaiter sets one) nor spawned (spawn takes
  // the frame away): one predictable branch, and a call only in that unusual case.
  void destroy_frame() noexcept {
    if (!frame_) return;
    if (frame_.promise().owner() == nullptr) [[unlikely]]
      detail::report_never_awaited(frame_.promise());
    frame_.destroy();
  }

  std::coroutine_handle<promise_type> frame_;
};

namespace detail {
/// An awaitable that can also be had as a task, `std::move(op).as_task()`: corio::net's
/// read_some and write_all (io/socket.hpp), which complete without a frame of their own when
/// they need not wait. corio::timeout, corio::spawn, gather, gather_settled, when_any and
/// task_group::spawn take one wherever they take a task.
template <class Op>
concept task_operation = requires(Op op) {
  { std::move(op).as_task() } -> std::same_as<typename Op::task_type>;
};

template <class A>
inline constexpr bool is_task = false;
template <class T>
inline constexpr bool is_task<task<T>> = true;

/// What the combinators (gather, gather_settled, when_any, task_group::spawn) take: a task, or
/// an operation, which then runs as its task.
template <class A>
concept task_or_operation = is_task<A> || task_operation<A>;

/// A task as it is; an operation as its task.
template <class T>
task<T> as_task(task<T> t) noexcept {
  return t;
}
template <task_operation Op>
typename Op::task_type as_task(Op operation) {
  return std::move(operation).as_task();
}

/// The mixed forms of the combinators forward to their all-task forms only when at least one
/// argument is an operation (so that an all-task call never picks the forwarding overload).
template <class... A>
concept mixed_with_operations = (task_or_operation<A> && ...) && (task_operation<A> || ...);

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace corio
