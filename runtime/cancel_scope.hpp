// runtime/cancel_scope.hpp — cancelling part of a task: cancel scopes and shields (trio's
// CancelScope, anyio's CancelScope(shield=True)).
//
//   corio::cancel_scope scope;
//   auto spawned = corio::spawn(watchdog(scope));          // may call scope.cancel() later
//   std::optional<int> r = co_await scope.run(compute());  // empty if the scope cancelled it
//
// A task runs inside a stack of scopes, innermost first, threaded through the scope objects
// (which live in coroutine frames) and anchored in the task record:
//
//   task_state::innermost_scope_ --> [scope C] --parent--> [shield B] --parent--> [scope A] --> (the task)
//
// "Is the running code cancelled?" walks that chain outwards: a cancelled scope answers yes; a
// shield stops the walk (nothing from outside reaches in); past the last scope, the task's own
// flag (join_handle::cancel) answers. The answer is level-triggered: as long as a cancelled
// scope encloses the code, EVERY suspension throws corio::cancelled again, so catching and
// swallowing one cancellation cannot hide it.
//
// Contract:
//   * cancel() may be called from any task on the loop's thread, before, during or after run().
//     If the task is parked inside the scope, its wait is unregistered at once and it resumes
//     on a later turn with corio::cancelled; what the interrupted wait leaves behind is that
//     awaitable's contract (nothing, for every corio primitive).
//   * run(work) runs `work` inline in the awaiting task. When the work ends with
//     corio::cancelled because of THIS scope, and nothing outside it is cancelled, run() returns
//     an empty optional (trio's move_on). Otherwise the outcome passes through unchanged: the
//     value, the work's own exception, or corio::cancelled from an outer cancellation.
//   * shield(work) runs `work` where no outer cancellation can interrupt it; once it returns,
//     a pending outer cancellation strikes at the next suspension.
//   * A scope is entered by one run() at a time.
#pragma once

#include <cassert>
#include <coroutine>
#include <optional>
#include <type_traits>
#include <variant>

#include "errors.hpp"
#include "promise_base.hpp"
#include "task.hpp"
#include "task_state.hpp"

namespace corio {

namespace detail {

/// `co_await this_task{}` gives the running task's record, without suspending.
struct this_task {
  task_state* found = nullptr;
  [[nodiscard]] bool await_ready() const noexcept { return false; }
  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    found = &task_of(h);
    return false;  // not a suspension: continue at once
  }
  [[nodiscard]] task_state& await_resume() const noexcept { return *found; }
};

/// Runs `work` and returns its value (std::monostate for void).
template <class T>
task<value_t<T>> value_of(task<T> work) {
  if constexpr (std::is_void_v<T>) {
    co_await std::move(work);
    co_return std::monostate{};
  } else {
    co_return co_await std::move(work);
  }
}

class scope_entry;

}  // namespace detail

class cancel_scope {
 public:
  cancel_scope() noexcept = default;
  cancel_scope(const cancel_scope&) = delete;
  cancel_scope& operator=(const cancel_scope&) = delete;
  ~cancel_scope() { assert(owner_ == nullptr && "cancel_scope destroyed while work runs inside it"); }

  /// A scope that outer cancellations cannot cross (its own cancel() still works inside).
  [[nodiscard]] static cancel_scope shielding() noexcept { return cancel_scope(true); }

  /// Cancels the work inside this scope, now and at every later suspension inside it.
  void cancel() noexcept {
    if (cancelled_) return;
    cancelled_ = true;
    if (owner_ != nullptr) owner_->deliver_cancel();
  }

  [[nodiscard]] bool cancel_called() const noexcept { return cancelled_; }
  [[nodiscard]] bool shielded() const noexcept { return shield_; }
  [[nodiscard]] cancel_scope* parent() const noexcept { return parent_; }

  /// Runs `work` inside this scope; empty when this scope cancelled it (see the contract).
  template <class T>
  task<std::optional<detail::value_t<T>>> run(task<T> work);

 private:
  friend class detail::scope_entry;
  explicit cancel_scope(bool shield) noexcept : shield_(shield) {}

  cancel_scope* parent_ = nullptr;
  detail::task_state* owner_ = nullptr;
  bool cancelled_ = false;
  bool shield_ = false;
};

namespace detail {

/// Pushes `scope` on task `t`'s scope stack for the lifetime of this object (a coroutine
/// local, so frames unwind scopes in the right order).
class scope_entry {
 public:
  scope_entry(cancel_scope& scope, task_state& t) noexcept : scope_(scope) {
    assert(scope.owner_ == nullptr && "a cancel_scope is entered by one run() at a time");
    scope.owner_ = &t;
    scope.parent_ = t.innermost_scope();
    t.set_innermost_scope(&scope);
  }
  scope_entry(const scope_entry&) = delete;
  scope_entry& operator=(const scope_entry&) = delete;
  ~scope_entry() {
    assert(scope_.owner_->innermost_scope() == &scope_ && "cancel scopes must nest");
    scope_.owner_->set_innermost_scope(scope_.parent_);
    scope_.owner_ = nullptr;
    scope_.parent_ = nullptr;
  }

 private:
  cancel_scope& scope_;
};

}  // namespace detail

template <class T>
task<std::optional<detail::value_t<T>>> cancel_scope::run(task<T> work) {
  detail::task_state& t = co_await detail::this_task{};
  {
    detail::scope_entry entry(*this, t);
    try {
      co_return co_await detail::value_of(std::move(work));
    } catch (const cancelled&) {
      if (!cancelled_) throw;  // not ours: an outer scope or the task was cancelled
    }
  }
  if (t.cancel_requested()) detail::throw_cancelled();  // an outer cancellation came too: it wins
  co_return std::nullopt;
}

/// Runs `work` so that no cancellation from outside can interrupt it (a critical section).
template <class T>
task<T> shield(task<T> work) {
  detail::task_state& t = co_await detail::this_task{};
  cancel_scope scope = cancel_scope::shielding();
  detail::scope_entry entry(scope, t);
  co_return co_await std::move(work);
}

}  // namespace corio
