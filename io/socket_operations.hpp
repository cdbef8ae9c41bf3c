// io/socket_operations.hpp — stream_socket's read_some and write_all as awaitables. The
// contract is socket.hpp's; include socket.hpp, which includes this file at its end (the
// operations need stream_socket complete).
//
// read_some and write_all as awaitables of their own, not tasks, because they are the hot path
// of every protocol. The first attempt happens in await_ready: most reads and writes on a busy
// connection complete at once (data is there, the kernel buffer has room), and the co_await
// goes on without suspending and without a coroutine frame — Asio's "immediate completion".
// When it must wait, the operation parks on the socket's watch with itself as the attempt the
// watch makes at the next readiness (fd_watch.hpp, "Operations that complete at the wake-up"),
// so its task wakes to the bytes already read, or written, again without a frame. Only when the
// loop's budget for this resumption is spent (T-17) does it fall back to the coroutine behind it
// (stream_socket's private overloads), which yields first. Together that takes over a third of the
// instructions off an echo round trip (docs/benchmarks.md).
//
// Like a task, an operation is lazy and single-use: nothing happens until it is awaited, and it
// refers to its socket and buffer as the task would. `as_task()` gives the same operation as a
// plain task (a frame of its own; it starts when the task runs): corio::timeout, corio::spawn,
// gather, gather_settled, when_any and task_group::spawn take an operation as that task.
// Waiting, cancellation, close() and errors behave as the contract at the top of socket.hpp
// says, whichever path an operation takes.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "../runtime/event_loop.hpp"
#include "../runtime/fd_watch.hpp"
#include "../runtime/task.hpp"
#include "socket.hpp"

namespace corio::net {

namespace detail {
/// What read_some_op and write_all_op share (CRTP): the first attempt, the two ways to wait, and
/// what the task finds when it wakes. `Op` provides
///   static constexpr io_direction direction;  the side it waits on
///   bool try_now();                           one attempt, no waiting: true when it is over
///                                             (throws as the operation does)
///   task<T> as_coroutine();                   the operation as a coroutine, from the start
template <class Op, class T>
class socket_operation {
 public:
  using task_type = task<T>;

  /// The first attempt. It spends a unit of the loop's budget, as every operation does (T-17);
  /// when none is left it does not try, and await_suspend falls back on the coroutine, which
  /// yields first.
  [[nodiscard]] bool await_ready() {
    turn_taken_ = event_loop::current()->consume_budget();
    return turn_taken_ && op().try_now();
  }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    if (!turn_taken_) {
      task_ = op().as_coroutine();
      return fallback_.emplace(std::move(task_).operator co_await()).await_suspend(h);
    }
    return handle_.ready_in(parked_on_, Op::direction, {&attempt_at_wake_up, this}).await_suspend(h);
  }

  /// The same operation as a plain task (a frame of its own), for combinators that take one.
  [[nodiscard]] task_type as_task() && { return op().as_coroutine(); }

  /// An operation moves only before it is awaited (say into a coroutine's frame, as an
  /// argument), when nothing is parked yet.
  socket_operation(socket_operation&& other) noexcept : handle_(other.handle_) {
    assert(!other.parked_on_ && !other.fallback_ && "corio::net: an operation cannot move once awaited");
  }
  socket_operation& operator=(socket_operation&&) = delete;

 protected:
  explicit socket_operation(socket_handle& handle) noexcept : handle_(handle) {}
  ~socket_operation() = default;

  [[nodiscard]] bool fell_back() const noexcept { return fallback_.has_value(); }
  [[nodiscard]] T fallback_result() { return fallback_->await_resume(); }
  [[nodiscard]] bool parked() const noexcept { return parked_on_.has_value(); }
  /// An attempt finished the operation while it was parked, but its task was asked to cancel
  /// before it ran: cancellation wins, as it does for every corio wait, so the operation must
  /// throw corio::cancelled and keep nothing it took (a read puts its bytes back).
  [[nodiscard]] bool cancelled_after_it_was_over() const noexcept { return over_ && parked_on_->cancel_requested(); }
  /// What the attempt that finished the operation threw, if it threw.
  [[nodiscard]] const std::exception_ptr& attempt_error() const noexcept { return error_; }
  /// After the task woke from parking: rethrows the error of the attempt that finished the
  /// operation, if any; when no attempt finished it, the wake-up was a cancellation or close(),
  /// and this throws that (corio::cancelled, or std::system_error(ECANCELED)).
  void finish() {
    if (over_) {
      if (error_) std::rethrow_exception(error_);
      return;
    }
    parked_on_->await_resume();
    // No other wake-up exists (fd_watch.hpp); should one appear, fail loudly, not quietly.
    throw std::logic_error("corio::net: a parked operation woke without a result");
  }

 private:
  Op& op() noexcept { return static_cast<Op&>(*this); }

  // The watch's attempt at a readiness (fd_watch.hpp): what try_now throws ends the operation
  // too, and is rethrown in the task.
  static bool attempt_at_wake_up(void* self) noexcept {
    auto& me = *static_cast<socket_operation*>(self);
    try {
      me.over_ = me.op().try_now();
    } catch (...) {
      me.error_ = std::current_exception();
      me.over_ = true;
    }
    if (!me.over_) me.handle_.found_not_ready(Op::direction);
    return me.over_;
  }

  socket_handle& handle_;
  bool turn_taken_ = false;   // the first attempt spent a unit of the loop's budget
  bool over_ = false;         // an attempt at a wake-up finished the operation...
  std::exception_ptr error_;  // ...with this error, or without one
  std::optional<socket_handle::ready_awaiter> parked_on_;
  task_type task_;            // the fallback coroutine and how it is awaited
  std::optional<corio::detail::task_awaiter<T>> fallback_;
};
}  // namespace detail

/// `co_await s.read_some(buffer)`: see stream_socket::read_some.
class stream_socket::read_some_op : public detail::socket_operation<read_some_op, std::optional<std::size_t>> {
 public:
  read_some_op(stream_socket& socket, std::span<char> buffer) noexcept
      : socket_operation(socket.handle_), socket_(socket), buffer_(buffer) {}

  [[nodiscard]] bool await_ready() {
    if (buffer_.empty()) {
      result_ = 0;  // not end of stream (T-12)
      return true;
    }
    return socket_operation::await_ready();
  }
  std::optional<std::size_t> await_resume() {
    if (fell_back()) return fallback_result();
    if (parked()) {
      if (cancelled_after_it_was_over()) socket_.unread_and_cancel(buffer_, result_, attempt_error());
      finish();
    }
    return result_;
  }

 private:
  friend socket_operation;
  static constexpr corio::detail::io_direction direction = corio::detail::io_direction::read;
  bool try_now() { return socket_.read_now(buffer_, result_); }
  task_type as_coroutine() { return socket_.read_some(buffer_, coroutine_tag{}); }

  stream_socket& socket_;
  std::span<char> buffer_;
  std::optional<std::size_t> result_;
};

/// `co_await s.write_all(data)`: see stream_socket::write_all.
class stream_socket::write_all_op : public detail::socket_operation<write_all_op, void> {
 public:
  write_all_op(stream_socket& socket, std::string_view data) noexcept
      : socket_operation(socket.handle_), socket_(socket), data_(data) {}

  void await_resume() {
    if (fell_back() || parked()) resume_after_waiting();  // else the first attempt sent it all
  }

 private:
  friend socket_operation;
  static constexpr corio::detail::io_direction direction = corio::detail::io_direction::write;
  bool try_now() { return socket_.write_now(data_, sent_); }
  task_type as_coroutine() { return socket_.write_all(data_, coroutine_tag{}); }
  void resume_after_waiting();

  stream_socket& socket_;
  std::string_view data_;
  std::size_t sent_ = 0;
};

inline stream_socket::read_some_op stream_socket::read_some(std::span<char> buffer) noexcept { return {*this, buffer}; }
inline stream_socket::write_all_op stream_socket::write_all(std::string_view data) noexcept { return {*this, data}; }

}  // namespace corio::net
