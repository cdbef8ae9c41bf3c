// io/http/client_detail.hpp — what client.cpp (requests) and client_response.cpp (reading
// responses) share, internal to corio::http: the clock of one request, the helper that puts
// an operation under the connect/read/total limits, and the state behind a client_response.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "../../runtime/event_loop.hpp"
#include "../../runtime/sleep.hpp"
#include "../../runtime/task.hpp"
#include "../../runtime/timeout.hpp"
#include "client.hpp"
#include "client_pool.hpp"

namespace corio::http::detail {

/// The clock of one request (redirects included), shared with its response.
struct request_clock {
  client_timeouts timeouts;
  time_point start{};
  std::optional<time_point> total_deadline;
  std::string description;  // "GET http://host/path", for error messages
};

/// Runs `work` under the earlier of `limit` (of kind `which`, counted from now) and the total
/// deadline, turning an expiry into http::timeout_error that names the limit that fired.
template <class T>
task<T> under_limits(task<T> work, std::optional<duration> limit, timeout_error::kind which,
                     const request_clock& clock) {
  event_loop& loop = *event_loop::current();
  const time_point now = loop.now();
  std::optional<time_point> deadline = clock.total_deadline;
  bool total_fires = deadline.has_value();
  if (limit) {
    const time_point own = corio::detail::saturating_add(now, *limit);
    if (!deadline || own < *deadline) {
      deadline = own;
      total_fires = false;
    }
  }
  if (!deadline) co_return co_await std::move(work);
  try {
    co_return co_await timeout_at(*deadline, std::move(work));
  } catch (const http::timeout_error&) {
    throw;
  } catch (const corio::timeout_error&) {
    if (total_fires)
      throw http::timeout_error(timeout_error::kind::total, *clock.timeouts.total, loop.now() - clock.start,
                                clock.description);
    throw http::timeout_error(which, *limit, loop.now() - now, clock.description);
  }
}

/// Everything a response needs: its head, its connection (until released) and its clock.
struct response_state {
  std::shared_ptr<pool> owner;
  std::unique_ptr<client_connection> connection;
  std::shared_ptr<const client_options> options;
  request_clock clock;
  std::string method;
  http::url where = http::url::parse("http://unset/");
  int status = 0;
  std::string reason;
  http::headers fields;
  std::optional<std::uint64_t> content_length;
  bool keep_alive = false;
  bool finished = false;  // the body was read to the end
  bool failed = false;    // a read failed or was cancelled: the connection was closed

  response_state() = default;
  response_state(const response_state&) = delete;
  response_state& operator=(const response_state&) = delete;
  ~response_state() { release(); }

  void release() noexcept {
    if (connection == nullptr) return;
    const std::string key = connection->key;
    const bool reusable = finished && !failed && keep_alive && connection->unread().empty();
    owner->release(key, std::move(connection), reusable);
  }
  void fail() noexcept {
    failed = true;
    release();
  }
};


/// Reads what the server sends next into the connection's buffer; false at end of stream.
/// A socket error becomes server_disconnected.
[[nodiscard]] task<bool> fill(client_connection& c, const request_clock& clock);
/// Reads until the response head is whole, skipping 1xx interim responses. Sets `answered`
/// once any byte of a response arrived (a reused connection that gets none was dead).
[[nodiscard]] task<void> read_head(client_connection& c, bool head_request, const request_clock& clock, bool& answered);

}  // namespace corio::http::detail
