// runtime/task_group.hpp — structured concurrency: asyncio.TaskGroup, trio's nursery.
//
//   co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
//     for (auto& url : urls) group.spawn(fetch(url));
//     co_return;                                  // run() now waits for every child
//   });
//
// run(body) runs `body(group)` inline in the awaiting task; the body (and its children) spawn
// children into the group. run() returns when the body and every child have finished — nothing
// spawned into a group outlives it, which is why the group only exists inside run(): C++
// destructors cannot wait, so a group object that could be dropped early could not keep that
// promise.
//
// Failures:
//   * The first failure (of the body or of a child; corio::cancelled does not count) cancels
//     the body and every other child; run() waits for all of them, then rethrows that first
//     exception.
//   * Every other real failure is logged through spdlog ("task_group: another task failed
//     too"), once, and then dropped: one exception can be rethrown, and dropping the others
//     silently would hide bugs (asyncio raises an ExceptionGroup instead; C++ has none).
//   * Cancelling the task that awaits run() cancels the body and every child, waits for them,
//     and throws corio::cancelled (a real failure found on the way is logged as above).
// Children resume on the loop's thread; spawn() never runs the child inside the call.
#pragma once

#include <coroutine>
#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>

#include "cancel_scope.hpp"
#include "errors.hpp"
#include "frame_allocator.hpp"
#include "log.hpp"
#include "source_location.hpp"
#include "spawn.hpp"
#include "task.hpp"
#include "task_state.hpp"

namespace corio {

class task_group {
 public:
  /// Runs `body(group)` and then waits for every child (see the file comment).
  /// `body` is a callable taking task_group& and returning task<void>.
  template <class Body>
  static task<void> run(Body body);

  /// Starts `t` as a child of the group, on a later turn. Any task may spawn into the group
  /// while run() is in progress (the group only exists until then).
  template <class T>
  void spawn(task<T> t, std::string_view name = {}, corio::source_location where = corio::source_location::current()) {
    detail::task_state* child = corio::spawn(std::move(t), name, where).release_state();
    adopt(*child);
  }
  /// spawn() of a socket operation (detail::task_operation, task.hpp): spawns its task.
  template <detail::task_operation Op>
  void spawn(Op operation, std::string_view name = {}, corio::source_location where = corio::source_location::current()) {
    spawn(std::move(operation).as_task(), name, where);
  }

  /// Cancels the body and every child (trio's nursery.cancel_scope.cancel()); run() then
  /// returns normally, unless something failed.
  void cancel() noexcept {
    body_scope_.cancel();
    cancel_children();
  }

  /// Children still running.
  [[nodiscard]] std::size_t size() const noexcept { return running_; }

  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

 private:
  // One per running child: the child's completion listener, linked into the group's list so
  // that a finished child leaves in O(1). Comes from the frame allocator, like task records.
  struct member final : detail::completion_listener {
    member(task_group& g, detail::task_state& c) noexcept : group(g), child(&c) {}
    static void* operator new(std::size_t size) { return detail::allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { detail::deallocate_frame(p, size); }
    void on_task_done(detail::task_state& finished) noexcept override { group.child_done(*this, finished); }

    task_group& group;
    detail::task_state* child;
    member* prev = nullptr;
    member* next = nullptr;
  };

  // Parks the group's owner until no child is running.
  class join_awaiter final : public detail::waiter {
   public:
    explicit join_awaiter(task_group& g) noexcept : group_(g) {}
    [[nodiscard]] bool await_ready() const noexcept { return group_.running_ == 0; }
    template <detail::corio_promise P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
      owner_ = &detail::task_of(h);
      resume_point = h;
      if (owner_->cancel_requested()) group_.cancel_children();
      if (group_.running_ == 0) return false;
      group_.joiner_ = this;
      owner_->park(*this);
      return true;
    }
    void await_resume() const noexcept {}
    bool on_cancel() noexcept override {  // cannot stop waiting before the children are done
      group_.cancel_children();
      return false;
    }
    void children_done() noexcept { owner_->wake(*this); }
    [[nodiscard]] std::string describe() const override {  // for await chains (await_chain.hpp)
      return "task_group join (" + std::to_string(group_.running_) + " running)";
    }

   private:
    task_group& group_;
    detail::task_state* owner_ = nullptr;
  };

  task_group() noexcept = default;
  ~task_group() {
    // Only reached early if the loop is destroyed with the group's task still suspended.
    while (head_ != nullptr) {
      member* m = head_;
      unlink(*m);
      m->child->set_listener(nullptr);
      m->child->request_cancel();
      m->child->release_handle(false);
      delete m;
    }
  }

  void adopt(detail::task_state& child) {
    auto* m = new member(*this, child);
    child.set_listener(m);
    m->prev = tail_;
    (tail_ != nullptr ? tail_->next : head_) = m;
    tail_ = m;
    ++running_;
  }

  void unlink(member& m) noexcept {
    (m.prev != nullptr ? m.prev->next : head_) = m.next;
    (m.next != nullptr ? m.next->prev : tail_) = m.prev;
  }

  void child_done(member& m, detail::task_state& child) noexcept {
    if (child.failed() && !child.root().ended_by_cancellation()) record_failure(child.root().error());
    unlink(m);
    --running_;
    child.release_handle(/*result_retrieved=*/true);  // its error, if any, was handled above
    delete &m;
    if (running_ == 0 && joiner_ != nullptr) std::exchange(joiner_, nullptr)->children_done();
  }

  void record_failure(const std::exception_ptr& error) noexcept {
    if (first_error_ == nullptr) {
      first_error_ = error;
      body_scope_.cancel();
      cancel_children();
    } else {
      detail::log_suppressed_exception("task_group: another task failed too", error);
    }
  }

  void cancel_children() noexcept {
    for (member* m = head_; m != nullptr; m = m->next) m->child->request_cancel();
  }

  cancel_scope body_scope_;
  std::exception_ptr first_error_;
  member* head_ = nullptr;
  member* tail_ = nullptr;
  join_awaiter* joiner_ = nullptr;
  std::size_t running_ = 0;
};

template <class Body>
task<void> task_group::run(Body body) {
  static_assert(std::is_same_v<decltype(body(std::declval<task_group&>())), task<void>>,
                "task_group::run(body): body(group) must return corio::task<void>");
  detail::task_state& self = co_await detail::this_task{};
  task_group group;
  std::exception_ptr body_error;
  bool body_cancelled = false;
  try {
    (void)co_await group.body_scope_.run(body(group));  // empty when the group cancelled the body
  } catch (...) {
    body_error = std::current_exception();
    body_cancelled = detail::handling_cancellation();  // from outside: the children go too
  }
  if (body_cancelled) {
    group.cancel_children();
  } else if (body_error != nullptr) {
    group.record_failure(body_error);
  }
  co_await join_awaiter(group);
  if (self.cancel_requested()) {  // cancelled from outside: that is what the caller must see
    if (group.first_error_ != nullptr) detail::log_suppressed_exception("task_group: a task failed", group.first_error_);
    detail::throw_cancelled();
  }
  if (group.first_error_ != nullptr) std::rethrow_exception(group.first_error_);
  if (body_error != nullptr) std::rethrow_exception(body_error);
}

}  // namespace corio
