// io/resolve.hpp — from a host name to addresses and connections, without blocking the loop:
// net::resolve (asyncio's loop.getaddrinfo), net::connect (a connected socket) and
// net::open_connection (asyncio.open_connection: the same, with buffered streams).
//
//   std::vector<net::address> all = co_await net::resolve("example.org", 443);
//   net::stream_socket s = co_await net::connect("localhost", 8080, 2s);
//   net::connection c = co_await net::open_connection("localhost", 8080);   // streams.hpp
//
// Why a thread: getaddrinfo(3) is the only resolver that honours everything the system is
// configured with (/etc/hosts, nsswitch.conf, search domains, mDNS...), and it blocks — for the
// resolver's whole timeout (5 s per attempt by default, resolv.conf(5)) when a DNS server does
// not answer. So it runs on the loop's thread pool (corio::to_thread), as asyncio does.
// glibc's getaddrinfo_a would avoid the thread but exists only on glibc and reports completion
// through a signal or a thread of its own anyway.
//
// Contract of resolve(host, port):
//   * Numeric hosts ("127.0.0.1", "::1", "[::1]", "fe80::1%eth0") are converted at once, on
//     the loop's thread, without suspending and without touching the pool (getaddrinfo with
//     AI_NUMERICHOST, which never looks anything up).
//   * Names go to the pool; the task resumes on the loop's thread in a later turn, with the
//     addresses in the order getaddrinfo ranks them (RFC 6724 on glibc), one per address,
//     never empty.
//   * Errors: net::resolve_error — the host, the EAI_* code and gai_strerror's text (plus the
//     errno text for EAI_SYSTEM). An unknown name gives EAI_NONAME; a resolver that cannot be
//     reached gives EAI_AGAIN (or EAI_NONAME, depending on the configuration): both are
//     resolve_error. std::system_error when the pool's threads cannot be started.
//   * Cancellation: throws corio::cancelled at once. A lookup already running on a pool thread
//     cannot be stopped: it finishes in the background and its result is freed unseen; one
//     still queued never runs. Nothing leaks, but destroying the loop waits for a running
//     lookup (thread_pool.hpp), i.e. at worst for the resolver's timeout.
//
// Contract of connect(host, port, timeout):
//   * Resolves `host`, then tries each address in order, one at a time, until one connects.
//     This is "Happy Eyeballs lite": sequential, with no 250 ms head start for the next family
//     (RFC 8305), so a host whose first address black-holes costs that address's whole connect
//     timeout before the next is tried — the kernel's SYN retries unless `timeout` says less.
//   * Returns the connected socket (TCP_NODELAY set, as stream_socket::connect does).
//   * Errors: resolve_error; or, when every address failed, the std::system_error of the LAST
//     attempt (ECONNREFUSED, ENETUNREACH...), its message naming that address; with a
//     timeout, corio::timeout_error once `timeout` has passed — it bounds the whole call,
//     resolution included.
//   * Cancellation or timeout: the attempt in progress is abandoned and its socket closed;
//     nothing stays registered (stream_socket::connect's contract), and a lookup in progress is
//     left behind as above.
//
// open_connection(host, port, timeout, options) is connect() wrapped in a net::connection
// (streams.hpp) made with `options`; same errors, same cancellation.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../runtime/task.hpp"
#include "../timers/clock.hpp"
#include "address.hpp"
#include "socket.hpp"
#include "streams.hpp"

namespace corio::net {

/// A host name could not be resolved (getaddrinfo failed).
class resolve_error : public std::runtime_error {
 public:
  /// `code` is getaddrinfo's EAI_* result; `system_error` the errno when code is EAI_SYSTEM.
  resolve_error(std::string host, int code, int system_error = 0);

  /// The host as given to resolve().
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  /// getaddrinfo's EAI_* code (EAI_NONAME, EAI_AGAIN, ...).
  [[nodiscard]] int code() const noexcept { return code_; }

 private:
  std::string host_;
  int code_;
};

/// The addresses of `host` for a stream (TCP) socket at `port`, best first (see the contract).
[[nodiscard]] task<std::vector<address>> resolve(std::string host, std::uint16_t port);

/// Resolves `host` and connects to the first of its addresses that accepts (see the contract).
[[nodiscard]] task<stream_socket> connect(std::string host, std::uint16_t port,
                                          std::optional<duration> timeout = std::nullopt);

/// connect(), then the socket wrapped in a buffered net::connection (asyncio.open_connection).
[[nodiscard]] task<connection> open_connection(std::string host, std::uint16_t port,
                                               std::optional<duration> timeout = std::nullopt,
                                               stream_options options = {});

}  // namespace corio::net
