// io/sys.cpp — see sys.hpp. The only file in io/ with platform #ifs. The data calls take one
// extra branch: off to faulted() when fault injection is on (its decisions: sys_faults.cpp).
#include "sys.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include "sys_faults.hpp"

namespace corio::net::sys {
namespace {

// Runs `call` until it stops failing with EINTR (the one place EINTR is retried).
template <class F>
result retry_on_eintr(F call) noexcept {
  for (;;) {
    const long value = call();
    if (value >= 0) return {value, 0};
    if (errno != EINTR) return {value, errno};
  }
}

// Is side `write` of `fd` ready right now (level-triggered, so it sees what an edge-triggered
// poller already reported)? An error or hang-up counts as ready.
bool ready_now(int fd, bool write) noexcept {
  pollfd p{fd, static_cast<short>(write ? POLLOUT : POLLIN), 0};
  return ::poll(&p, 1, 0) == 1 && p.revents != 0;
}

// Breaks the connection for real, so that the peer meets the reset too (its writes must fail,
// not stall on a window that never opens). TCP: connect(AF_UNSPEC) disconnects the socket and
// sends RST (Linux tcp_disconnect); elsewhere, or for Unix sockets, shutdown(2) both ways: the
// peer reads EOF and its writes fail with EPIPE.
void abort_connection(int fd) noexcept {
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  if (::connect(fd, &unspecified, sizeof unspecified) != 0) (void)::shutdown(fd, SHUT_RDWR);
}

// A data call with fault injection on (sys.hpp): a made-up EAGAIN or reset without asking the
// kernel, or the real `call(length)` with a length that may be shorter than the caller's and
// with EINTRs that the same retry loop as always absorbs. A made-up EAGAIN or short length
// hides readiness only if the kernel is in fact ready; if it is not, a real edge will come, and
// a synthetic one would only be a spurious wake-up.
template <class F>
result faulted(faults::call c, int fd, std::size_t size, F call) noexcept {
  const faults::fault f = faults::draw(c, size);
  if (f.what == faults::fault::kind::reset) {
    faults::report_reset(c, fd);
    abort_connection(fd);  // really broken: later calls and the peer agree
    return {-1, ECONNRESET};
  }
  const result r = f.what == faults::fault::kind::would_block ? result{-1, EAGAIN} : retry_on_eintr([&]() -> long {
    if (!faults::interrupt_now()) return call(f.size);
    errno = EINTR;
    return -1;
  });
  const bool write = c == faults::call::send || c == faults::call::send_to;
  if (f.turns > 0 && ready_now(fd, write)) faults::hide_readiness(c, fd, f.turns);
  return r;
}

#if defined(__linux__)
constexpr int no_sigpipe_flag = MSG_NOSIGNAL;
#else
constexpr int no_sigpipe_flag = 0;  // SO_NOSIGPIPE is set on the socket instead
#endif

// Per-socket setup that Linux does through flags at creation time.
[[maybe_unused]] int finish_socket_setup(int fd) noexcept {
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return errno;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return errno;
#if defined(SO_NOSIGPIPE)
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) < 0) return errno;
#endif
  return 0;
}

result checked_new_fd(result r) noexcept {
#if !defined(__linux__)
  if (r.ok()) {
    if (const int error = finish_socket_setup(static_cast<int>(r.value)); error != 0) {
      ::close(static_cast<int>(r.value));
      return {-1, error};
    }
  }
#endif
  return r;
}

}  // namespace

result open_socket(int family, int type) noexcept {
#if defined(__linux__)
  type |= SOCK_NONBLOCK | SOCK_CLOEXEC;
#endif
  return checked_new_fd(retry_on_eintr([&] { return ::socket(family, type, 0); }));
}

result socket_pair(int type, int (&fds)[2]) noexcept {
#if defined(__linux__)
  type |= SOCK_NONBLOCK | SOCK_CLOEXEC;
#endif
  const result r = retry_on_eintr([&] { return ::socketpair(AF_UNIX, type, 0, fds); });
  if (!r.ok()) return r;
  for (int i = 0; i < 2; ++i) {
    if (const result set_up = checked_new_fd({fds[i], 0}); !set_up.ok()) {
      sys::close(fds[1 - i]);  // checked_new_fd closed fds[i] itself
      return set_up;
    }
  }
  return r;
}

result accept(int fd, sockaddr_storage& peer, socklen_t& peer_size) noexcept {
  peer_size = sizeof peer;
  auto* to = reinterpret_cast<sockaddr*>(&peer);
#if defined(__linux__)
  const auto call = [&](std::size_t) { return ::accept4(fd, to, &peer_size, SOCK_NONBLOCK | SOCK_CLOEXEC); };
  if (faults_enabled()) [[unlikely]] return faulted(faults::call::accept, fd, 0, call);
  return retry_on_eintr([&] { return call(0); });
#else
  const auto call = [&](std::size_t) { return ::accept(fd, to, &peer_size); };
  if (faults_enabled()) [[unlikely]] return checked_new_fd(faulted(faults::call::accept, fd, 0, call));
  return checked_new_fd(retry_on_eintr([&] { return call(0); }));
#endif
}

result connect(int fd, const sockaddr* to, socklen_t size) noexcept {
  if (::connect(fd, to, size) == 0) return {0, 0};
  // POSIX: an interrupted connect keeps going asynchronously; restarting it gives EALREADY.
  return {-1, errno == EINTR ? EINPROGRESS : errno};
}

int socket_error(int fd) noexcept {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0) return errno;
  return error;
}

result recv(int fd, void* data, std::size_t size) noexcept {
  const auto call = [&](std::size_t n) { return ::recv(fd, data, n, 0); };
  if (faults_enabled()) [[unlikely]] return faulted(faults::call::recv, fd, size, call);
  return retry_on_eintr([&] { return call(size); });
}

result send(int fd, const void* data, std::size_t size) noexcept {
  const auto call = [&](std::size_t n) { return ::send(fd, data, n, no_sigpipe_flag); };
  if (faults_enabled()) [[unlikely]] return faulted(faults::call::send, fd, size, call);
  return retry_on_eintr([&] { return call(size); });
}

result recv_from(int fd, void* data, std::size_t size, sockaddr_storage& from, socklen_t& from_size) noexcept {
  from_size = sizeof from;
  const auto call = [&](std::size_t n) { return ::recvfrom(fd, data, n, 0, reinterpret_cast<sockaddr*>(&from), &from_size); };
  if (faults_enabled()) [[unlikely]] return faulted(faults::call::recv_from, fd, size, call);
  return retry_on_eintr([&] { return call(size); });
}

result send_to(int fd, const void* data, std::size_t size, const sockaddr* to, socklen_t to_size) noexcept {
  const auto call = [&](std::size_t n) { return ::sendto(fd, data, n, no_sigpipe_flag, to, to_size); };
  if (faults_enabled()) [[unlikely]] return faulted(faults::call::send_to, fd, size, call);
  return retry_on_eintr([&] { return call(size); });
}

result bind(int fd, const sockaddr* at, socklen_t size) noexcept {
  return retry_on_eintr([&] { return ::bind(fd, at, size); });
}

result listen(int fd, int backlog) noexcept {
  return retry_on_eintr([&] { return ::listen(fd, backlog); });
}

result shutdown(int fd, int how) noexcept {
  return retry_on_eintr([&] { return ::shutdown(fd, how); });
}

result set_option(int fd, int level, int name, int value) noexcept {
  return retry_on_eintr([&] { return ::setsockopt(fd, level, name, &value, sizeof value); });
}

result get_option(int fd, int level, int name) noexcept {
  int value = 0;
  socklen_t size = sizeof value;
  const result r = retry_on_eintr([&] { return ::getsockopt(fd, level, name, &value, &size); });
  return r.ok() ? result{value, 0} : r;
}

result local_address(int fd, sockaddr_storage& out, socklen_t& size) noexcept {
  size = sizeof out;
  return retry_on_eintr([&] { return ::getsockname(fd, reinterpret_cast<sockaddr*>(&out), &size); });
}

result peer_address(int fd, sockaddr_storage& out, socklen_t& size) noexcept {
  size = sizeof out;
  return retry_on_eintr([&] { return ::getpeername(fd, reinterpret_cast<sockaddr*>(&out), &size); });
}

namespace {

// Does anybody accept connections at the Unix socket `path`? Unix-domain connects finish at
// once: refused means its listener is gone. When we cannot tell, assume somebody does.
bool unix_listener_alive(const char* path) noexcept {
  sockaddr_un to{};
  const std::size_t length = std::strlen(path);
  if (length >= sizeof to.sun_path) return true;
  to.sun_family = AF_UNIX;
  std::memcpy(to.sun_path, path, length);
  const result probe = sys::open_socket(AF_UNIX, SOCK_STREAM);
  if (!probe.ok()) return true;
  const int fd = static_cast<int>(probe.value);
  const result r = sys::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  sys::close(fd);
  return r.error != ECONNREFUSED && r.error != ENOENT;
}

}  // namespace

void remove_socket_file(const char* path) noexcept {
  struct stat info {};
  if (::lstat(path, &info) == 0 && S_ISSOCK(info.st_mode) && !unix_listener_alive(path)) ::unlink(path);
}

void close(int fd) noexcept {
  if (faults_ever_enabled()) [[unlikely]] faults::forget(fd);
  ::close(fd);
}

void throw_error(int error, const std::string& what) { throw std::system_error(error, std::generic_category(), what); }

}  // namespace corio::net::sys
