// io/socket.hpp — corio::net's sockets: stream_socket (TCP or Unix-domain), listener and
// udp_socket, as awaitable sources on the loop (design.md, "I/O").
//
//   auto server = net::listener::bind(net::address::loopback(0));
//   net::stream_socket conn = co_await server.accept();
//   std::array<char, 4096> buf;
//   while (auto n = co_await conn.read_some(buf))        // nullopt: the peer closed (EOF)
//     co_await conn.write_all({buf.data(), *n});
//
// How every operation works: try the syscall; only on EAGAIN park on the descriptor's
// readiness (runtime/fd_watch.hpp) and try again when it comes. Descriptors are registered with
// the loop once, when the socket is made, on the loop running at that moment (so sockets are
// made inside tasks; outside one, std::logic_error). A socket must be used on that loop only.
//
// Contract, for every awaitable below unless it says otherwise:
//   * Resumes on the loop's thread. When the syscall succeeds at once, the co_await completes
//     without suspending (like a ready Asio operation); otherwise in a later turn.
//   * Errors: std::system_error carrying the errno (ECONNRESET, EPIPE, ECONNREFUSED, ...) and
//     saying what failed; EAGAIN never escapes. A reset is an error for every later read of the
//     stream too: the kernel reports it to one call only and then says "end of stream" to reads,
//     so a stream_socket remembers it (a reset never looks like a clean close). write_all throws net::write_error, which also
//     says how many bytes went out before the error.
//   * close() while other tasks are parked on this socket: each resumes in a later turn (never
//     inside close()) with std::system_error(ECANCELED) — "operation aborted" — a distinct error,
//     not corio::cancelled. Using a closed socket throws std::system_error(EBADF).
//   * Cancellation (corio::cancelled) is delivered only while parked: read_some, accept,
//     recv_from, write_some and send_to are cancel-safe (nothing was consumed or sent). A
//     cancellation that comes after a parked read_some took its bytes (at the wake-up, see
//     read_some_op below) but before its task ran still wins: the bytes are kept in the socket
//     and the next read returns them first.
//     write_all is NOT (as in Tokio): bytes before the cancellation were sent. connect closes its
//     socket.
//   * A task destroyed while parked unregisters itself; nothing touches its frame later.
//   * Destroying an open socket closes it (and aborts its waiters, as close() does). A socket
//     may outlive its loop (returned from corio::run): its operations then throw ECANCELED, and
//     destroying it just closes the descriptor.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "../runtime/fd_watch.hpp"
#include "../runtime/sleep.hpp"
#include "../runtime/task.hpp"
#include "../timers/clock.hpp"
#include "address.hpp"

namespace corio::net {

/// write_all failed part-way: the errno, and how many bytes the peer was sent before it.
class write_error : public std::system_error {
 public:
  write_error(int error, std::size_t bytes_written);
  [[nodiscard]] std::size_t bytes_written() const noexcept { return bytes_written_; }

 private:
  std::size_t bytes_written_;
};

namespace detail {

/// A descriptor and its registration with the loop; moves keep the registration (it lives on the
/// heap, because the poller holds its address).
class socket_handle {
 public:
  socket_handle() noexcept = default;
  /// Takes ownership of `fd` and registers it with the running loop (closing it on failure).
  explicit socket_handle(int fd);
  /// A new socket of `family` and `type` (SOCK_STREAM, SOCK_DGRAM). Throws std::system_error.
  static socket_handle open(int family, int type);

  [[nodiscard]] bool is_open() const noexcept { return watch_ != nullptr; }
  /// The descriptor; throws std::system_error(EBADF) once closed.
  [[nodiscard]] int fd() const;
  /// Deregisters, aborts parked operations (they resume with ECANCELED) and closes. Idempotent.
  void close() noexcept;

  class ready_awaiter;
  /// Parks until the descriptor is ready in direction `d` (fd_watch.hpp). Throws ECANCELED
  /// ("operation aborted") if the socket was closed meanwhile, even by a task that ran between
  /// the wake-up and this task's resumption.
  [[nodiscard]] ready_awaiter ready(corio::detail::io_direction d);
  /// ready(d) with an attempt run at each readiness before the task wakes (fd_watch.hpp,
  /// "Operations that complete at the wake-up"), made in `slot`: the awaiter cannot move once
  /// parked (the watch links it by address), so an operation keeps it in place.
  ready_awaiter& ready_in(std::optional<ready_awaiter>& slot, corio::detail::io_direction d,
                          corio::detail::wake_attempt attempt);
  /// An operation found side `d` not ready: under fault injection that may have been made up,
  /// so have the watch report the readiness the lie hid (sys.hpp). Nothing otherwise.
  void found_not_ready(corio::detail::io_direction d);
  /// Readiness tracking (fd_watch.hpp): false when the last operation on side `d` found the
  /// kernel buffer empty (or full) and no event came since, so the next one should park first.
  /// True once closed, so that the operation goes on to fail with EBADF.
  [[nodiscard]] bool may_be_ready(corio::detail::io_direction d) const noexcept {
    return watch_ == nullptr || watch_->may_be_ready(d);
  }
  void clear_ready(corio::detail::io_direction d) noexcept {
    if (watch_ != nullptr) watch_->clear_ready(d);
  }
  class turn_awaiter;
  /// Spends one unit of the loop's cooperative budget, yielding first when it is spent: every
  /// operation awaits it, so a socket that is always ready cannot starve the loop (T-17).
  [[nodiscard]] static turn_awaiter take_turn() noexcept;
  /// Waits `d`, cut short by close() (fd_watch.hpp).
  [[nodiscard]] corio::detail::fd_watch::pause_awaiter pause(duration d);

  socket_handle(socket_handle&&) noexcept = default;
  socket_handle& operator=(socket_handle&& other) noexcept;
  ~socket_handle() { close(); }

 private:
  std::unique_ptr<corio::detail::fd_watch> watch_;
};

class socket_handle::ready_awaiter {
 public:
  ready_awaiter(corio::detail::fd_watch& watch, corio::detail::io_direction d, const socket_handle& handle,
                corio::detail::wake_attempt attempt = {}) noexcept
      : inner_(watch, d, attempt), handle_(handle) {}
  [[nodiscard]] bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
    return inner_.await_suspend(h);
  }
  void await_resume() const;
  /// Has the parked task been asked to cancel? (Valid once await_suspend ran.)
  [[nodiscard]] bool cancel_requested() const noexcept { return inner_.owner().cancel_requested(); }

 private:
  corio::detail::fd_watch::awaiter inner_;
  const socket_handle& handle_;
};

class socket_handle::turn_awaiter {
 public:
  [[nodiscard]] bool await_ready() noexcept {
    has_budget_ = event_loop::current()->consume_budget();
    return has_budget_;
  }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    return yield_.emplace(duration::zero()).await_suspend(h);
  }
  void await_resume() const {
    if (!has_budget_) yield_->await_resume();  // throws corio::cancelled if cancelled meanwhile
  }

 private:
  std::optional<corio::detail::sleep_awaiter> yield_;  // made only when the budget is spent
  bool has_budget_ = true;
};

}  // namespace detail

/// A connected byte stream: TCP (IPv4/IPv6) or Unix-domain. Move-only.
class stream_socket {
 public:
  /// A socket that is not open.
  stream_socket() noexcept = default;
  /// Adopts a connected, non-blocking descriptor (what listener::accept does).
  explicit stream_socket(detail::socket_handle handle) noexcept : handle_(std::move(handle)) {}

  /// Connects to `to`. With a timeout, gives up after it with corio::timeout_error. Errors:
  /// std::system_error (ECONNREFUSED, ENETUNREACH, ...). Cancelled or timed out: the socket is
  /// closed, nothing is left registered, no completion arrives later.
  [[nodiscard]] static task<stream_socket> connect(address to, std::optional<duration> timeout = std::nullopt);
  /// Two Unix-domain stream sockets connected to each other (socketpair(2); Python's
  /// socket.socketpair): a pipe in both directions, for tests and for talking to a child
  /// process. Nothing to wait for. Throws std::system_error (EMFILE...).
  [[nodiscard]] static std::pair<stream_socket, stream_socket> pair();

  class read_some_op;
  class write_all_op;

  /// Reads what is there, up to buffer.size() bytes, waiting only if nothing is. Returns the
  /// count, or nullopt at end of stream (the peer shut down its side). An empty buffer gives 0
  /// at once — never confused with end of stream. Cancel-safe. An operation (see read_some_op):
  /// co_await it, or give it to corio::timeout / corio::spawn, or take `.as_task()`.
  [[nodiscard]] read_some_op read_some(std::span<char> buffer) noexcept;
  /// Sends what the kernel takes now (at least 1 byte, waiting if it takes nothing). Cancel-safe.
  [[nodiscard]] task<std::size_t> write_some(std::string_view data);
  /// Sends every byte, waiting as often as needed. Not cancel-safe (see the top).
  /// Throws net::write_error (with bytes_written) on ECONNRESET, EPIPE, ..., and on ECANCELED
  /// when the socket is closed while it waits. Cancelled: corio::cancelled, with no count (the
  /// bytes sent before it are a prefix of `data`; the peer sees them). An operation, as read_some.
  [[nodiscard]] write_all_op write_all(std::string_view data) noexcept;
  /// Sends what the kernel takes now without waiting: the count, 0 when its buffer is full (or
  /// `data` is empty). Throws std::system_error (ECONNRESET, EPIPE, ...). For buffered writers
  /// that try the kernel before queueing (net::stream_writer).
  [[nodiscard]] std::size_t try_write(std::string_view data);

  /// Shuts down the write side (the peer reads EOF); reads still work. A second call is a no-op;
  /// writing afterwards throws EPIPE.
  void shutdown_write();
  /// Closes now (see the top for what happens to parked operations). Idempotent.
  void close() noexcept { handle_.close(); }
  [[nodiscard]] bool is_open() const noexcept { return handle_.is_open(); }

  /// TCP_NODELAY (Nagle off); throws std::system_error on a Unix-domain socket.
  void set_nodelay(bool on);
  [[nodiscard]] address local_address() const;
  [[nodiscard]] address peer_address() const;
  [[nodiscard]] int native_handle() const { return handle_.fd(); }

 private:
  // read_some and write_all as coroutines: what as_task() gives, and what an operation falls
  // back on when the loop's budget is spent (same names, so that await chains and logs say
  // read_some / write_all).
  struct coroutine_tag {};
  task<std::optional<std::size_t>> read_some(std::span<char> buffer, coroutine_tag);
  task<void> write_all(std::string_view data, coroutine_tag);
  // One attempt without waiting. read_now: true with `result` set (count, or nullopt at end of
  // stream), false when the caller must wait for readiness. write_now: sends from `sent` on
  // until everything went (true) or the kernel takes no more (false). Both throw as their
  // operation does.
  bool read_now(std::span<char> buffer, std::optional<std::size_t>& result);
  bool write_now(std::string_view data, std::size_t& sent);
  // Called with the errno of every failed send or recv: keeps a reset for later reads.
  void note_error(int error) noexcept;
  // A read that took `result` into `buffer` at a wake-up was cancelled before its task ran:
  // keeps the bytes for the next read (read_now hands them out first), throws corio::cancelled.
  [[noreturn]] void unread_and_cancel(std::span<const char> buffer, std::optional<std::size_t> result);
  bool take_unread(std::span<char> buffer, std::optional<std::size_t>& result) noexcept;

  detail::socket_handle handle_;
  bool write_shut_ = false;
  int broken_by_ = 0;  // ECONNRESET or ETIMEDOUT once the kernel reported one, else 0
  std::string unread_;  // bytes a cancelled read had taken (unread_and_cancel), read first
};

// read_some and write_all as awaitables of their own, not tasks, because they are the hot path
// of every protocol. The first attempt happens in await_ready: most reads and writes on a busy
// connection complete at once (data is there, the kernel buffer has room), and the co_await
// goes on without suspending and without a coroutine frame — Asio's "immediate completion".
// When it must wait, the operation parks on the socket's watch with itself as the attempt the
// watch makes at the next readiness (fd_watch.hpp, "Operations that complete at the wake-up"),
// so its task wakes to the bytes already read, or written, again without a frame. Only when the
// loop's budget for this resumption is spent (T-17) does it fall back to the coroutine behind it
// (the private overloads above), which yields first. Together that takes over a third of the
// instructions off an echo round trip (docs/benchmarks.md).
//
// Like a task, an operation is lazy and single-use: nothing happens until it is awaited, and it
// refers to its socket and buffer as the task would. `as_task()` gives the same operation as a
// plain task (a frame of its own; it starts when the task runs): corio::timeout and
// corio::spawn take an operation as that task, other combinators (gather, when_any,
// task_group) take `op.as_task()`. Waiting, cancellation, close() and errors behave as the
// contract at the top says, whichever path an operation takes.

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
    handle_.found_not_ready(Op::direction);
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
      if (cancelled_after_it_was_over()) socket_.unread_and_cancel(buffer_, result_);
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

struct listen_options {
  int backlog = 4096;          ///< capped by the kernel (net.core.somaxconn)
  bool reuse_address = true;   ///< SO_REUSEADDR: rebind at once after a restart (TCP only)
  bool reuse_port = false;     ///< SO_REUSEPORT: several listeners share one port
};

/// A listening socket: TCP or Unix-domain. Move-only.
class listener {
 public:
  listener() noexcept = default;

  /// Binds and listens at once (no await: nothing here waits). Port 0 picks a free port; see
  /// local_address(). A Unix path that exists as a stale socket file (nobody listens on it any
  /// more) is replaced, and removed again by close(); a live listener's path gives EADDRINUSE.
  /// Throws std::system_error naming the address (EADDRINUSE, EACCES...).
  [[nodiscard]] static listener bind(const address& at, listen_options options = {});

  /// Waits for the next connection. When the process or the system is out of descriptors
  /// (EMFILE, ENFILE, ENOBUFS, ENOMEM), logs one warning per burst, pauses accepting for 100 ms
  /// (the connection waits in the backlog) and tries again, without spinning and without
  /// failing (nginx does the same; reliability.md T-04); close() or destroying the listener
  /// ends the pause as it ends any parked accept. ECONNABORTED is skipped. Cancel-safe.
  [[nodiscard]] task<stream_socket> accept();

  [[nodiscard]] address local_address() const;
  /// Stops listening; parked accepts resume with ECANCELED. Idempotent.
  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return handle_.is_open(); }
  [[nodiscard]] int native_handle() const { return handle_.fd(); }

  listener(listener&& other) noexcept
      : handle_(std::move(other.handle_)), unix_path_(std::exchange(other.unix_path_, {})) {}
  listener& operator=(listener&& other) noexcept;
  ~listener() { close(); }

 private:
  detail::socket_handle handle_;
  std::string unix_path_;  // removed on close
};

/// One received datagram's size and sender.
struct datagram {
  std::size_t size;
  address from;
};

/// A UDP socket. Move-only.
class udp_socket {
 public:
  udp_socket() noexcept = default;
  /// A socket bound to `at` (port 0: any free port). Throws std::system_error.
  [[nodiscard]] static udp_socket bind(const address& at);

  /// Sends one datagram to `to`. Cancel-safe (nothing sent if cancelled while parked).
  [[nodiscard]] task<std::size_t> send_to(std::string_view data, const address& to);
  /// Receives one datagram into `buffer` (excess bytes of a longer datagram are dropped, as
  /// recvfrom does). Cancel-safe.
  [[nodiscard]] task<datagram> recv_from(std::span<char> buffer);

  [[nodiscard]] address local_address() const;
  void close() noexcept { handle_.close(); }
  [[nodiscard]] bool is_open() const noexcept { return handle_.is_open(); }
  [[nodiscard]] int native_handle() const { return handle_.fd(); }

 private:
  detail::socket_handle handle_;
};

}  // namespace corio::net
