// runtime/fd_watch.hpp — "wake me when descriptor N is readable / writable": the one thing io/
// asks of the loop about descriptors (design.md, "I/O").
//
//   detail::fd_watch watch(loop, fd);               // registered once, for the fd's lifetime
//   for (;;) {
//     n = ::recv(fd, ...);                          // the syscall first: a ready socket costs
//     if (n >= 0 || errno != EAGAIN) break;         //   no poller call at all
//     co_await watch.ready(io_direction::read);     // park until the next readiness edge
//   }
//   watch.close();  ::close(fd);                    // deregister BEFORE the number is freed
//
//        poller batch ──> on_ready(r, w) ──> every task parked on that side ──> ready queue
//        close()      ──> every parked task, marked aborted ─────────────────> ready queue
//
// Why every waiter of a side wakes, not just the first: readiness is an edge. If one woken task
// consumed only part of what arrived and the others slept on, nothing would ever wake them.
// Tasks that find EAGAIN again simply park again (that is also what a spurious wake-up costs:
// one syscall, no spinning, reliability.md T-03).
//
// Contract of `co_await watch.ready(d)`:
//   * Resumes on the loop's thread in a later turn, never inside the co_await that starts it,
//     after the descriptor signalled readiness (or an error / hang-up, which count as both).
//   * Throws corio::cancelled if the task is (or gets) cancelled; nothing was consumed, so the
//     caller may simply try again later (cancel-safe).
//   * Throws std::system_error(ECANCELED, "operation aborted") when close() ran while it was
//     parked, or had run before — a distinct error, delivered in the next turn, never from
//     inside close() (Asio's rule; reliability.md T-22).
//   * A frame destroyed while parked unlinks itself (T-23); no later event touches it.
//   * No allocation: the waiter lives in the awaiting frame.
//
// Readiness tracking (Tokio's ScheduledIo does the same): the watch remembers, per side, whether
// the descriptor may be ready. Every event sets it; an operation that learns the kernel buffer is
// empty (EAGAIN, or a stream read that came back short) clears it, and the next operation parks
// at once instead of paying for a syscall that would say EAGAIN. This is safe because every new
// byte raises a new edge, which sets the flag again, with one exception: after the peer's FIN
// (or an error) no edge ever comes again, so once an event said the read side closed, the read
// flag can no longer be cleared (otherwise a task that read the last bytes before the EOF would
// park forever instead of reading it).
//
// Operations that complete at the wake-up (Asio's reactor does the same). `ready(d, attempt)`
// parks like `ready(d)`, but when readiness comes the watch first calls `attempt` (a function
// and its context, typically the awaiting operation: "recv into my buffer"), in the poller's
// turn, while the task is still parked. If it says the operation is over (bytes moved, end of
// stream, or an error it kept), the task wakes to that result; if it found nothing after all
// (another reader was quicker), the waiter stays parked, in its place, for the next edge. So an
// operation parks once, with no coroutine of its own, and its task never wakes to an EAGAIN.
// close() never attempts: its waiters wake aborted. The attempt must not throw, park or resume
// anything, and only touch its own operation and descriptor.
//
// `co_await watch.pause(d)` waits `d` without looking at readiness, but close() cuts it short
// with the same "operation aborted" as above: for an operation that must back off for a while
// (listener::accept when the process is out of descriptors) yet must not outlive its socket.
// Cancel-safe; a frame destroyed while pausing unlinks and disarms itself.
//
// `report_ready_later(d, turns)` is a seam for fault injection (io/sys.hpp), and nothing else:
// an event for side `d` that the poller did not send, delivered `turns` loop turns from now.
// io/sys may answer EAGAIN (or read fewer bytes) while the kernel still has data or room; the
// edge-triggered epoll backend then never reports that readiness again, and the parked task
// would wait forever. The synthetic event stands in for the edge the made-up answer swallowed.
// Its timers are allocated on first use (one null pointer otherwise), so a program that never
// injects faults pays nothing; close() disarms them.
//
// Single loop: only the loop's thread touches a watch. Destroying a watch closes it.
#pragma once

#include <cerrno>
#include <coroutine>
#include <memory>
#include <string>
#include <system_error>

#include "await_chain.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "promise_base.hpp"
#include "sleep.hpp"
#include "task_state.hpp"
#include "waiter_list.hpp"

namespace corio::detail {

enum class io_direction : unsigned char { read = 0, write = 1 };

/// An operation the watch runs when readiness comes, before waking the task (see the top):
/// true when the operation is over, false when it found nothing and the task should wait on.
struct wake_attempt {
  bool (*run)(void* operation) noexcept = nullptr;
  void* operation = nullptr;
};

/// What both kinds of fd_watch waiter share: they do not park when the task is cancelled or the
/// watch is closed already, and they resume with corio::cancelled or "operation aborted".
template <class W>
class watch_waiter : public list_waiter<W> {
 public:
  [[nodiscard]] bool await_ready() const noexcept { return false; }

  void await_resume() const {
    if (this->owner_->cancel_requested()) throw_cancelled();
    if (aborted_) throw std::system_error(ECANCELED, std::generic_category(), "operation aborted: the socket was closed");
  }

 protected:
  /// Should the coroutine `h` park? Not when its task is cancelled or the watch is `closed`.
  template <corio_promise P>
  bool may_park(std::coroutine_handle<P> h, bool closed) noexcept {
    this->owner_ = &task_of(h);
    if (this->owner_->cancel_requested()) return false;
    aborted_ = closed;
    return !closed;
  }

  bool aborted_ = false;  // set by fd_watch::close()
};

class fd_watch final : private io_handler {
 public:
  class awaiter;
  class pause_awaiter;

  /// Registers `fd` with `loop`'s poller. Throws std::system_error (e.g. ENOMEM, or EPERM for a
  /// regular file, which epoll cannot watch).
  fd_watch(event_loop& loop, int fd) : loop_(&loop), fd_(fd) { loop.watch(fd, *this); }
  fd_watch(const fd_watch&) = delete;
  fd_watch& operator=(const fd_watch&) = delete;
  ~fd_watch() { close(); }

  /// Waits for the next readiness of one side (the contract above); with an attempt, until
  /// the attempt at a readiness says its operation is over ("complete at the wake-up", above).
  [[nodiscard]] awaiter ready(io_direction d, wake_attempt attempt = {}) noexcept;
  /// Waits for `d` to pass or for close(), whichever comes first (the contract above).
  [[nodiscard]] pause_awaiter pause(duration d) noexcept;

  /// Deregisters the descriptor and resumes every parked task with "operation aborted" in a
  /// later turn. Call before closing the fd. Idempotent.
  void close() noexcept;

  /// Readiness tracking (above): may an operation on side `d` succeed without parking?
  [[nodiscard]] bool may_be_ready(io_direction d) const noexcept { return may_be_ready_[index(d)]; }
  /// The last syscall on side `d` found nothing to read (or no room to write): the next
  /// operation should park first. Ignored for reads once the read side closed.
  void clear_ready(io_direction d) noexcept {
    if (d == io_direction::write || !read_closed_) may_be_ready_[index(d)] = false;
  }

  /// Fault injection's synthetic readiness (see the top): side `d` is reported ready, as if by
  /// the poller, `turns` (at least 1) loop turns from now. If one is pending for `d` already,
  /// that one stands; once closed, nothing happens. Throws std::bad_alloc (first use only).
  void report_ready_later(io_direction d, unsigned turns);

  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// Precondition: the loop still exists (after it is gone, closed() is true).
  [[nodiscard]] event_loop& loop() const noexcept { return *loop_; }

 private:
  void on_ready(const poll_event& event) noexcept override;
  // A socket outliving its loop: no task can wait any more; later operations see "closed".
  void on_loop_destroyed() noexcept override {
    loop_ = nullptr;
    closed_ = true;
  }
  void wake_side(io_direction d) noexcept;
  void update_interest() noexcept;
  class synthetic_event;
  struct synthetic_events;
  static constexpr int index(io_direction d) noexcept { return static_cast<int>(d); }
  waiter_list<awaiter>& side(io_direction d) noexcept { return sides_[index(d)]; }

  event_loop* loop_;
  int fd_;
  bool closed_ = false;
  bool interest_[2] = {false, false};  // what the poller was last told (level-triggered backends)
  bool may_be_ready_[2] = {true, true};  // readiness tracking (above); unknown counts as ready
  bool read_closed_ = false;             // an event said so: no further read edge will come
  waiter_list<awaiter> sides_[2];
  waiter_list<pause_awaiter> pausers_;
  std::unique_ptr<synthetic_events> synthetic_;  // fault injection only (see the top)
};

// One pending synthetic event: a zero-length timer re-armed once per turn until its count of
// turns is used up (turns, not time, so that it arrives under a manual clock too, even while
// other tasks keep the loop busy and virtual time never moves).
class fd_watch::synthetic_event final : public timer_entry {
 public:
  synthetic_event(fd_watch& watch, io_direction d) noexcept : watch_(watch), direction_(d) {}

  void arm(unsigned turns) noexcept {
    turns_left_ = turns;
    watch_.loop_->arm(*this, watch_.loop_->now());
  }

  // A timer armed inside on_fire is not part of the drain under way (event_loop.cpp drains
  // first, then fires): it waits for the next timer phase, so each re-arm is one more turn.
  void on_fire() noexcept override {
    if (--turns_left_ > 0) {
      watch_.loop_->arm(*this, watch_.loop_->now());
      return;
    }
    const bool read = direction_ == io_direction::read;
    watch_.on_ready(poll_event{&watch_, read, !read, false});
  }

 private:
  fd_watch& watch_;
  io_direction direction_;
  unsigned turns_left_ = 0;
};

struct fd_watch::synthetic_events {
  explicit synthetic_events(fd_watch& w) noexcept : read(w, io_direction::read), write(w, io_direction::write) {}
  synthetic_event& of(io_direction d) noexcept { return d == io_direction::read ? read : write; }
  synthetic_event read;
  synthetic_event write;
};

class fd_watch::awaiter final : public watch_waiter<awaiter> {
 public:
  awaiter(fd_watch& watch, io_direction d, wake_attempt attempt = {}) noexcept
      : watch_(watch), direction_(d), attempt_(attempt) {}

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    if (!may_park(h, watch_.closed_)) return false;
    park_in(watch_.side(direction_), h);
    watch_.update_interest();
    return true;
  }

  [[nodiscard]] std::string describe() const override {
    return "fd " + std::to_string(watch_.fd_) + (direction_ == io_direction::read ? " readable" : " writable");
  }

 private:
  friend class fd_watch;
  // Runs the attempt, if any, at a readiness of this waiter's side: true if the task wakes.
  bool attempt_is_over() const noexcept { return attempt_.run == nullptr || attempt_.run(attempt_.operation); }

  fd_watch& watch_;  // not touched after the wake-up: the watch may be gone by then
  io_direction direction_;
  wake_attempt attempt_;
};

class fd_watch::pause_awaiter final : public watch_waiter<pause_awaiter>, public timer_entry {
 public:
  pause_awaiter(fd_watch& watch, duration d) noexcept : watch_(watch), delay_(d) {}
  ~pause_awaiter() {
    if (armed()) owner_->loop().disarm(*this);
  }

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    if (!may_park(h, watch_.closed_)) return false;
    owner_->loop().arm(*this, saturating_add(owner_->loop().now(), delay_));
    park_in(watch_.pausers_, h);
    return true;
  }

  // Still linked here: close() disarms the timer of every pauser it wakes.
  void on_fire() noexcept override {
    watch_.pausers_.remove(*this);
    wake();
  }

  bool on_cancel() noexcept override {
    owner_->loop().disarm(*this);
    return list_waiter::on_cancel();
  }

  [[nodiscard]] std::string describe() const override {
    return "pause on fd " + std::to_string(watch_.fd_) + ", due in " + format_seconds(deadline() - owner_->loop().now());
  }

 private:
  friend class fd_watch;
  fd_watch& watch_;  // not touched after the wake-up, as in awaiter
  duration delay_;
};

inline fd_watch::awaiter fd_watch::ready(io_direction d, wake_attempt attempt) noexcept { return awaiter(*this, d, attempt); }
inline fd_watch::pause_awaiter fd_watch::pause(duration d) noexcept { return pause_awaiter(*this, d); }

// Waiters whose attempt found nothing go back, in their order, once every other has had its turn.
inline void fd_watch::wake_side(io_direction d) noexcept {
  waiter_list<awaiter> waiting_on;
  while (awaiter* w = side(d).pop_front()) {
    if (!closed_ && !w->attempt_is_over()) {
      waiting_on.push_back(*w);
      continue;
    }
    w->aborted_ = closed_;
    w->wake();
  }
  while (awaiter* w = waiting_on.pop_front()) side(d).push_back(*w);
}

inline void fd_watch::on_ready(const poll_event& event) noexcept {
  read_closed_ = read_closed_ || event.read_closed;
  if (event.readable) {
    may_be_ready_[index(io_direction::read)] = true;
    wake_side(io_direction::read);
  }
  if (event.writable) {
    may_be_ready_[index(io_direction::write)] = true;
    wake_side(io_direction::write);
  }
  update_interest();
}

// Only level-triggered backends care; for them an interest nobody needs would fire every turn.
// A waiter that left by cancellation leaves a stale interest behind, dropped at the next event.
inline void fd_watch::update_interest() noexcept {
  const bool read = !side(io_direction::read).empty();
  const bool write = !side(io_direction::write).empty();
  if (closed_ || (read == interest_[0] && write == interest_[1])) return;
  interest_[0] = read;
  interest_[1] = write;
  loop_->set_interest(fd_, read, write);
}

inline void fd_watch::report_ready_later(io_direction d, unsigned turns) {
  if (closed_) return;  // no loop to arm a timer in, or no task left to wake
  if (!synthetic_) synthetic_ = std::make_unique<synthetic_events>(*this);
  synthetic_event& event = synthetic_->of(d);
  if (!event.armed()) event.arm(turns > 0 ? turns : 1);
}

inline void fd_watch::close() noexcept {
  if (closed_) return;
  closed_ = true;
  if (synthetic_) {
    loop_->disarm(synthetic_->read);
    loop_->disarm(synthetic_->write);
  }
  loop_->unwatch(fd_);
  wake_side(io_direction::read);
  wake_side(io_direction::write);
  while (pause_awaiter* p = pausers_.pop_front()) {
    p->aborted_ = true;
    loop_->disarm(*p);
    p->wake();
  }
}

}  // namespace corio::detail
