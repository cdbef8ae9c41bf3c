// io/socket.cpp — see socket.hpp. Every operation has the same shape: the syscall first, and on
// EAGAIN park on the descriptor's readiness and try again.
#include "socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

#include "../runtime/event_loop.hpp"
#include "../runtime/log.hpp"
#include "../runtime/timeout.hpp"
#include "sys.hpp"

namespace corio::net {
namespace {

using corio::detail::io_direction;

// How long accept pauses when the process or system is out of descriptors (see socket.hpp).
constexpr auto accept_pause_when_out_of_fds = std::chrono::milliseconds(100);

bool out_of_descriptors(int error) noexcept {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

// TCP_NODELAY on every TCP stream, as asyncio does: request/response protocols (and the echo
// benchmark) otherwise wait up to 40 ms for the peer's delayed ACK (Nagle). Unix sockets skip it.
// Best effort: a connection the peer reset already may refuse options (macOS answers EINVAL),
// and failing accept() for that would stop a server's accept loop over one client; such a
// socket is handed out anyway and its first read or write reports the reset.
void enable_nodelay_if_tcp(int fd, int family) noexcept {
  if (family == AF_INET || family == AF_INET6) (void)sys::set_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
}

address query_address(int fd, bool peer) {
  sockaddr_storage storage{};
  socklen_t size = 0;
  const sys::result r = peer ? sys::peer_address(fd, storage, size) : sys::local_address(fd, storage, size);
  if (!r.ok()) sys::throw_error(r.error, peer ? "getpeername" : "getsockname");
  return address::from_native(reinterpret_cast<const sockaddr*>(&storage), size);
}

// One send, with readiness tracking (fd_watch.hpp): when the last send found the buffer full and
// no event came since, it says EAGAIN without a syscall; a short send marks the buffer full.
sys::result send_tracked(detail::socket_handle& handle, std::string_view data) {
  if (!handle.may_be_ready(io_direction::write)) return sys::result{-1, EAGAIN};
  const sys::result r = sys::send(handle.fd(), data.data(), data.size());
  if (!r.ok() ? r.would_block() : static_cast<std::size_t>(r.value) < data.size()) handle.clear_ready(io_direction::write);
  return r;
}

[[noreturn]] void throw_aborted() { sys::throw_error(ECANCELED, "operation aborted: the socket was closed"); }

// Fault injection (sys.hpp): if sys made up a "not ready" on this side, the kernel may still have
// data or room, and an edge-triggered poller would never say so again; a synthetic event from
// the watch stands in for the edge the lie swallowed (fd_watch.hpp, report_ready_later).
void report_hidden_readiness(corio::detail::fd_watch& watch, io_direction d) {
  if (const unsigned turns = sys::take_hidden_readiness(watch.fd(), d == io_direction::write); turns > 0)
    watch.report_ready_later(d, turns);
}

}  // namespace

write_error::write_error(int error, std::size_t bytes_written)
    : std::system_error(error, std::generic_category(), "write_all failed after " + std::to_string(bytes_written) + " bytes"),
      bytes_written_(bytes_written) {}

// --- socket_handle --------------------------------------------------------------------------

namespace detail {

socket_handle::socket_handle(int fd) {
  event_loop* loop = event_loop::current();
  if (loop == nullptr) {
    sys::close(fd);
    throw std::logic_error("corio::net: sockets are made inside a task, on a running loop");
  }
  try {
    sys::check_fault_environment();  // a malformed CORIO_FAULTS fails every socket (sys.hpp)
    watch_ = std::make_unique<corio::detail::fd_watch>(*loop, fd);
  } catch (...) {
    sys::close(fd);
    throw;
  }
}

socket_handle socket_handle::open(int family, int type) {
  const sys::result r = sys::open_socket(family, type);
  if (!r.ok()) sys::throw_error(r.error, "socket");
  return socket_handle(static_cast<int>(r.value));
}

int socket_handle::fd() const {
  if (watch_ == nullptr) sys::throw_error(EBADF, "corio::net: the socket is closed");
  return watch_->fd();
}

void socket_handle::close() noexcept {
  if (watch_ == nullptr) return;
  const int fd = watch_->fd();
  watch_->close();  // deregister before the number can be reused (libuv: EPOLL_CTL_DEL first)
  sys::close(fd);
  watch_.reset();
}

socket_handle::ready_awaiter socket_handle::ready(io_direction d) {
  if (watch_ == nullptr) throw_aborted();
  found_not_ready(d);
  return ready_awaiter(*watch_, d, *this);
}

void socket_handle::ready_awaiter::await_resume() const {
  inner_.await_resume();                     // cancelled, or aborted while parked
  // Closed after the wake-up, before this task ran: still "aborted", said a little differently.
  if (!handle_.is_open()) sys::throw_error(ECANCELED, "operation aborted: the socket was closed after it became ready");
}

socket_handle::ready_awaiter& socket_handle::ready_in(std::optional<ready_awaiter>& slot, io_direction d,
                                                      corio::detail::wake_attempt attempt) {
  if (watch_ == nullptr) throw_aborted();
  found_not_ready(d);  // as ready() does
  return slot.emplace(*watch_, d, *this, attempt);
}

void socket_handle::found_not_ready(io_direction d) {
  if (sys::faults_ever_enabled() && watch_ != nullptr) [[unlikely]] report_hidden_readiness(*watch_, d);
}

socket_handle::turn_awaiter socket_handle::take_turn() noexcept { return turn_awaiter(); }

corio::detail::fd_watch::pause_awaiter socket_handle::pause(duration d) {
  if (watch_ == nullptr) throw_aborted();
  return watch_->pause(d);
}

socket_handle& socket_handle::operator=(socket_handle&& other) noexcept {
  if (this != &other) {
    close();
    watch_ = std::move(other.watch_);
  }
  return *this;
}

}  // namespace detail

// --- stream_socket --------------------------------------------------------------------------

task<stream_socket> stream_socket::connect(address to, std::optional<duration> timeout) {
  if (timeout) co_return co_await corio::timeout(*timeout, connect(std::move(to), std::nullopt));
  detail::socket_handle handle = detail::socket_handle::open(to.family(), SOCK_STREAM);
  const sys::result started = sys::connect(handle.fd(), to.native(), to.native_size());
  if (!started.ok() && started.error != EINPROGRESS) sys::throw_error(started.error, "connect to " + to.to_string());
  if (!started.ok()) {
    co_await handle.ready(io_direction::write);  // writable = the handshake finished, one way or the other
    if (const int error = sys::socket_error(handle.fd()); error != 0) sys::throw_error(error, "connect to " + to.to_string());
  }
  enable_nodelay_if_tcp(handle.fd(), to.family());
  co_return stream_socket(std::move(handle));
}

std::pair<stream_socket, stream_socket> stream_socket::pair() {
  int fds[2] = {-1, -1};
  if (const sys::result r = sys::socket_pair(SOCK_STREAM, fds); !r.ok()) sys::throw_error(r.error, "socketpair");
  detail::socket_handle first;
  try {
    first = detail::socket_handle(fds[0]);
  } catch (...) {
    sys::close(fds[1]);  // socket_handle closed fds[0] itself
    throw;
  }
  detail::socket_handle second(fds[1]);  // on failure it closes fds[1], and `first` closes itself
  return {stream_socket(std::move(first)), stream_socket(std::move(second))};
}

// Readiness tracking (fd_watch.hpp) decides whether to try the syscall or park first. A short
// read or write on a stream means the kernel buffer is now empty (or full): the next operation
// parks at once instead of paying for a recv that says EAGAIN (Tokio does the same).
bool stream_socket::read_now(std::span<char> buffer, std::optional<std::size_t>& result) {
  if (!unread_.empty() || unread_error_) [[unlikely]] return take_unread(buffer, result);
  if (!handle_.may_be_ready(io_direction::read)) return false;
  const sys::result r = sys::recv(handle_.fd(), buffer.data(), buffer.size());
  if (r.ok()) {
    if (r.value == 0 && broken_by_ != 0) sys::throw_error(broken_by_, "read after the connection was reset");
    const auto n = static_cast<std::size_t>(r.value);
    if (n < buffer.size()) handle_.clear_ready(io_direction::read);
    result = n == 0 ? std::nullopt : std::optional(n);
    return true;
  }
  if (!r.would_block()) {
    note_error(r.error);
    sys::throw_error(r.error, "read");
  }
  handle_.clear_ready(io_direction::read);
  return false;
}

task<std::optional<std::size_t>> stream_socket::read_some(std::span<char> buffer, coroutine_tag) {
  if (buffer.empty()) co_return 0;  // not end of stream (T-12)
  co_await detail::socket_handle::take_turn();
  for (;;) {
    std::optional<std::size_t> result;
    if (read_now(buffer, result)) co_return result;
    co_await handle_.ready(io_direction::read);
  }
}

task<std::size_t> stream_socket::write_some(std::string_view data) {
  if (data.empty()) co_return 0;
  co_await detail::socket_handle::take_turn();
  for (;;) {
    const sys::result r = send_tracked(handle_, data);
    if (r.ok()) co_return static_cast<std::size_t>(r.value);
    if (!r.would_block()) {
      note_error(r.error);
      sys::throw_error(r.error, "write");
    }
    co_await handle_.ready(io_direction::write);
  }
}

bool stream_socket::write_now(std::string_view data, std::size_t& sent) {
  while (sent < data.size()) {
    const sys::result r = send_tracked(handle_, data.substr(sent));
    if (r.ok()) {
      sent += static_cast<std::size_t>(r.value);
    } else if (r.would_block()) {
      return false;
    } else {
      note_error(r.error);
      throw write_error(r.error, sent);
    }
  }
  return true;
}

task<void> stream_socket::write_all(std::string_view data, coroutine_tag) {
  co_await detail::socket_handle::take_turn();
  std::size_t sent = 0;
  while (!write_now(data, sent)) {
    try {
      co_await handle_.ready(io_direction::write);
    } catch (const std::system_error& e) {  // closed meanwhile (ECANCELED): say how much went out (T-20)
      throw write_error(e.code().value(), sent);
    }
  }
}

std::size_t stream_socket::try_write(std::string_view data) {
  if (data.empty()) return 0;
  const sys::result r = send_tracked(handle_, data);
  if (r.ok()) return static_cast<std::size_t>(r.value);
  if (r.would_block()) return 0;
  note_error(r.error);
  sys::throw_error(r.error, "write");
}

// The kernel hands a reset (or a keepalive timeout) to the first call that asks and then
// answers reads with 0, "end of stream": when a write met the reset, or a reader on another
// task did, the next read would take a broken connection for a clean close. Remember it.
void stream_socket::note_error(int error) noexcept {
  if (error == ECONNRESET || error == ETIMEDOUT) broken_by_ = error;
}

void stream_socket::shutdown_write() {
  if (write_shut_) return;
  if (const sys::result r = sys::shutdown(handle_.fd(), SHUT_WR); !r.ok()) sys::throw_error(r.error, "shutdown");
  write_shut_ = true;
}

void stream_socket::set_nodelay(bool on) {
  if (const sys::result r = sys::set_option(handle_.fd(), IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); !r.ok())
    sys::throw_error(r.error, "setsockopt(TCP_NODELAY)");
}

address stream_socket::local_address() const { return query_address(handle_.fd(), false); }
address stream_socket::peer_address() const { return query_address(handle_.fd(), true); }

// --- listener -------------------------------------------------------------------------------

listener listener::bind(const address& at, listen_options options) {
  listener l;
  l.handle_ = detail::socket_handle::open(at.family(), SOCK_STREAM);
  const int fd = l.handle_.fd();
  if (at.is_ip()) {
    if (options.reuse_address) (void)sys::set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
#if defined(SO_REUSEPORT)
    if (options.reuse_port) {
      if (const sys::result r = sys::set_option(fd, SOL_SOCKET, SO_REUSEPORT, 1); !r.ok()) sys::throw_error(r.error, "setsockopt(SO_REUSEPORT)");
    }
#endif
  } else if (at.family() == AF_UNIX) {
    sys::remove_socket_file(at.host().c_str());
  }
  if (const sys::result r = sys::bind(fd, at.native(), at.native_size()); !r.ok()) sys::throw_error(r.error, "bind to " + at.to_string());
  if (at.family() == AF_UNIX) l.unix_path_ = at.host();
  if (const sys::result r = sys::listen(fd, options.backlog); !r.ok()) sys::throw_error(r.error, "listen on " + at.to_string());
  return l;
}

task<stream_socket> listener::accept() {
  bool warned = false;
  co_await detail::socket_handle::take_turn();
  for (;;) {
    sockaddr_storage peer{};
    socklen_t peer_size = 0;
    const sys::result r = sys::accept(handle_.fd(), peer, peer_size);
    if (r.ok()) {
      detail::socket_handle accepted(static_cast<int>(r.value));
      enable_nodelay_if_tcp(accepted.fd(), peer.ss_family);
      co_return stream_socket(std::move(accepted));
    }
    if (r.would_block()) {
      co_await handle_.ready(io_direction::read);
    } else if (out_of_descriptors(r.error)) {
      if (!std::exchange(warned, true))
        corio::detail::log_warning("corio::net::listener: out of file descriptors (" + std::error_code(r.error, std::generic_category()).message() +
                                   "); pausing accept, connections wait in the backlog");
      // Not a readiness wait: the pending connection keeps the listener readable, so poll(2)
      // would report it at once and we would spin. Not a plain sleep either: close() or the
      // listener's destruction must end the pause (with ECANCELED), or this frame would touch
      // a listener that is gone when the pause ends.
      co_await handle_.pause(accept_pause_when_out_of_fds);
    } else if (r.error != ECONNABORTED && r.error != EPROTO) {
      sys::throw_error(r.error, "accept");
    }
  }
}

address listener::local_address() const { return query_address(handle_.fd(), false); }

void listener::close() noexcept {
  handle_.close();
  if (!unix_path_.empty()) sys::remove_socket_file(std::exchange(unix_path_, {}).c_str());
}

listener& listener::operator=(listener&& other) noexcept {
  if (this != &other) {
    close();
    handle_ = std::move(other.handle_);
    unix_path_ = std::exchange(other.unix_path_, {});
  }
  return *this;
}

// --- udp_socket -----------------------------------------------------------------------------

udp_socket udp_socket::bind(const address& at) {
  udp_socket s;
  s.handle_ = detail::socket_handle::open(at.family(), SOCK_DGRAM);
  if (const sys::result r = sys::bind(s.handle_.fd(), at.native(), at.native_size()); !r.ok())
    sys::throw_error(r.error, "bind to " + at.to_string());
  return s;
}

task<std::size_t> udp_socket::send_to(std::string_view data, const address& to) {
  co_await detail::socket_handle::take_turn();
  for (;;) {
    const sys::result r = sys::send_to(handle_.fd(), data.data(), data.size(), to.native(), to.native_size());
    if (r.ok()) co_return static_cast<std::size_t>(r.value);
    if (!r.would_block()) sys::throw_error(r.error, "send_to " + to.to_string());
    co_await handle_.ready(io_direction::write);
  }
}

task<datagram> udp_socket::recv_from(std::span<char> buffer) {
  co_await detail::socket_handle::take_turn();
  for (;;) {
    sockaddr_storage from{};
    socklen_t from_size = 0;
    const sys::result r = sys::recv_from(handle_.fd(), buffer.data(), buffer.size(), from, from_size);
    if (r.ok()) co_return datagram{static_cast<std::size_t>(r.value), address::from_native(reinterpret_cast<const sockaddr*>(&from), from_size)};
    if (!r.would_block()) sys::throw_error(r.error, "recv_from");
    co_await handle_.ready(io_direction::read);
  }
}

address udp_socket::local_address() const { return query_address(handle_.fd(), false); }

}  // namespace corio::net
