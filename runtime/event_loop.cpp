#include "event_loop.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "thread_pool.hpp"
#include "trace.hpp"

namespace corio {
namespace {

thread_local event_loop* running_loop = nullptr;

// fork() (reliability.md T-42): how many times this process is a child of a fork() made since
// the first loop was built. A loop remembers the count it was born with; a different count
// means it was copied into a child, whose epoll instance is the parent's own (epoll(7)).
std::atomic<std::uint64_t> forks_seen{0};

std::uint64_t current_fork_generation() noexcept {
  static const bool counting = [] {
    return ::pthread_atfork(nullptr, nullptr, [] { forks_seen.fetch_add(1, std::memory_order_relaxed); }) == 0;
  }();
  (void)counting;  // without the handler (ENOMEM) the check below is simply never triggered
  return forks_seen.load(std::memory_order_relaxed);
}

// While the manual clock waits for real I/O, how long to let it arrive before autojumping
// to the next timer (trio calls this the autojump threshold).
constexpr duration manual_clock_io_grace = std::chrono::milliseconds(5);

// Marks `loop` as the one running on this thread for the scope of one turn.
class running_scope {
 public:
  explicit running_scope(event_loop* loop) {
    if (running_loop != nullptr) throw std::logic_error("corio: an event loop is already running on this thread");
    running_loop = loop;
  }
  running_scope(const running_scope&) = delete;
  running_scope& operator=(const running_scope&) = delete;
  ~running_scope() { running_loop = nullptr; }
};

// options::shuffle_seed, else CORIO_SHUFFLE_SEED, else 0 (off).
std::uint64_t resolve_shuffle_seed(std::optional<std::uint64_t> chosen) {
  if (chosen) return *chosen;
  const char* text = std::getenv("CORIO_SHUFFLE_SEED");
  if (text == nullptr || *text == '\0') return 0;
  std::uint64_t seed = 0;
  const char* end = text + std::strlen(text);
  const auto [stop, error] = std::from_chars(text, end, seed);
  if (error != std::errc() || stop != end)
    throw std::invalid_argument(std::string("corio: CORIO_SHUFFLE_SEED is not a decimal number: ") + text);
  return seed;
}

// Once per seed, not once per loop: a test program makes hundreds of loops with the same seed.
void log_shuffle_seed(std::uint64_t seed) noexcept {
  static std::atomic<std::uint64_t> last_logged{0};
  if (seed == 0 || last_logged.exchange(seed) == seed) return;
  detail::log_info("ready-queue shuffle on: seed " + std::to_string(seed) + " (replay with CORIO_SHUFFLE_SEED=" +
                   std::to_string(seed) + ")");
}

}  // namespace

event_loop::event_loop(options opts)
    : clock_(opts.clock),
      event_interval_(std::max(1u, opts.event_interval)),
      ready_(*this),
      wheel_(clock_.now()),
      poller_(detail::make_poller(opts.backend)),
      mailbox_(std::make_shared<detail::mailbox>(*poller_)),
      pool_size_(opts.thread_pool_size),
      shuffle_seed_(resolve_shuffle_seed(opts.shuffle_seed)),
      debug_(opts.debug == debug_mode::on ||
             (opts.debug == debug_mode::from_environment && detail::debug_requested_by_environment())),
      slow_resumption_(opts.slow_resumption),
      fork_generation_(current_fork_generation()) {
  ready_.set_shuffle_seed(shuffle_seed_);
  log_shuffle_seed(shuffle_seed_);
  update_instrumented();
}

void event_loop::set_tracer(trace_recorder* recorder) noexcept {
  tracer_ = recorder;
  update_instrumented();
}

void event_loop::update_instrumented() noexcept { instrumented_ = debug_ || shuffle_seed_ != 0 || tracer_ != nullptr; }

bool event_loop::inherited_through_fork() const noexcept {
  return forks_seen.load(std::memory_order_relaxed) != fork_generation_;
}

event_loop::~event_loop() {
  if (tracer_ != nullptr) std::exchange(tracer_, nullptr)->on_loop_destroyed();  // teardown is not traced
  // Cross-thread work first, while every task still exists: what was accepted runs (it may wake
  // a parked task, which only queues it); then threads that finish find the mailbox closed.
  {
    event_loop* const outer = std::exchange(running_loop, this);  // callbacks may use current()
    run_chain(mailbox_->close());
    running_loop = outer;
  }
  pool_.reset();   // drops jobs not started, waits for running ones
  ready_.clear();  // nothing is resumed from here on
  while (live_head_ != nullptr) live_head_->destroy_unfinished();
  ready_.clear();  // destructors above may have queued wake-ups; drop them
  // What is still registered now outlives the loop (a socket returned from run()): it must not
  // reach for the poller, which goes next.
  for (detail::io_handler* handler : watched_)
    if (handler != nullptr) handler->on_loop_destroyed();
}

void event_loop::watch(int fd, detail::io_handler& handler, liveness l) {
  const auto slot = static_cast<std::size_t>(fd);
  if (slot >= watched_.size()) watched_.resize(slot + 1, nullptr);
  poller_->add(fd, &handler);
  watched_[slot] = &handler;
  if (l == liveness::background) ++background_fds_;
}

void event_loop::unwatch(int fd, liveness l) noexcept {
  // In a fork()ed child, removing the fd from the shared epoll instance would remove the
  // PARENT's registration of the same file description: leave the poller alone (T-42).
  if (!inherited_through_fork()) poller_->remove(fd);
  if (static_cast<std::size_t>(fd) < watched_.size()) watched_[static_cast<std::size_t>(fd)] = nullptr;
  if (l == liveness::background) --background_fds_;
}

event_loop* event_loop::current() noexcept { return running_loop; }

bool event_loop::run_once() {
  if (inherited_through_fork())
    throw std::logic_error("corio: this event loop was made before fork() and belongs to the parent process; "
                           "make a new loop in the child");
  running_scope scope(this);
  turn_time_valid_ = false;  // a new turn reads the clock again, once, when somebody asks
  if (ready_.empty() && wheel_.empty() && registrations() == 0 && thread_jobs_ == 0 && held_work_ == 0 &&
      !mailbox_->pending())
    return false;
  run_ready_batch();
  if (!wheel_.empty()) fire_due_timers();  // tested here too: a compiler may not inline the call
  if (!ready_.empty() || stop_requested_ || mailbox_->pending()) {
    stop_requested_ = false;
    poll_io(duration::zero());  // fairness: look at I/O and posted callbacks anyway
    return true;
  }
  return wait_for_work();
}

// One resumption: the task becomes the current one, with a fresh I/O budget.
void event_loop::start_resumption(detail::task_state* t) noexcept {
  current_task_ = t;
  ++resumptions_;
  budget_ = io_budget_per_resumption;
}

// The hot path. Debug mode, the shuffle and tracing share one flag (instrumented_), tested
// once per resumption; while it is off, a resumption is what it was before they existed.
// Tested per resumption, not per batch, because a task may attach a trace recorder mid-batch.
void event_loop::run_ready_batch() {
  std::size_t n = std::min<std::size_t>(ready_.size(), event_interval_);
  for (; n > 0; --n) {
    if (instrumented_) [[unlikely]] {
      run_instrumented_batch(n);
      break;
    }
    const detail::ready_entry next = ready_.pop_front();
    start_resumption(next.task);
    next.handle.resume();
  }
  current_task_ = nullptr;
}

// The rest of a batch with something watching. n: entries of this turn still queued (the
// shuffle picks among them).
void event_loop::run_instrumented_batch(std::size_t n) {
  for (; n > 0; --n) {
    const detail::ready_entry next = ready_.pop(n);
    if (debug_)
      resume_timed(next);
    else
      resume_instrumented(next);
  }
}

// With a trace recorder attached, the recorder runs the resumption (and notes how it ended).
void event_loop::resume_instrumented(const detail::ready_entry& next) {
  start_resumption(next.task);
  if (tracer_ != nullptr)
    trace_recorder::run_traced(*this, next);
  else
    next.handle.resume();
}

// Debug mode: each resumption is timed in real time. The task is noted BEFORE it resumes
// (afterwards the frames it resumed in may be gone, and the task record with them), raw: it is
// only formatted when the resumption turns out slow.
void event_loop::resume_timed(const detail::ready_entry& next) {
  using real_clock = std::chrono::steady_clock;
  detail::resumption_record resumed;
  if (next.task != nullptr) resumed.capture(*next.task);
  const real_clock::time_point start = real_clock::now();
  resume_instrumented(next);
  const duration took = real_clock::now() - start;
  longest_resumption_ = std::max(longest_resumption_, took);
  if (took > slow_resumption_) {
    ++slow_resumptions_;
    detail::warn_slow_resumption(resumed.describe(), took, slow_resumption_);
  }
}

loop_metrics event_loop::metrics() const noexcept {
  return {.tasks_spawned = tasks_spawned_,
          .live_tasks = live_count_,
          .resumptions = resumptions_,
          .polls = polls_,
          .timers_armed = timers_armed_,
          .timers_fired = timers_fired_,
          .armed_timers = wheel_.size(),
          .registered_fds = poller_->registrations(),
          .ready_high_water_mark = ready_.high_water_mark(),
          .thread_jobs_in_flight = thread_jobs_,
          .longest_resumption = longest_resumption_,
          .slow_resumptions = slow_resumptions_};
}

// Runs `phase` as a trace phase (trace.hpp) when a recorder is attached. Tested first, so that
// without one no phase object has to be kept alive across the body: one load and one branch.
template <class Phase>
void event_loop::in_trace_phase(detail::wake_cause cause, Phase&& phase) {
  if (tracer_ != nullptr) [[unlikely]] {
    const detail::trace_phase traced(*this, tracer_, cause);
    phase();
  } else {
    phase();
  }
}

// Drain first, then wake (libuv uv__run_timers, Tokio process_expiration): every due timer is
// moved to `due` before any of them runs, so on_fire may arm or cancel any timer safely.
void event_loop::fire_due_timers() {
  if (wheel_.empty()) return;
  in_trace_phase(detail::wake_cause::timer, [this] {
    timers::timer_list due;
    wheel_.expire(read_turn_time(), due);  // afresh: a timer due while the batch ran fires now
    while (timers::timer_node* node = due.pop_front()) {
      ++timers_fired_;
      static_cast<detail::timer_entry*>(node)->on_fire();
    }
  });
}

// Phase 3. A zero timeout with no descriptor registered skips the syscall: only posted
// callbacks can have arrived then, and the mailbox says so itself.
void event_loop::poll_io(std::optional<duration> timeout) {
  if (timeout != duration::zero() || poller_->registrations() > 0) {
    const detail::trace_phase phase(*this, tracer_, detail::wake_cause::io);
    std::array<detail::poll_event, 128> events;
    ++polls_;
    const std::size_t n = poller_->wait(events, timeout);
    turn_time_valid_ = false;  // the wait may have lasted: a handler woken here reads afresh
    for (std::size_t i = 0; i < n; ++i)
      static_cast<detail::io_handler*>(events[i].token)->on_ready(events[i]);
  }
  run_posted();
}

// Runs what other threads posted before this call, in posting order; what they post meanwhile
// waits for the next turn (so a thread that keeps posting cannot hold the loop here).
bool event_loop::run_posted() {
  if (!mailbox_->pending()) return false;
  run_chain(mailbox_->take_all());
  return true;
}

void event_loop::run_chain(detail::posted_callback* chain) noexcept {
  const detail::trace_phase phase(*this, tracer_, detail::wake_cause::thread);
  while (chain != nullptr) std::exchange(chain, chain->next_posted)->run();
}

void event_loop::submit_thread_job(detail::pool_job& job) {
  if (!pool_) pool_ = std::make_unique<corio::thread_pool>(pool_size_);
  ++thread_jobs_;
  pool_->submit(job);
}

// Nothing is ready: sleep until a timer is due, I/O arrives or a thread job completes. Returns
// false when nothing can wake the loop any more (a manual clock that may not jump counts as
// "nothing"). A to_thread job in flight counts as pending I/O: its completion comes through the
// poller's wake-up, so a manual clock gives it the same real-time grace before jumping.
bool event_loop::wait_for_work() {
  const std::optional<time_point> next = wheel_.next_expiry();
  const bool io = registrations() > 0 || thread_jobs_ > 0 || held_work_ > 0;
  if (!next && !io) return run_posted();  // a post that raced with the check in run_once
  if (!clock_.is_manual()) {
    std::optional<duration> timeout;
    // The timer phase has just read the clock (a non-empty wheel is what gives a `next`).
    if (next) timeout = std::max(*next - turn_time(), duration::zero());
    poll_io(timeout);
    fire_due_timers();
    return true;
  }
  if (io) {
    poll_io(next && clock_.autojump() ? std::optional(manual_clock_io_grace) : std::nullopt);
    if (!ready_.empty()) return true;
  }
  if (!next || !clock_.autojump()) return io;
  clock_.set(std::max(*next, clock_.now()));
  fire_due_timers();
  return true;
}

void event_loop::cancel_all() noexcept {
  for (detail::task_state* t = live_head_; t != nullptr; t = t->next_live) t->request_cancel();
}

void event_loop::shutdown() {
  while (live_count_ > 0) {
    cancel_all();  // again each turn: tasks spawned while unwinding are cancelled too
    if (!run_once()) break;
  }
}

detail::task_state& event_loop::start_task(std::coroutine_handle<> frame, detail::promise_base& root,
                                           std::string_view name, corio::source_location spawn_site) {
  auto* t = new detail::task_state(ready_, frame, root, name, spawn_site, current_task_,
                                   next_task_id_++);
  t->prev_live = live_tail_;
  (live_tail_ != nullptr ? live_tail_->next_live : live_head_) = t;
  live_tail_ = t;
  ++live_count_;
  ++tasks_spawned_;
  t->schedule(frame);
  if (tracer_ != nullptr) [[unlikely]] tracer_->on_spawn(*t);
  return *t;
}

// The recorder is told last, so that the common path needs no stack frame for the call.
void event_loop::task_finished(detail::task_state& t) noexcept {
  (t.prev_live != nullptr ? t.prev_live->next_live : live_head_) = t.next_live;
  (t.next_live != nullptr ? t.next_live->prev_live : live_tail_) = t.prev_live;
  t.prev_live = t.next_live = nullptr;
  --live_count_;
  if (tracer_ != nullptr) [[unlikely]] tracer_->on_finish(t);
}

}  // namespace corio

namespace corio::detail {

// Waking under the lock is what makes close() safe: once close() has taken the lock, no post can
// still be about to touch the poller, which the loop destroys right after.
bool mailbox::post(posted_callback& cb) noexcept {
  cb.next_posted = nullptr;
  const std::lock_guard lock(mutex_);
  if (poller_ == nullptr) return false;
  if (head_ == nullptr) {
    head_ = tail_ = &cb;
    pending_.store(true, std::memory_order_release);
    poller_->wake();  // only the first post since the last drain pays for the syscall
  } else {
    tail_->next_posted = &cb;
    tail_ = &cb;
  }
  return true;
}

posted_callback* mailbox::take_all() noexcept {
  const std::lock_guard lock(mutex_);
  pending_.store(false, std::memory_order_relaxed);
  tail_ = nullptr;
  return std::exchange(head_, nullptr);
}

posted_callback* mailbox::close() noexcept {
  const std::lock_guard lock(mutex_);
  poller_ = nullptr;
  pending_.store(false, std::memory_order_relaxed);
  tail_ = nullptr;
  return std::exchange(head_, nullptr);
}

std::string describe_live_tasks(const event_loop& loop) {
  std::string text;
  loop.for_each_task([&](const task_state& t) {
    if (!text.empty()) text += "; ";
    text += "task #" + std::to_string(t.id()) + " '" + std::string(t.name()) + "' spawned at " + t.spawn_site().file_name() +
            ":" + std::to_string(t.spawn_site().line());
  });
  return text.empty() ? "none" : text;
}

}  // namespace corio::detail
