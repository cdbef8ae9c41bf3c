// runtime/signal.hpp — POSIX signals as awaitables (asyncio's loop.add_signal_handler), and the
// hook through which corio::run turns Ctrl-C into a cancellation of the main task.
//
//   corio::signal_set stop{SIGINT, SIGTERM};        // counted from here on, even while nobody waits
//   const int signo = co_await stop.wait();         // the oldest delivery not yet handed out
//
//   co_await corio::wait_for_signal({SIGHUP});      // one-shot form
//
// How a signal reaches a task (the mechanism is in signal.cpp; its opening comment says why it
// is a handler and a self-pipe rather than signalfd):
//
//   any thread: handler ──> deliveries[signo] += 1, then one byte `signo` into the pipe of every
//               loop that watches signo
//   loop thread: the pipe's read end is readable ──> read the bytes (their order is the order of
//               arrival) ──> each signal_set watching signo counts the delivery ──> the oldest
//               parked wait() gets the oldest delivery and is queued to resume
//
// Contract of signal_set:
//   * Construction registers the set with its loop (the running one, or the loop given) and,
//     for each signal nobody watched yet, installs corio's handler with SA_RESTART, saving the
//     previous sigaction. From then on every delivery of one of its signals is COUNTED for this
//     set, whether or not a task waits, and each is handed out by exactly one wait(), oldest
//     first (FIFO across the set's signals). Like the kernel, a burst of one signal that
//     arrives before the handler could run counts once.
//   * Several sets may watch the same signal, on one loop or on loops of different threads:
//     each of them sees every delivery.
//   * wait() returns the signal number. It resumes on the loop's thread on a later turn, never
//     inside the co_await that starts it, even when a delivery is already counted. Any number
//     of tasks may wait on one set; they are served in the order they began to wait.
//   * A task parked in wait() keeps the loop alive (event_loop::hold_work): a main task that
//     waits only for Ctrl-C blocks in the poller, it is not a deadlock. A set that nobody waits
//     on does not keep the loop alive (its pipe is a background descriptor).
//   * Cancellation is safe: a cancelled wait() consumes nothing. Cancelled while parked, it
//     leaves the set's queue at once; handed a signal and cancelled before it resumed, it gives
//     the signal back to the next waiter or to the front of the queue; then it throws
//     corio::cancelled. A task already cancelled throws without waiting.
//   * The destructor unregisters the set; deliveries it had counted and not handed out are
//     dropped. When the last watcher of a signal goes away (in any loop), the sigaction that was
//     in place before the first one is restored exactly.
//   * Throws (constructor): std::invalid_argument for an empty list, a number that is not a
//     signal (< 1 or >= NSIG, or one the C library reserves), SIGKILL and SIGSTOP (cannot be
//     caught), SIGSEGV, SIGBUS, SIGFPE and SIGILL (a fault returns to the faulting instruction,
//     so a handler that only records it would loop forever), and SIGPIPE (corio never touches
//     it: sockets use MSG_NOSIGNAL); std::logic_error without a running loop when none is given;
//     std::system_error when the pipe cannot be made. Duplicates in the list are ignored.
//   * Single loop: make, wait on and destroy a set on its loop's thread. A set must not outlive
//     its loop, and must not be destroyed while a task waits on it (asserted).
//   * Limits: the handler runs on whichever thread the kernel picks; a thread that BLOCKS the
//     signal never runs it, so a program that blocks a signal in every thread (to sigwait() it)
//     must not also watch it here. Changing the disposition of a watched signal behind corio's
//     back is undone when corio restores its saved one. After fork() the child still has the
//     handler, and its deliveries go to the parent's pipes (see T-42 in the reliability notes).
#pragma once

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "event_loop.hpp"
#include "promise_base.hpp"
#include "task.hpp"
#include "task_state.hpp"
#include "waiter_list.hpp"

namespace corio {
namespace detail {

class signal_reactor;  // one per loop that watches signals; signal.cpp

/// How a watch claims its signals.
enum class signal_claim {
  /// Always: installs corio's handler if need be (signal_set).
  always,
  /// corio::run's Ctrl-C handling: only signals whose disposition (before corio's own handler)
  /// is SIG_DFL; stands aside while any signal_set watches the signal; and a second delivery
  /// of such a signal restores SIG_DFL and re-raises it from inside the handler.
  only_when_default,
};

/// Something that hears the deliveries of some signals on one loop's thread: the common part of
/// signal_set and run()'s interrupt_guard. Registered by the constructor, unregistered by the
/// destructor; not movable (the loop's reactor points at it).
class signal_watch {
 public:
  signal_watch(const signal_watch&) = delete;
  signal_watch& operator=(const signal_watch&) = delete;

  [[nodiscard]] event_loop& loop() const noexcept { return *loop_; }
  /// The signals this watch ended up with (for only_when_default, those it could claim).
  [[nodiscard]] std::span<const int> signals() const noexcept { return signals_; }

  /// `count` deliveries of `signo`, oldest first, on the loop's thread; called by the reactor.
  /// Must only queue work. Returns false when it could not take them now (out of memory): they
  /// stay counted and are offered again the next time the loop looks at the signals.
  virtual bool on_signal(int signo, std::uint64_t count) noexcept = 0;

 protected:
  /// Throws as signal_set's constructor does (see the contract at the top).
  signal_watch(event_loop& loop, std::span<const int> signals, signal_claim claim);
  // Virtual only to keep -Wnon-virtual-dtor quiet (the friend below counts as access); watches
  // are never deleted through a base pointer.
  virtual ~signal_watch();

  /// Reads what was delivered up to now, for every watch of this loop (calls on_signal).
  void collect() noexcept;
  /// Takes back one delivery of `signo` that was accepted but could not be kept (out of
  /// memory): the next collect() offers it again.
  void uncount(int signo) noexcept;

 private:
  friend class signal_reactor;
  void register_all(std::span<const int> wanted);
  void unregister_all() noexcept;

  event_loop* loop_;
  signal_reactor* reactor_ = nullptr;  // nullptr when no signal could be claimed
  signal_claim claim_;
  std::vector<int> signals_;
  std::vector<std::uint64_t> seen_;  // per signal: the process-wide delivery count already taken
};

/// The checked, de-duplicated list (throws std::invalid_argument; see the contract).
[[nodiscard]] std::vector<int> checked_signals(std::span<const int> signals);

/// Why this corio::run's main task may be cancelled by SIGINT and SIGTERM (see run.hpp).
class interrupt_guard final : public signal_watch {
 public:
  interrupt_guard(event_loop& loop, task_state& main);
  bool on_signal(int signo, std::uint64_t count) noexcept override;

 private:
  task_state* main_;
};

}  // namespace detail

class signal_set final : private detail::signal_watch {
 public:
  class awaiter;

  /// Watches `signals` on the loop running on this thread (see the contract at the top).
  explicit signal_set(std::initializer_list<int> signals);
  explicit signal_set(std::span<const int> signals);
  /// Watches `signals` on `loop`, which need not be running yet (call on its thread).
  signal_set(event_loop& loop, std::initializer_list<int> signals);
  signal_set(event_loop& loop, std::span<const int> signals);
  ~signal_set();

  /// Waits for the oldest delivery not handed out yet and returns its signal number.
  [[nodiscard]] awaiter wait() noexcept;

  /// The signals watched, without duplicates, in the order given.
  using signal_watch::signals;

 private:
  bool on_signal(int signo, std::uint64_t count) noexcept override;
  /// Hands counted deliveries to parked waiters, oldest to oldest.
  void hand_out() noexcept;
  /// A delivery handed to a waiter that was cancelled before it resumed.
  void give_back(int signo) noexcept;

  struct burst {  // `count` deliveries of `signo` in a row
    int signo;
    std::uint64_t count;
  };
  std::deque<burst> undelivered_;  // oldest first
  detail::waiter_list<awaiter> waiters_;
};

class signal_set::awaiter final : public detail::list_waiter<awaiter> {
 public:
  explicit awaiter(signal_set& set) noexcept : set_(&set) {}
  awaiter(const awaiter&) = delete;
  awaiter& operator=(const awaiter&) = delete;
  ~awaiter() override {
    if (linked()) set_->loop().release_work();  // the frame was destroyed while parked
    if (signo_ != 0) set_->give_back(signo_);    // handed a signal, never resumed
  }

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <detail::corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    owner_ = &detail::task_of(h);
    assert(&owner_->loop() == &set_->loop() && "a signal_set is waited on from its own loop only");
    // First look at the pipe: what arrived since the loop last read it is counted now, in order
    // (and if that cancels this task — Ctrl-C under corio::run — it is seen just below).
    set_->collect();
    if (owner_->cancel_requested()) return false;
    set_->loop().hold_work();
    park_in(set_->waiters_, h);
    set_->hand_out();  // already counted: handed over now, resumed on a later turn
    return true;
  }

  int await_resume() {
    const int signo = std::exchange(signo_, 0);
    if (!owner_->cancel_requested()) return signo;
    if (signo != 0) set_->give_back(signo);
    detail::throw_cancelled();
  }

  bool on_cancel() noexcept override {
    set_->loop().release_work();
    return list_waiter::on_cancel();
  }

  [[nodiscard]] std::string describe() const override { return "signal"; }  // for await chains

 private:
  friend class signal_set;
  signal_set* set_;
  int signo_ = 0;  // the delivery handed to this wait; 0 while it has none
};

inline signal_set::awaiter signal_set::wait() noexcept { return awaiter(*this); }

/// Watches `signals` from when the returned task starts, and returns the first one delivered
/// after that (a signal that arrives before the task starts is not seen: keep a signal_set to
/// miss nothing). Checks `signals` at once (std::invalid_argument as for signal_set).
[[nodiscard]] task<int> wait_for_signal(std::initializer_list<int> signals);

}  // namespace corio
