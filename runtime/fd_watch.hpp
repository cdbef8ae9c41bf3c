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
// Single loop: only the loop's thread touches a watch. Destroying a watch closes it.
#pragma once

#include <cerrno>
#include <coroutine>
#include <system_error>

#include "errors.hpp"
#include "event_loop.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"
#include "waiter_list.hpp"

namespace corio::detail {

enum class io_direction : unsigned char { read = 0, write = 1 };

class fd_watch final : private io_handler {
 public:
  class awaiter;

  /// Registers `fd` with `loop`'s poller. Throws std::system_error (e.g. ENOMEM, or EPERM for a
  /// regular file, which epoll cannot watch).
  fd_watch(event_loop& loop, int fd) : loop_(&loop), fd_(fd) { loop.watch(fd, *this); }
  fd_watch(const fd_watch&) = delete;
  fd_watch& operator=(const fd_watch&) = delete;
  ~fd_watch() { close(); }

  /// Waits for the next readiness of one side (the contract above).
  [[nodiscard]] awaiter ready(io_direction d) noexcept;

  /// Deregisters the descriptor and resumes every parked task with "operation aborted" in a
  /// later turn. Call before closing the fd. Idempotent.
  void close() noexcept;

  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] event_loop& loop() const noexcept { return *loop_; }

 private:
  void on_ready(bool readable, bool writable) noexcept override;
  void wake_side(io_direction d) noexcept;
  void update_interest() noexcept;
  waiter_list<awaiter>& side(io_direction d) noexcept { return sides_[static_cast<int>(d)]; }

  event_loop* loop_;
  int fd_;
  bool closed_ = false;
  bool interest_[2] = {false, false};  // what the poller was last told (level-triggered backends)
  waiter_list<awaiter> sides_[2];
};

class fd_watch::awaiter final : public list_waiter<awaiter> {
 public:
  awaiter(fd_watch& watch, io_direction d) noexcept : watch_(watch), direction_(d) {}

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    owner_ = &task_of(h);
    if (owner_->cancel_requested()) return false;
    if (watch_.closed_) {
      aborted_ = true;
      return false;
    }
    park_in(watch_.side(direction_), h);
    watch_.update_interest();
    return true;
  }

  void await_resume() const {
    if (owner_->cancel_requested()) throw_cancelled();
    if (aborted_) throw std::system_error(ECANCELED, std::generic_category(), "operation aborted: the socket was closed");
  }

 private:
  friend class fd_watch;
  fd_watch& watch_;  // not touched after the wake-up: the watch may be gone by then
  io_direction direction_;
  bool aborted_ = false;
};

inline fd_watch::awaiter fd_watch::ready(io_direction d) noexcept { return awaiter(*this, d); }

inline void fd_watch::wake_side(io_direction d) noexcept {
  while (awaiter* w = side(d).pop_front()) {
    w->aborted_ = closed_;
    w->wake();
  }
}

inline void fd_watch::on_ready(bool readable, bool writable) noexcept {
  if (readable) wake_side(io_direction::read);
  if (writable) wake_side(io_direction::write);
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

inline void fd_watch::close() noexcept {
  if (closed_) return;
  closed_ = true;
  loop_->unwatch(fd_);
  wake_side(io_direction::read);
  wake_side(io_direction::write);
}

}  // namespace corio::detail
