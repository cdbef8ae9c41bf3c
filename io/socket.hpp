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
//     io/socket_operations.hpp) but before its task ran still wins: the bytes are kept in the socket
//     and the next read returns them first; an error that attempt met is kept the same way, and
//     the next read throws it.
//     write_all is NOT (as in Tokio): bytes before the cancellation were sent. connect closes its
//     socket.
//   * A task destroyed while parked unregisters itself; nothing touches its frame later.
//   * Destroying an open socket closes it (and aborts its waiters, as close() does). A socket
//     may outlive its loop (returned from corio::run): its operations then throw ECANCELED, and
//     destroying it just closes the descriptor.
#pragma once

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
  /// co_await it, or give it to a combinator (timeout, spawn, gather, when_any...) as it is.
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
  // A read that took `result` into `buffer` at a wake-up, or failed there with `error`, was
  // cancelled before its task ran: keeps the bytes or the error for the next read (read_now
  // hands them out first), throws corio::cancelled.
  [[noreturn]] void unread_and_cancel(std::span<const char> buffer, std::optional<std::size_t> result,
                                      std::exception_ptr error);
  bool take_unread(std::span<char> buffer, std::optional<std::size_t>& result);

  detail::socket_handle handle_;
  bool write_shut_ = false;
  int broken_by_ = 0;  // ECONNRESET or ETIMEDOUT once the kernel reported one, else 0
  std::string unread_;  // bytes a cancelled read had taken (unread_and_cancel), read first
  std::exception_ptr unread_error_;  // or the error it met, thrown by the next read
};

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

// read_some_op and write_all_op: they need stream_socket complete.
#include "socket_operations.hpp"  // IWYU pragma: export
