// runtime/event_loop.hpp — the loop: a ready queue, a timer wheel and a poller.
//
//          +-------------------------- event_loop::run_once() --------------------------+
//          |  1. run ready coroutines: at most `event_interval` of those already queued |
//          |  2. expire timers: drain every due wheel slot, then wake their tasks        |
//          |  3. poll: if tasks are ready, just look (timeout 0); else block in the      |
//          |     poller until the next timer is due (manual clock: jump to it instead),  |
//          |     then run the callbacks other threads posted (call_soon_threadsafe)      |
//          +-----------------------------------------------------------------------------+
//
// Idle rule: run_once() reports "nothing can ever happen" only when no task is ready, no timer
// is armed, no descriptor is registered, no to_thread job is in flight and nothing is posted.
// A job in flight counts like a registered descriptor: the loop blocks in the poller until the
// job's completion (a post) wakes it, and a manual autojump clock gives it the same short
// real-time grace as pending I/O before jumping to the next timer.
//
// Fairness: phase 1 runs only what was queued when the turn began, capped at event_interval
// (61, Tokio's default), so a task that keeps yielding cannot starve timers or I/O.
//
// Watching it: in debug mode (debug.hpp) phase 1 times each resumption and names a task that
// keeps the loop busy too long; metrics() (metrics.hpp) reads the loop's counters at any time.
//
// One loop per thread, and only that thread touches it. Tasks learn their loop through their
// task record; the free functions (spawn) use event_loop::current(), which is set while a loop
// runs on this thread.
//
// The one way in from other threads is call_soon_threadsafe (directly, or through a
// loop_handle from remote(), which may outlive the loop):
//
//   any thread: post(cb) ──lock──> mailbox [cb, cb, ...] ──first post since the last drain──>
//               poller.wake() (eventfd)  ──>  loop thread, phase 3: the poll returns, the loop
//               takes the whole mailbox under the lock and runs the callbacks in posting order
//
// The mailbox is shared (shared_ptr) between the loop and its handles; the loop closes it when
// it is destroyed, after which posts return false. A post wakes the poller while holding the
// mailbox lock, so it can never write to a poller that the loop has already destroyed.
//
// fork(): a loop belongs to the process that made it. The child of a fork() gets a copy that
// shares the parent's epoll instance, so in the child run_once() throws std::logic_error (make a
// new loop there), and closing an inherited socket leaves the shared poller alone, so the
// parent's registrations are untouched (reliability.md T-42). Do not destroy an inherited loop
// that used to_thread (its pool's threads do not exist in the child): exec or _exit instead.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../timers/clock.hpp"
#include "../timers/wheel.hpp"
#include "debug.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "poller.hpp"
#include "ready_queue.hpp"
#include "source_location.hpp"
#include "task_state.hpp"

namespace corio {

class thread_pool;  // thread_pool.hpp: only the loop's .cpp and to_thread.hpp need all of it
class trace_recorder;  // trace.hpp

namespace detail {

class pool_job;
enum class wake_cause : unsigned char;  // trace.hpp

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
  virtual void on_ready(const poll_event& event) noexcept = 0;
  /// The loop is being destroyed while this is still registered (a socket that outlives its
  /// loop): forget the loop; the poller is gone, so there is nothing to unwatch any more.
  virtual void on_loop_destroyed() noexcept {}

 protected:
  io_handler() = default;
  ~io_handler() = default;
};

/// A callback handed to the loop from any thread (event_loop::call_soon_threadsafe). Exactly one
/// of run() / discard() is called, once: run() on the loop's thread, discard() when the loop was
/// closed before it could run (on the posting thread).
class posted_callback {
 public:
  virtual void run() noexcept = 0;
  virtual void discard() noexcept = 0;

  posted_callback* next_posted = nullptr;

 protected:
  posted_callback() = default;
  ~posted_callback() = default;
};

/// The loop's cross-thread inbox (the picture at the top). post() is thread-safe; the rest is for
/// the loop's thread.
class mailbox {
 public:
  explicit mailbox(poller& p) noexcept : poller_(&p) {}
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

  /// Queues `cb` and wakes the loop. Returns false, leaving `cb` to the caller, once closed.
  [[nodiscard]] bool post(posted_callback& cb) noexcept;
  /// Something was posted since the last take_all(). A lock-free peek for the loop's hot path.
  [[nodiscard]] bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }
  /// Takes everything posted so far: a chain through next_posted, oldest first.
  [[nodiscard]] posted_callback* take_all() noexcept;
  /// Refuses every later post, and forgets the poller; returns what was accepted before.
  [[nodiscard]] posted_callback* close() noexcept;

 private:
  std::mutex mutex_;
  posted_callback* head_ = nullptr;
  posted_callback* tail_ = nullptr;
  poller* poller_;  // nullptr once closed
  std::atomic<bool> pending_{false};
};

template <class F>
class posted_fn final : public posted_callback {
 public:
  explicit posted_fn(F fn) : fn_(std::move(fn)) {}
  void run() noexcept override {
    try {
      fn_();
    } catch (...) {
      log_suppressed_exception("a callback posted with call_soon_threadsafe", std::current_exception());
    }
    delete this;
  }
  void discard() noexcept override { delete this; }

 private:
  F fn_;
};

/// Hands `fn` to `box`; false (and `fn` destroyed unrun) when the box is closed or absent.
template <class F>
bool post_to(mailbox* box, F&& fn) {
  if (box == nullptr) return false;
  auto* cb = new posted_fn<std::decay_t<F>>(std::forward<F>(fn));
  if (box->post(*cb)) return true;
  cb->discard();  // outside the mailbox lock: fn's destructor may post again
  return false;
}

}  // namespace detail

/// A way to reach a loop from another thread that stays valid after the loop is gone. Cheap to
/// copy (one shared_ptr); any number of threads may use one at once.
class loop_handle {
 public:
  /// A handle to no loop: every post fails.
  loop_handle() noexcept = default;

  /// Queues `fn` to run on the loop's thread during a later turn, after everything posted
  /// before it, and wakes the loop if it is blocked in the poller. Returns false, and destroys
  /// `fn` without running it, once the loop has been destroyed ([[nodiscard]]: a post that was
  /// refused is work that will never happen). What fn throws is logged.
  /// Throws only what allocating the callback or copying `fn` throws.
  template <class F>
  [[nodiscard]] bool call_soon_threadsafe(F&& fn) const {
    return detail::post_to(mailbox_.get(), std::forward<F>(fn));
  }

 private:
  friend class event_loop;
  explicit loop_handle(std::shared_ptr<detail::mailbox> box) noexcept : mailbox_(std::move(box)) {}
  std::shared_ptr<detail::mailbox> mailbox_;
};

class event_loop {
 public:
  struct options {
    corio::clock clock = corio::clock::steady();
    /// Resumptions per turn before timers and I/O are looked at again, even while tasks are
    /// ready (Tokio's event_interval). Larger: more throughput; smaller: fairer latency.
    unsigned event_interval = 61;
    /// Threads of the pool behind to_thread (made on first use); 0: thread_pool::default_size().
    std::size_t thread_pool_size = 0;
    /// Debug mode (runtime/debug.hpp): from_environment = on when CORIO_DEBUG=1.
    debug_mode debug = debug_mode::from_environment;
    /// In debug mode, a resumption that keeps the loop busy longer than this is logged
    /// (asyncio's slow_callback_duration).
    duration slow_resumption = std::chrono::milliseconds(100);
    /// The readiness API (poller.hpp): automatic = CORIO_POLLER from the environment, else the
    /// platform's best. Throws std::invalid_argument for one this platform lacks.
    poller_backend backend = poller_backend::automatic;
    /// Ready-queue shuffle, a debugging aid (ready_queue.hpp): a non-zero seed runs ready tasks
    /// in a seeded random order instead of FIFO, to flush out code that relies on an order corio
    /// does not promise; 0 keeps FIFO. Unset: CORIO_SHUFFLE_SEED from the environment, else 0.
    /// The seed in use is logged once (info level) so that a failing run can be replayed.
    /// Throws std::invalid_argument for a CORIO_SHUFFLE_SEED that is not a decimal number.
    std::optional<std::uint64_t> shuffle_seed = std::nullopt;
  };

  event_loop() : event_loop(options{}) {}
  explicit event_loop(options opts);
  /// In this order: closes the mailbox (later posts return false) and runs the callbacks it
  /// had accepted, so each accepted post runs exactly once; destroys the thread pool, which
  /// drops to_thread jobs that never started and WAITS for running ones to return; destroys
  /// every task still alive without resuming it (their destructors run, in no particular order).
  /// Nothing runs after this returns.
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// One turn of the loop (the picture above). Returns false when, after this turn, nothing
  /// could ever happen again: no task ready, no timer armed, no descriptor registered, no
  /// to_thread job in flight, no posted callback waiting (or a manual clock that may not jump).
  /// Throws std::logic_error when another loop is already running on this thread, or when this
  /// loop was inherited through fork() (see the top).
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

  /// The only members another thread may call. See loop_handle::call_soon_threadsafe; the
  /// handle stays valid (its posts fail) after this loop is destroyed.
  template <class F>
  [[nodiscard]] bool call_soon_threadsafe(F&& fn) {
    return detail::post_to(mailbox_.get(), std::forward<F>(fn));
  }
  [[nodiscard]] loop_handle remote() const noexcept { return loop_handle(mailbox_); }

  [[nodiscard]] time_point now() const noexcept { return clock_.now(); }
  /// The time as this turn first read it (libuv's uv_now): one clock read shared by the turn's
  /// tasks, read again at each turn, after each wait for I/O and when timers fire; behind now()
  /// by as long as the turn has run. For deadlines counted in seconds and times shown to people
  /// (HTTP's Date); measure with now(). A manual clock is read afresh each call, so tests see
  /// exactly the time they set. From the loop's own thread only.
  [[nodiscard]] time_point turn_time() noexcept { return turn_time_valid_ ? turn_time_ : read_turn_time(); }
  [[nodiscard]] corio::clock& clock() noexcept { return clock_; }
  [[nodiscard]] std::size_t live_tasks() const noexcept { return live_count_; }
  [[nodiscard]] std::size_t armed_timers() const noexcept { return wheel_.size(); }
  /// Descriptors registered that keep the loop alive (background ones are not counted).
  [[nodiscard]] std::size_t registrations() const noexcept { return poller_->registrations() - background_fds_; }
  /// The poller backend in use: "epoll", "poll" or "kqueue".
  [[nodiscard]] std::string_view backend_name() const noexcept { return poller_->name(); }
  [[nodiscard]] std::size_t ready_high_water_mark() const noexcept { return ready_.high_water_mark(); }
  [[nodiscard]] std::uint64_t resumptions() const noexcept { return resumptions_; }
  /// Every counter at once (runtime/metrics.hpp).
  [[nodiscard]] loop_metrics metrics() const noexcept;
  /// Is debug mode on for this loop (runtime/debug.hpp)?
  [[nodiscard]] bool debug() const noexcept { return debug_; }
  /// The ready-queue shuffle's seed (options::shuffle_seed), or 0 when ready tasks run FIFO.
  [[nodiscard]] std::uint64_t shuffle_seed() const noexcept { return shuffle_seed_; }
  /// to_thread jobs submitted whose completion has not reached the loop yet (cancelled ones too).
  [[nodiscard]] std::size_t thread_jobs_in_flight() const noexcept { return thread_jobs_; }

  /// The loop running on this thread (inside run_once), or nullptr.
  [[nodiscard]] static event_loop* current() noexcept;

  /// Calls `visit(const detail::task_state&)` for every live task, oldest first.
  template <class F>
  void for_each_task(F&& visit) const {
    for (const detail::task_state* t = live_head_; t != nullptr; t = t->next_live) visit(*t);
  }

  // --- for awaitables and spawn (not for application code) ---
  [[nodiscard]] detail::task_state* current_task() const noexcept { return current_task_; }
  void arm(detail::timer_entry& timer, time_point deadline) noexcept {
    ++timers_armed_;
    wheel_.insert(timer, deadline);
  }
  void disarm(detail::timer_entry& timer) noexcept { wheel_.cancel(timer); }
  /// Makes a task record for `frame` (not yet started), queues it, and returns it.
  detail::task_state& start_task(std::coroutine_handle<> frame, detail::promise_base& root,
                                 std::string_view name, corio::source_location spawn_site);
  void task_finished(detail::task_state& t) noexcept;
  /// Runs `job` on this loop's thread pool (made now if need be; may throw std::system_error
  /// then). Until thread_job_done(), the loop counts it as pending work, like a registered
  /// descriptor: it will block in the poller for the job's completion instead of reporting idle.
  void submit_thread_job(detail::pool_job& job);
  void thread_job_done() noexcept { --thread_jobs_; }
  /// Does a watched descriptor count as pending work (see run_once)? A socket does; a loop's
  /// own helper descriptor (the signal pipe) must not, or an idle loop would never say so
  /// (libuv's uv_unref).
  enum class liveness { keeps_loop_alive, background };
  /// Registers `fd` with the poller for its lifetime; `handler` hears its readiness until
  /// unwatch(fd, same liveness), which must come before close(fd). Throws std::system_error.
  void watch(int fd, detail::io_handler& handler, liveness l = liveness::keeps_loop_alive);
  /// Cooperative budget (Tokio's coop): how many I/O operations one resumption may complete
  /// without suspending. An operation that finds the budget spent yields first, so a task on a
  /// socket that is always readable cannot keep the loop from its timers and other sockets —
  /// event_interval bounds tasks per turn, this bounds the work of one task.
  static constexpr unsigned io_budget_per_resumption = 128;
  /// Takes one unit of the current resumption's budget; false when it is spent (then yield).
  [[nodiscard]] bool consume_budget() noexcept {
    if (budget_ == 0) return false;
    --budget_;
    return true;
  }
  /// Work the loop cannot see but must wait for (Asio's executor_work_guard): while a count is
  /// held, the loop blocks in the poller for it instead of reporting idle — a task parked on a
  /// signal, whose descriptor is a background one, holds one.
  void hold_work() noexcept { ++held_work_; }
  void release_work() noexcept { --held_work_; }
  /// Which directions a task is parked on now (see poller::set_interest).
  void set_interest(int fd, bool read, bool write) noexcept { poller_->set_interest(fd, read, write); }
  void unwatch(int fd, liveness l = liveness::keeps_loop_alive) noexcept;
  /// The trace recorder attached to this loop (trace_recorder::attach), or nullptr.
  [[nodiscard]] trace_recorder* tracer() const noexcept { return tracer_; }
  void set_tracer(trace_recorder* recorder) noexcept;
  /// Where a thread job posts its completion; lives as long as the pool does.
  [[nodiscard]] detail::mailbox& mailbox() noexcept { return *mailbox_; }

 private:
  void run_ready_batch();
  void run_instrumented_batch(std::size_t n);
  void start_resumption(detail::task_state* t) noexcept;
  void resume_instrumented(const detail::ready_entry& next);
  void resume_timed(const detail::ready_entry& next);
  void update_instrumented() noexcept;
  template <class Phase>
  void in_trace_phase(detail::wake_cause cause, Phase&& phase);
  void fire_due_timers();
  void poll_io(std::optional<duration> timeout);
  bool wait_for_work();
  bool run_posted();
  void run_chain(detail::posted_callback* chain) noexcept;
  [[nodiscard]] bool inherited_through_fork() const noexcept;
  // Reads the clock for turn_time() (a manual clock is never kept: see turn_time()).
  time_point read_turn_time() noexcept {
    turn_time_ = clock_.now();
    turn_time_valid_ = !clock_.is_manual();
    return turn_time_;
  }

  corio::clock clock_;
  time_point turn_time_{};  // see turn_time()
  bool turn_time_valid_ = false;
  unsigned event_interval_;
  detail::ready_queue ready_;
  timers::wheel wheel_;
  std::unique_ptr<detail::poller> poller_;
  std::shared_ptr<detail::mailbox> mailbox_;      // shared with loop_handles; points at *poller_
  std::unique_ptr<corio::thread_pool> pool_;      // made by the first to_thread
  std::size_t pool_size_;
  std::size_t thread_jobs_ = 0;
  std::size_t background_fds_ = 0;
  std::vector<detail::io_handler*> watched_;  // by descriptor number: told when the loop dies
  std::size_t held_work_ = 0;
  unsigned budget_ = io_budget_per_resumption;
  detail::task_state* live_head_ = nullptr;
  detail::task_state* live_tail_ = nullptr;
  std::size_t live_count_ = 0;
  detail::task_state* current_task_ = nullptr;
  trace_recorder* tracer_ = nullptr;  // trace.hpp: off (nullptr) unless a recorder is attached
  std::uint64_t resumptions_ = 0;
  std::uint64_t shuffle_seed_ = 0;
  std::uint32_t next_task_id_ = 1;
  bool stop_requested_ = false;
  bool instrumented_ = false;  // debug_ || shuffle_seed_ != 0 || tracer_: the hot path's one test
  // Metrics (runtime/metrics.hpp) that no other member already counts.
  std::uint64_t tasks_spawned_ = 0;
  std::uint64_t polls_ = 0;
  std::uint64_t timers_armed_ = 0;
  std::uint64_t timers_fired_ = 0;
  // Debug mode (runtime/debug.hpp).
  bool debug_;
  duration slow_resumption_;
  duration longest_resumption_{};
  std::uint64_t slow_resumptions_ = 0;
  std::uint64_t fork_generation_;  // see inherited_through_fork()
};

}  // namespace corio
