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
//
// Fault injection (issue 7; none of libuv, Tokio, Asio has it). A seeded mode in which the data
// calls misbehave on purpose, as a loaded kernel or a hostile network may, so that every test can
// be rerun against the rare answers a quiet loopback never gives. Switched on from the
// environment, or by enable_faults() (tests):
//
//   CORIO_FAULTS=seed=42,short=0.2,eagain=0.1,eintr=0.1,delay=0.05,reset=0.001
//
//   key     value                what a faulted call does                       calls it hits
//   seed    integer, 0..2^64-1   picks the pseudo-random sequence (default 1)
//   short   rate in [0, 1]       the kernel is given a smaller length: 1..n-1   recv, send
//                                bytes (n > 1; half the time at most 16)
//   eagain  rate in [0, 1]       EAGAIN without asking the kernel; readiness is recv, send, recv_from,
//                                reported again on the next loop turn           send_to, accept
//   delay   rate in [0, 1]       the same, but readiness comes back only after  as eagain
//                                2..4 turns: the kernel's event "arrives late"
//   reset   rate in [0, 1]       ECONNRESET; the connection is really broken    recv, send
//                                first (TCP: RST; Unix: shutdown(2) both ways),
//                                so later calls and the peer fail too
//   eintr   rate in [0, 1)       EINTR instead of the call, retried by the same recv, send, recv_from,
//                                loop as a real one: never seen above sys       send_to, accept
//
// Keys may come in any order and be left out (rate 0). One draw per call picks at most one of
// short / eagain / delay / reset, so their rates may add up to at most 1; eintr is drawn before
// every attempt, hence < 1. Datagrams are never shortened (that would cut a message) and never
// reset. The other calls (socket, connect, bind, close, ...) are never faulted.
//
// Why "readiness is reported again": readiness tracking (runtime/fd_watch.hpp) and the
// edge-triggered epoll backend mean that a made-up EAGAIN, or a short read, while the kernel
// still has data would leave the task parked forever: no new edge comes for data already
// there. So sys remembers every side it lied about, and the next time a task parks on it
// (io/socket.cpp, socket_handle::ready) fd_watch::report_ready_later() delivers a synthetic
// event in its place. That synthetic, possibly late, event is the "delayed readiness" fault.
//
// A malformed CORIO_FAULTS (unknown key, a rate outside its range, rates adding up to more than
// 1, ...) is a clear error at startup: the reason goes to stderr before main() runs, and every
// socket made afterwards throws std::invalid_argument with it, so a run never goes ahead
// silently without the faults it asked for. Off, the mode costs one predictable branch per call.
// While on, the calls take a mutex (loops on several threads share one sequence); the sequence
// is deterministic for a given seed as long as the program makes the same calls in the same
// order. At exit, a mode switched on from the environment prints what it injected to stderr.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// --- fault injection (see the top) -----------------------------------------------------------

struct fault_config {
  std::uint64_t seed = 1;
  double short_io = 0;  // "short"
  double eagain = 0;
  double delay = 0;
  double reset = 0;
  double eintr = 0;
};

/// What was injected since the mode was last switched on.
struct fault_counts {
  std::uint64_t calls = 0;      // calls that could have been faulted
  std::uint64_t shortened = 0;  // short reads and writes
  std::uint64_t eagain = 0;
  std::uint64_t delayed = 0;
  std::uint64_t resets = 0;
  std::uint64_t eintr = 0;
};

/// Parses the CORIO_FAULTS syntax above. Throws std::invalid_argument naming the bad part.
[[nodiscard]] fault_config parse_fault_config(std::string_view text);
/// Switches the mode on with `config`: the sequence restarts from its seed, the counts from 0.
/// Throws std::invalid_argument for rates outside their ranges.
void enable_faults(const fault_config& config);
void disable_faults() noexcept;
/// The configuration in force, or nullopt when the mode is off.
[[nodiscard]] std::optional<fault_config> current_faults();
[[nodiscard]] fault_counts fault_stats();

namespace detail {
extern std::atomic<bool> faults_on;
extern std::atomic<bool> faults_used;
}  // namespace detail

/// Is the mode on? One relaxed load: the branch the calls above pay when it is off.
[[nodiscard]] inline bool faults_enabled() noexcept { return detail::faults_on.load(std::memory_order_relaxed); }
/// Was it ever on in this process? Readiness hidden while it was on must still be reported
/// after it is switched off, or a socket that was lied to could park forever.
[[nodiscard]] inline bool faults_ever_enabled() noexcept { return detail::faults_used.load(std::memory_order_relaxed); }

/// For socket_handle::ready (io/socket.cpp), just before a task parks on side `write` of `fd`:
/// 0, or in how many loop turns that side must be reported ready because a fault hid its
/// readiness (see the top). Forgets what it returns. Only worth asking if faults_ever_enabled().
[[nodiscard]] unsigned take_hidden_readiness(int fd, bool write) noexcept;
/// Throws std::invalid_argument if CORIO_FAULTS was malformed (see the top); every new socket
/// calls it.
void check_fault_environment();

}  // namespace corio::net::sys
