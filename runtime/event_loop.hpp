// runtime/event_loop.hpp — the loop: a ready queue, a timer wheel and a poller.
//
//          +-------------------------- event_loop::run_once() --------------------------+
//          |  1. run ready coroutines: at most `event_interval` of those already queued |
//          |  2. expire timers: drain every due wheel slot, then wake their tasks        |
//          |  3. poll: if tasks are ready, just look (timeout 0); else block in the      |
//          |     poller until the next timer is due (manual clock: jump to it instead)   |
//          +-----------------------------------------------------------------------------+
//
// Fairness: phase 1 runs only what was queued when the turn began, capped at event_interval
// (61, Tokio's default), so a task that keeps yielding cannot starve timers or I/O.
//
// One loop per thread, and only that thread touches it. Tasks learn their loop through their
// task record; the free functions (spawn) use event_loop::current(), which is set while a loop
// runs on this thread.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include "source_location.hpp"
#include <string>
#include <string_view>

#include "../timers/clock.hpp"
#include "../timers/wheel.hpp"
#include "poller.hpp"
#include "ready_queue.hpp"
#include "task_state.hpp"

namespace corio {

namespace detail {

/// A timer the loop owns a reference to: the wheel's intrusive node plus what to do when it
/// fires. on_fire() runs after the whole due batch has been drained (drain, then resume) and
/// must only schedule work, never resume a coroutine itself.
class timer_entry : public timers::timer_node {
 public:
  virtual void on_fire() noexcept = 0;

 protected:
  timer_entry() = default;
  ~timer_entry() = default;
};

/// Something registered with the poller: told which way its descriptor became ready.
class io_handler {
 public:
  virtual void on_ready(bool readable, bool writable) noexcept = 0;

 protected:
  io_handler() = default;
  ~io_handler() = default;
};

}  // namespace detail

class event_loop {
 public:
  struct options {
    corio::clock clock = corio::clock::steady();
    /// Resumptions per turn before timers and I/O are looked at again, even while tasks are
    /// ready (Tokio's event_interval). Larger: more throughput; smaller: fairer latency.
    unsigned event_interval = 61;
  };

  event_loop() : event_loop(options{}) {}
  explicit event_loop(options opts);
  /// Destroys every task still alive without resuming it (their destructors run, in no
  /// particular order); nothing runs after this returns.
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// One turn of the loop (the picture above). Returns false when, after this turn, nothing
  /// could ever happen again: no task ready, no timer armed, no descriptor registered (or a
  /// manual clock that may not jump).
  /// Throws std::logic_error when another loop is already running on this thread.
  bool run_once();

  /// Makes the current turn (or the next one) return without blocking in the poller, once the
  /// ready coroutines of that turn have run (asyncio's loop.stop()). run() uses it to return as
  /// soon as the main task finishes, even while other tasks still sleep.
  void stop() noexcept { stop_requested_ = true; }

  /// Requests cancellation of every live task.
  void cancel_all() noexcept;
  /// cancel_all(), then runs turns until no task is left (asyncio.run's final phase). Tasks that
  /// still cannot finish (nothing can wake them) are left for the destructor.
  void shutdown();

  [[nodiscard]] time_point now() const noexcept { return clock_.now(); }
  [[nodiscard]] corio::clock& clock() noexcept { return clock_; }
  [[nodiscard]] std::size_t live_tasks() const noexcept { return live_count_; }
  [[nodiscard]] std::size_t armed_timers() const noexcept { return wheel_.size(); }
  [[nodiscard]] std::size_t registrations() const noexcept { return poller_.registrations(); }
  [[nodiscard]] std::size_t ready_high_water_mark() const noexcept { return ready_.high_water_mark(); }
  [[nodiscard]] std::uint64_t resumptions() const noexcept { return resumptions_; }

  /// The loop running on this thread (inside run_once), or nullptr.
  [[nodiscard]] static event_loop* current() noexcept;

  /// Calls `visit(const detail::task_state&)` for every live task, oldest first.
  template <class F>
  void for_each_task(F&& visit) const {
    for (const detail::task_state* t = live_head_; t != nullptr; t = t->next_live) visit(*t);
  }

  // --- for awaitables and spawn (not for application code) ---
  [[nodiscard]] detail::task_state* current_task() const noexcept { return current_task_; }
  void arm(detail::timer_entry& timer, time_point deadline) noexcept { wheel_.insert(timer, deadline); }
  void disarm(detail::timer_entry& timer) noexcept { wheel_.cancel(timer); }
  /// Makes a task record for `frame` (not yet started), queues it, and returns it.
  detail::task_state& start_task(std::coroutine_handle<> frame, detail::promise_base& root,
                                 std::string_view name, corio::source_location spawn_site);
  void task_finished(detail::task_state& t) noexcept;

 private:
  void run_ready_batch();
  void fire_due_timers();
  void poll_io(std::optional<duration> timeout);
  bool wait_for_work();

  corio::clock clock_;
  unsigned event_interval_;
  detail::ready_queue ready_;
  timers::wheel wheel_;
  detail::poller poller_;
  detail::task_state* live_head_ = nullptr;
  detail::task_state* live_tail_ = nullptr;
  std::size_t live_count_ = 0;
  detail::task_state* current_task_ = nullptr;
  std::uint64_t resumptions_ = 0;
  std::uint32_t next_task_id_ = 1;
  bool stop_requested_ = false;
};

}  // namespace corio
