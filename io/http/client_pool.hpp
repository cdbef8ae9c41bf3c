// io/http/client_pool.hpp — the client's keep-alive connection pool (aiohttp's TCPConnector
// bookkeeping), internal to client.cpp. No I/O happens here: the pool only counts, parks and
// hands over; client.cpp opens, reads and writes the connections.
//
//   open_ (every connection counted: in use, being opened, idle)  <= limit       (0: no limit)
//   per_host_[key] (the same, for one "host:port")                <= limit_per_host
//
//   waiters_:  W1(a) -> W2(b) -> W3(a) -> ...     FIFO of requests that found no room
//   idle_[key]: [c1, c2]                          returned connections; the newest is reused
//
// An idle connection is checked before it is reused: one older than the idle timeout (servers
// close theirs too: nginx after 75 s, Apache after 5 s), or one the server has closed (a
// non-blocking recv sees end of stream), is closed instead, and the next one tried.
//
// acquire(key) queues a waiter, runs dispatch(), and parks only if that did not serve it.
// dispatch() walks the waiters in order and serves each one it can: with an idle connection of
// its key, or else with a slot to open a new one (counted at once), closing the oldest idle
// connection of another key when only idle connections fill the total limit. A waiter held
// back by its key's limit does not hold back waiters of other keys. release() returns a
// connection (idle) or closes it (its slot is freed), then dispatches.
//
// Cancellation: a waiter removed before it was served takes nothing; one cancelled after it
// was served (before it resumed) gives its grant back, which dispatches again. The waiter's
// destructor does both, so a destroyed frame leaks nothing either.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../../runtime/event.hpp"
#include "../../runtime/task.hpp"
#include "../socket.hpp"
#include "parser.hpp"

namespace corio::http::detail {

/// One kept-alive connection and the bytes read from it but not yet parsed.
struct client_connection {
  client_connection(net::stream_socket s, std::string pool_key, const parse_limits& limits);

  [[nodiscard]] std::string_view unread() const noexcept { return {buffer.get() + begin, end - begin}; }

  net::stream_socket socket;
  parser response_parser;
  std::string key;  // "host:port"
  static constexpr std::size_t buffer_size = 16 * 1024;
  std::unique_ptr<char[]> buffer;
  std::size_t begin = 0;  // unread bytes: [begin, end)
  std::size_t end = 0;
  int responses = 0;      // responses read whole on this connection (> 0: it is a reused one)
  time_point idle_since{};
};

/// What acquire() gives: an idle connection, or (connection == nullptr) a counted slot for the
/// caller to open one in.
struct pool_grant {
  std::unique_ptr<client_connection> connection;
};

class pool : public std::enable_shared_from_this<pool> {
 public:
  pool(std::size_t limit, std::size_t limit_per_host, duration idle_timeout) noexcept
      : limit_(limit), limit_per_host_(limit_per_host), idle_timeout_(idle_timeout) {}
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;
  ~pool();

  /// An idle connection to `key` or a slot for a new one; parks while neither is available.
  /// Throws client_error once the pool is closed; cancel-safe (see the top).
  [[nodiscard]] task<pool_grant> acquire(std::string key);
  /// Returns a connection (kept idle if `reusable` and the pool is open, else closed), or, for
  /// a null `connection`, the slot it was to be opened in.
  void release(const std::string& key, std::unique_ptr<client_connection> connection, bool reusable) noexcept;
  /// Closes idle connections and fails every waiter; later acquires throw. Idempotent.
  void close() noexcept;

  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] std::size_t open() const noexcept { return open_; }
  [[nodiscard]] std::size_t idle() const noexcept { return idle_count_; }
  [[nodiscard]] std::size_t waiting() const noexcept { return waiters_.size(); }
  [[nodiscard]] std::size_t made() const noexcept { return made_; }
  /// Counts a connection that was opened (statistics only).
  void count_made() noexcept { ++made_; }

 private:
  struct waiter;
  void dispatch() noexcept;
  [[nodiscard]] bool try_grant(const std::string& key, pool_grant& grant) noexcept;
  [[nodiscard]] bool close_oldest_idle() noexcept;
  void forget(const std::string& key) noexcept;

  std::size_t limit_;
  std::size_t limit_per_host_;
  duration idle_timeout_;
  std::size_t open_ = 0;
  std::size_t idle_count_ = 0;
  std::size_t made_ = 0;
  bool closed_ = false;
  std::map<std::string, std::size_t, std::less<>> per_host_;
  std::map<std::string, std::vector<std::unique_ptr<client_connection>>, std::less<>> idle_;
  std::list<waiter*> waiters_;
};

}  // namespace corio::http::detail
