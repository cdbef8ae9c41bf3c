// io/sys.hpp — the one seam between corio's I/O and the kernel: every socket syscall io/ makes
// goes through here (reliability.md §7: fault injection has one place to hook into).
//
// The error style is set here, once (design.md style rule 6):
//   * EINTR is retried here and never seen above (T-02); close() is never retried (Linux frees
//     the descriptor even when it reports EINTR, so a retry could close someone else's fd).
//   * A call returns `result`: a value, or the errno it failed with. EAGAIN/EWOULDBLOCK come back
//     as `would_block()`; io/ parks on it and it never escapes io/.
//   * Every descriptor is born non-blocking and close-on-exec, and never raises SIGPIPE:
//     MSG_NOSIGNAL on each send on Linux, SO_NOSIGPIPE on the socket on BSD/macOS (T-40). No
//     process-wide signal state is touched.
//   * Platform differences (accept4 vs accept+fcntl, SOCK_NONBLOCK vs fcntl, MSG_NOSIGNAL vs
//     SO_NOSIGPIPE) live in sys.cpp only; the rest of io/ has one code path.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <string>

namespace corio::net::sys {

struct result {
  long value = 0;  // meaningful when error == 0
  int error = 0;   // the errno, 0 on success

  [[nodiscard]] bool ok() const noexcept { return error == 0; }
  [[nodiscard]] bool would_block() const noexcept { return error == EAGAIN || error == EWOULDBLOCK; }
};

/// A new non-blocking, close-on-exec socket that never raises SIGPIPE.
[[nodiscard]] result open_socket(int family, int type) noexcept;
/// Two connected, non-blocking, close-on-exec Unix-domain sockets of `type` (socketpair(2));
/// on success fds[0] and fds[1] hold them.
[[nodiscard]] result socket_pair(int type, int (&fds)[2]) noexcept;
/// Accepts one connection as a non-blocking, close-on-exec descriptor; fills `peer`.
[[nodiscard]] result accept(int fd, sockaddr_storage& peer, socklen_t& peer_size) noexcept;
/// Starts a connect. EINPROGRESS (also what an interrupted connect becomes: it goes on in the
/// background and must not be restarted) means "wait until writable, then ask socket_error()".
[[nodiscard]] result connect(int fd, const sockaddr* to, socklen_t size) noexcept;
/// SO_ERROR: the outcome of a finished non-blocking connect (0 on success).
[[nodiscard]] int socket_error(int fd) noexcept;

[[nodiscard]] result recv(int fd, void* data, std::size_t size) noexcept;
[[nodiscard]] result send(int fd, const void* data, std::size_t size) noexcept;
[[nodiscard]] result recv_from(int fd, void* data, std::size_t size, sockaddr_storage& from, socklen_t& from_size) noexcept;
[[nodiscard]] result send_to(int fd, const void* data, std::size_t size, const sockaddr* to, socklen_t to_size) noexcept;

[[nodiscard]] result bind(int fd, const sockaddr* at, socklen_t size) noexcept;
[[nodiscard]] result listen(int fd, int backlog) noexcept;
[[nodiscard]] result shutdown(int fd, int how) noexcept;
[[nodiscard]] result set_option(int fd, int level, int name, int value) noexcept;
[[nodiscard]] result get_option(int fd, int level, int name) noexcept;  // value in result.value
[[nodiscard]] result local_address(int fd, sockaddr_storage& out, socklen_t& size) noexcept;
[[nodiscard]] result peer_address(int fd, sockaddr_storage& out, socklen_t& size) noexcept;
/// Removes `path` if it is a stale socket file: a Unix-domain socket that nobody listens on any
/// more (a connect to it is refused). Leaves anything else: other files, and a live listener's
/// socket, which then sees one connection that closes at once (the price of asking).
void remove_socket_file(const char* path) noexcept;
/// Closes once, never retried (see above).
void close(int fd) noexcept;

/// Throws std::system_error(error, what) — the one way an errno leaves io/.
[[noreturn]] void throw_error(int error, const std::string& what);

}  // namespace corio::net::sys
