// runtime/task_state.hpp — the record of one spawned task, and the two hooks through which
// anything a task can wait on talks to it.
//
// A task's life, and who frees what:
//
//   spawn ──> ready ──> running ⇄ parked on a waiter ──> finished ──> freed
//                 \_____ cancel requested: the next (or current) wait throws corio::cancelled
//
//   * the coroutine frame lives until the task finished AND its join_handle let go of the
//     result (awaited, dropped or detached); a detached task's frame goes as soon as it finishes;
//   * this record lives as long as either the frame or the handle does.
//
// Invariant: a suspended task is either parked on exactly one waiter (`current_wait_`) or sits
// in the ready queue, never both, so a task is resumed exactly once per suspension. Wake-ups
// and cancellation both go through park()/wake(), which maintain it.
#pragma once

#include <coroutine>
#include <cstdint>
#include "source_location.hpp"
#include <memory>
#include <string>
#include <string_view>

#include "../timers/clock.hpp"
#include "promise_base.hpp"
#include "ready_queue.hpp"

namespace corio {
class event_loop;
class cancel_scope;
}

namespace corio::detail {

/// Base of every leaf awaitable that parks a task (sleep, join, gather, and later I/O, locks...).
class waiter {
 public:
  /// The owning task was cancelled while parked here. Unregister from whatever this waits on,
  /// then return true to resume the task now (its await_resume throws corio::cancelled), or
  /// false when the wait must finish first (gather waits for its cancelled children).
  virtual bool on_cancel() noexcept = 0;

  /// What the parked task waits for, for people: "sleep, due in 1.500 s", "fd 7 readable",
  /// "join of task #4 'fetch'" (await_chain.hpp prints it). Only called while parked here, on
  /// the loop's thread; debugging aid, so it may allocate.
  [[nodiscard]] virtual std::string describe() const { return "an unnamed wait"; }

  std::coroutine_handle<> resume_point;  // the coroutine that suspended on this waiter

 protected:
  waiter() = default;
  ~waiter() = default;
};

/// Told when a task finishes; a task has at most one (the awaiter of its join_handle, or the
/// gather that spawned it).
class completion_listener {
 public:
  virtual void on_task_done(task_state& finished) noexcept = 0;

 protected:
  completion_listener() = default;
  ~completion_listener() = default;
};

class task_state {
 public:
  task_state(ready_queue& ready, std::coroutine_handle<> frame, promise_base& root,
             std::string_view name, corio::source_location spawn_site, task_state* parent,
             std::uint32_t id);
  task_state(const task_state&) = delete;
  task_state& operator=(const task_state&) = delete;

  // Records are small and made once per spawn: they come from the frame allocator too.
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }

  // --- identity (for logs, and for await-chain dumps later) ---
  [[nodiscard]] std::string_view name() const noexcept { return name_ ? std::string_view(*name_) : std::string_view(); }
  [[nodiscard]] const corio::source_location& spawn_site() const noexcept { return spawn_site_; }
  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
  [[nodiscard]] task_state* parent() const noexcept { return parent_; }
  [[nodiscard]] event_loop& loop() const noexcept { return ready_->loop(); }
  [[nodiscard]] const promise_base& root() const noexcept { return *root_; }
  [[nodiscard]] std::coroutine_handle<> frame() const noexcept { return frame_; }
  [[nodiscard]] const waiter* current_wait() const noexcept { return current_wait_; }

  // --- state ---
  [[nodiscard]] bool done() const noexcept { return done_; }
  /// Is the code this task is running now cancelled? True when one of its enclosing cancel
  /// scopes, or the task itself, was cancelled — looking outwards from the innermost scope and
  /// stopping at the first shield (see cancel_scope.hpp). Every suspension checks it.
  [[nodiscard]] bool cancel_requested() const noexcept {
    return innermost_scope_ == nullptr ? cancel_requested_ : scoped_cancel_requested();
  }
  /// True when the task ended with an exception (corio::cancelled included).
  [[nodiscard]] bool failed() const noexcept { return root_->failed(); }

  /// Cancels the whole task: the current suspension (if parked) or the next one throws
  /// corio::cancelled, unless a shield is in the way. Idempotent; a no-op once it finished.
  void request_cancel() noexcept;

  /// A cancellation now applies (a scope or the task was cancelled): if the task is parked and
  /// cancel_requested() says so, unregister its wait and queue it to throw corio::cancelled.
  void deliver_cancel() noexcept;

  // --- cancel scopes: a stack threaded through the scopes, innermost first ---
  [[nodiscard]] cancel_scope* innermost_scope() const noexcept { return innermost_scope_; }
  void set_innermost_scope(cancel_scope* s) noexcept { innermost_scope_ = s; }

  // --- used by waiters ---
  /// The one branch each costs when no timeout is active and no trace is recorded is the whole
  /// price of timeout blame and tracing on the hot path (bench/chains_bench.cpp).
  void park(waiter& w) noexcept {
    current_wait_ = &w;
    if (timed_scopes_ != 0) [[unlikely]] note_park_time();
  }
  /// Ends the wait on `w` and queues its coroutine. Precondition: parked on `w`.
  void wake(waiter& w) {
    if (traced_) [[unlikely]] trace_wake(w);
    current_wait_ = nullptr;
    schedule(w.resume_point);
  }

  // --- timeout blame (timeout.hpp): while a limit is active, each park notes the time ---
  void enter_timed_scope() noexcept { ++timed_scopes_; }
  void leave_timed_scope() noexcept { --timed_scopes_; }
  /// When the task last parked, if it did so inside a timeout (else time_point::min()).
  [[nodiscard]] time_point parked_since() const noexcept { return parked_since_; }

  // --- tracing (trace.hpp): a traced task reports its wake-ups to the loop's recorder ---
  [[nodiscard]] bool traced() const noexcept { return traced_; }
  void set_traced(bool on) noexcept { traced_ = on; }
  /// Queues `h` (a coroutine of this task) without a waiter: yield, first start.
  void schedule(std::coroutine_handle<> h) { ready_->push({h, this}); }

  // --- used by join_handle / gather ---
  [[nodiscard]] completion_listener* listener() const noexcept { return listener_; }
  void set_listener(completion_listener* l) noexcept { listener_ = l; }
  /// The join_handle lets go of the task (awaited, dropped or detached). A finished task's frame
  /// is freed now; an unfinished one's when it finishes. Logs an exception nobody retrieved.
  void release_handle(bool result_retrieved) noexcept;

  // --- used by task.hpp and event_loop ---
  void on_root_finished() noexcept;
  void destroy_unfinished() noexcept;

  // Intrusive links of the loop's list of live tasks.
  task_state* prev_live = nullptr;
  task_state* next_live = nullptr;

 private:
  [[nodiscard]] bool scoped_cancel_requested() const noexcept;
  void note_park_time() noexcept;
  void trace_wake(const waiter& w) noexcept;
  void destroy_frame() noexcept;
  void report_unretrieved_error() const noexcept;

  ready_queue* ready_;  // and through it, the loop
  std::coroutine_handle<> frame_;
  promise_base* root_;
  waiter* current_wait_ = nullptr;
  completion_listener* listener_ = nullptr;
  cancel_scope* innermost_scope_ = nullptr;
  task_state* parent_;
  std::unique_ptr<const std::string> name_;  // only allocated for a non-empty name
  corio::source_location spawn_site_;
  time_point parked_since_ = time_point::min();  // min: never noted
  std::uint32_t id_;  // for people reading logs; wraps after 4 billion spawns
  std::uint8_t timed_scopes_ = 0;  // active timeouts in this task (they nest, but not 255 deep)
  bool traced_ = false;
  bool cancel_requested_ = false;
  bool done_ = false;
  bool handle_alive_ = true;
};

}  // namespace corio::detail
