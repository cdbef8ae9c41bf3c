// runtime/spawn.hpp — corio::spawn (asyncio.create_task) and the join_handle it returns.
//
//   auto h = corio::spawn(fetch(url), "fetch");   // starts concurrently, on the next turn
//   ...
//   std::string body = co_await h;                // the result, or its exception rethrown
//
// A join_handle owns the right to the task's result:
//   * `co_await h`   waits for the task and returns its result (once; awaiting again throws
//                    corio::broken_promise). Cancel-safe: if the *awaiting* task is cancelled,
//                    the wait ends with corio::cancelled and the joined task keeps running.
//   * `h.cancel()`   asks the task to stop: its current or next suspension throws
//                    corio::cancelled (which, unless the task catches it, becomes its result).
//   * `h.detach()`   lets it run on its own; if it fails, the error is logged once
//                    ("Task exception was never retrieved", with the task's name).
//   * dropping `h`   without awaiting or detaching CANCELS the task (std::jthread's rule):
//                    a task never outlives its handle silently.
//
// Lifetime of what the task owns: its result is kept in its coroutine frame, so the frame, and
// with it the task's parameters (say, a socket moved into `handle(std::move(sock))`), lives
// until the task finished AND the handle let go of it (awaited, dropped or detached). A task
// that must release something as soon as it ends closes it itself, or is detached.
#pragma once

#include <coroutine>
#include "source_location.hpp"
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "errors.hpp"
#include "event_loop.hpp"
#include "task.hpp"

namespace corio {

template <class T>
class [[nodiscard]] join_handle {
  using frame_handle = std::coroutine_handle<detail::task_promise<T>>;

 public:
  join_handle() noexcept = default;
  explicit join_handle(detail::task_state& task) noexcept : task_(&task) {}
  join_handle(join_handle&& other) noexcept
      : task_(std::exchange(other.task_, nullptr)), retrieved_(other.retrieved_) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      drop();
      task_ = std::exchange(other.task_, nullptr);
      retrieved_ = other.retrieved_;
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() { drop(); }

  /// False for an empty (default-constructed, moved-from, detached) handle.
  [[nodiscard]] bool valid() const noexcept { return task_ != nullptr; }
  /// True once the task finished (with a value, an exception, or cancelled).
  [[nodiscard]] bool done() const noexcept { return task_ != nullptr && task_->done(); }

  /// Requests cancellation; idempotent; does nothing once the task finished.
  void cancel() noexcept {
    if (task_ != nullptr) task_->request_cancel();
  }

  /// Lets the task run on without a handle. The handle becomes empty.
  void detach() noexcept {
    if (task_ != nullptr) std::exchange(task_, nullptr)->release_handle(false);
  }

  /// The result of a finished task, or its exception rethrown (asyncio's Task.result()).
  /// Throws corio::broken_promise if the task has not finished or the result was already taken.
  T result() {
    if (!done()) throw broken_promise("join_handle::result(): the task has not finished");
    return take();
  }

  /// The task record, for corio's own combinators (gather). Not for application code.
  [[nodiscard]] detail::task_state* state() const noexcept { return task_; }
  /// Hands the task over to its new owner (task_group), which must call release_handle() on
  /// it. The handle becomes empty without cancelling anything. Not for application code.
  [[nodiscard]] detail::task_state* release_state() noexcept { return std::exchange(task_, nullptr); }

  class awaiter;
  awaiter operator co_await() & noexcept { return awaiter(*this); }
  awaiter operator co_await() && noexcept { return awaiter(*this); }

 private:
  void drop() noexcept {
    if (task_ == nullptr) return;
    task_->request_cancel();
    std::exchange(task_, nullptr)->release_handle(retrieved_);
  }

  T take() {
    if (task_ == nullptr) throw broken_promise("join_handle: awaiting an empty handle");
    if (retrieved_) throw broken_promise("join_handle: the result was already taken");
    retrieved_ = true;
    return frame_handle::from_address(task_->frame().address()).promise().take();
  }

  detail::task_state* task_ = nullptr;
  bool retrieved_ = false;
};

/// Parks the awaiting task until the joined task finishes.
template <class T>
class join_handle<T>::awaiter final : public detail::waiter, public detail::completion_listener {
 public:
  explicit awaiter(join_handle& handle) noexcept : handle_(&handle) {}
  awaiter(const awaiter&) = delete;
  awaiter& operator=(const awaiter&) = delete;
  ~awaiter() {
    if (joined_ != nullptr && joined_->listener() == this) joined_->set_listener(nullptr);
  }

  [[nodiscard]] bool await_ready() const noexcept { return handle_->task_ == nullptr || handle_->done(); }

  template <detail::corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    owner_ = &detail::task_of(h);
    if (owner_->cancel_requested()) return false;
    joined_ = handle_->task_;
    if (joined_->listener() != nullptr) throw broken_promise("join_handle awaited by two tasks at once");
    joined_->set_listener(this);
    resume_point = h;
    owner_->park(*this);
    return true;
  }

  T await_resume() {
    if (owner_ != nullptr && owner_->cancel_requested()) detail::throw_cancelled();
    return handle_->take();
  }

  void on_task_done(detail::task_state&) noexcept override { owner_->wake(*this); }

  bool on_cancel() noexcept override {
    joined_->set_listener(nullptr);  // the joined task runs on; only our wait ends
    return true;
  }

  [[nodiscard]] std::string describe() const override {
    std::string text = "join of task #" + std::to_string(joined_->id());
    if (!joined_->name().empty()) text += " '" + std::string(joined_->name()) + "'";
    return text;
  }

 private:
  join_handle* handle_;
  detail::task_state* owner_ = nullptr;
  detail::task_state* joined_ = nullptr;
};

namespace detail {
/// spawn() on a given loop, whether or not it is running (run() and the test driver use it).
/// spawn() of a task that was already awaited (T-27). Out of line, so that spawn_on stays small
/// enough to inline (bench/overhead.cpp, spawn).
[[noreturn, gnu::cold, gnu::noinline]] inline void reject_spawn_of_awaited(std::coroutine_handle<> frame) {
  if (frame.done()) frame.destroy();  // a frame still running belongs to its awaiter
  throw broken_promise("corio::spawn: the task was already awaited");
}

template <class T>
join_handle<T> spawn_on(event_loop& loop, task<T> t, std::string_view name, corio::source_location where) {
  if (!t.valid()) throw broken_promise("corio::spawn: empty task");
  auto frame = t.release();
  if (frame.promise().owner() != nullptr) [[unlikely]] reject_spawn_of_awaited(frame);
  return join_handle<T>(loop.start_task(frame, frame.promise(), name, where));
}
}  // namespace detail

/// Starts `t` as a task of its own on the running loop; it first runs on a later turn, never
/// inside spawn(). `name` and the call site show up in logs (and in task dumps).
/// Throws std::logic_error when no loop is running on this thread.
template <class T>
join_handle<T> spawn(task<T> t, std::string_view name = {},
                     corio::source_location where = corio::source_location::current()) {
  event_loop* loop = event_loop::current();
  if (loop == nullptr) throw std::logic_error("corio::spawn: no event loop is running on this thread");
  return detail::spawn_on(*loop, std::move(t), name, where);
}

/// spawn() of a socket operation (detail::task_operation, task.hpp): spawns its task.
template <detail::task_operation Op>
join_handle<typename Op::task_type::value_type> spawn(Op operation, std::string_view name = {},
                                                      corio::source_location where = corio::source_location::current()) {
  return spawn(std::move(operation).as_task(), name, where);
}

}  // namespace corio
