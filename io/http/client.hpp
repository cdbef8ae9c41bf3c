// io/http/client.hpp — http::client_session: an HTTP/1.1 client with a keep-alive connection
// pool (aiohttp's ClientSession + TCPConnector), and http::client_response.
//
//   http::client_session session;                       // options: pool limits, timeouts...
//   http::client_response r = co_await session.get("http://127.0.0.1:8080/hello");
//   r.status();                                         // 200
//   r.headers().get("content-type");                    // names compare case-insensitively
//   std::string page = co_await r.text();               // the whole body (up to max_body_size)
//   while (auto piece = co_await r.read_chunk()) ...    // or stream it, piece by piece
//
// get/post/request send the request and return once the response's HEAD has arrived; the body
// is read by text()/body() or read_chunk(). The response holds its connection until the body
// was read to the end (the connection then goes back to the pool at once) or the response is
// released or destroyed (a connection whose response was not read to the end is closed: the
// unread rest would otherwise be taken for the next response).
//
// The pool (aiohttp's TCPConnector):
//   * Connections are kept per (host, port) after a response was read to the end, unless the
//     server said "Connection: close" or spoke HTTP/1.0 without keep-alive (or the request
//     itself carried "Connection: close"), or sent bytes after the response; the next request
//     to that host reuses the most recently returned one, unless it has been idle for longer
//     than options.idle_timeout (then it is closed and another one is used or opened).
//   * options.limit bounds the connections open at once (in use, being opened, or idle; 0:
//     no bound), options.limit_per_host those to one (host, port). A request beyond a limit
//     waits (FIFO per host; a request held back by its host's limit does not hold back other
//     hosts) until a connection is returned or closed. When only idle connections to OTHER
//     hosts fill the total limit, the oldest of them is closed to make room.
//   * Dead pooled connections: before an idle connection is reused, a non-blocking read checks
//     that the server has not closed it meanwhile (if it has, it is dropped and another one
//     used). A server may still close it while the request is on its way: the request then
//     gets no response byte (end of stream, a reset, or a failed write), and is sent again,
//     once, on a fresh connection if its method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT,
//     DELETE: RFC 9110 §9.2.2); otherwise server_disconnected is thrown, since the server may
//     have acted on it.
//
// Redirects: 301, 302, 303, 307 and 308 with a Location are followed up to
// options.max_redirects times (then too_many_redirects). 303 turns any method but HEAD into
// GET without a body, and 301/302 turn POST into GET (what browsers and aiohttp do); 307 and 308
// keep method and body. A redirect to another host drops the Authorization header.
// The final response's url() is where it came from.
//
// Timeouts (aiohttp's ClientTimeout; the defaults are aiohttp's DEFAULT_TIMEOUT, total 300 s
// and sock_connect 30 s, with no read limit; nullopt switches one off):
//   * connect: resolving the host and the TCP connect of one new connection (sock_connect);
//   * read: each wait for bytes from the server, restarted whenever bytes arrive (sock_read);
//   * total: the whole request from the call to the end of the body, redirects included, and
//     waiting for a pool slot. It keeps running while you read the body.
// An expired limit throws http::timeout_error, a corio::timeout_error whose which() says which
// limit it was; its connection is closed.
//
// Errors (http::client_error and its subclasses, each naming the method and URL):
//   connection_error      connecting failed: code() is the errno (ECONNREFUSED, ENETUNREACH...)
//     dns_error           the host name did not resolve (wraps net::resolve_error: code() is
//                         the EAI_* value)
//   server_disconnected   the server closed or reset the connection before the response was
//                         whole (including a body shorter than its Content-Length)
//   protocol_error        the response is not valid HTTP/1.x (kind() says how)
//     headers_too_large   its status line or header block exceeds options.limits
//   body_too_large        text()/body() found a body over options.max_body_size
//   too_many_redirects    more than options.max_redirects redirects
// Bad input fails before anything is sent: http::url_error for a bad, relative or https URL
// (url.hpp), std::invalid_argument for a bad method or a header name/value that could inject
// (CR, LF, NUL) or that the client sets itself (Content-Length, Transfer-Encoding).
//
// Cancellation: cancelling a request or a body read closes the connection it was using (its
// state is unknown) and releases its pool slot, so the next waiter proceeds; nothing is left
// registered. A response destroyed with its body unread closes its connection.
//
// Threads and lifetimes: one session per loop, used from that loop's tasks; every co_await on
// a request or a response resumes on that loop's thread. request() returns a lazy task that
// holds copies of its arguments (the URL included), so it may be awaited later. The pool lives as
// long as the session or any response from it; a response outliving its session closes its
// connection when released. close() closes idle connections, makes waiting and later requests
// fail with client_error("session closed"); responses in flight may still be read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "../../runtime/task.hpp"
#include "../../runtime/timeout.hpp"
#include "../../timers/clock.hpp"
#include "message.hpp"
#include "parser.hpp"
#include "url.hpp"

namespace corio::http {

/// aiohttp's ClientTimeout (see the top). nullopt: no limit of that kind.
struct client_timeouts {
  std::optional<duration> connect = std::chrono::seconds(30);
  std::optional<duration> read = std::nullopt;
  std::optional<duration> total = std::chrono::seconds(300);
};

struct client_options {
  std::size_t limit = 100;            ///< connections open at once; 0: unlimited (aiohttp: 100)
  std::size_t limit_per_host = 0;     ///< per (host, port); 0: unlimited (aiohttp: 0)
  duration idle_timeout = std::chrono::seconds(15);  ///< an idle connection older is not reused (aiohttp's keepalive_timeout)
  client_timeouts timeouts;
  int max_redirects = 10;             ///< aiohttp: 10
  std::size_t max_body_size = 64 * 1024 * 1024;  ///< what text()/body() will buffer
  detail::parse_limits limits;        ///< status line and header block limits
  http::headers default_headers;      ///< sent with every request (a request's own win)
  std::string user_agent = "corio/0.1";  ///< empty: no User-Agent header
};

/// The base of every error the client throws for a request (timeouts excepted: see the top).
class client_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Connecting failed. code(): the errno (ECONNREFUSED, ENETUNREACH, ...).
class connection_error : public client_error {
 public:
  connection_error(const std::string& what, int code) : client_error(what), code_(code) {}
  [[nodiscard]] int code() const noexcept { return code_; }

 private:
  int code_;
};

/// The host did not resolve. code(): getaddrinfo's EAI_* value (net::resolve_error's).
class dns_error : public connection_error {
 public:
  using connection_error::connection_error;
};

/// The server closed or reset the connection before the response was whole.
class server_disconnected : public client_error {
 public:
  using client_error::client_error;
};

/// The response is not HTTP/1.x as the parser knows it.
class protocol_error : public client_error {
 public:
  protocol_error(const std::string& what, detail::parse_error kind) : client_error(what), kind_(kind) {}
  [[nodiscard]] detail::parse_error kind() const noexcept { return kind_; }

 private:
  detail::parse_error kind_;
};

/// The status line or the header block is over the limits in client_options::limits.
class headers_too_large : public protocol_error {
 public:
  using protocol_error::protocol_error;
};

/// text()/body() met a body longer than client_options::max_body_size.
class body_too_large : public client_error {
 public:
  using client_error::client_error;
};

class too_many_redirects : public client_error {
 public:
  using client_error::client_error;
};

/// One of client_timeouts' limits expired.
class timeout_error : public corio::timeout_error {
 public:
  enum class kind : unsigned char { connect, read, total };
  timeout_error(kind which, duration limit, duration elapsed, const std::string& request);
  [[nodiscard]] kind which() const noexcept { return which_; }
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  kind which_;
  std::string message_;
};

namespace detail {
class pool;
struct response_state;
}  // namespace detail

/// A response whose head has arrived; the body is read from it (see the top). Move-only.
class client_response {
 public:
  client_response() noexcept;
  client_response(client_response&&) noexcept;
  client_response& operator=(client_response&&) noexcept;
  ~client_response();

  [[nodiscard]] int status() const noexcept;
  [[nodiscard]] const std::string& reason() const noexcept;
  [[nodiscard]] const http::headers& headers() const noexcept;
  /// Where the response came from, after redirects.
  [[nodiscard]] const http::url& url() const noexcept;
  /// The request's method (after redirects: GET for a 303's target).
  [[nodiscard]] const std::string& method() const noexcept;
  /// Content-Length, if the server sent one.
  [[nodiscard]] std::optional<std::uint64_t> content_length() const noexcept;

  /// The rest of the body, whole. body_too_large when over max_body_size (the connection is
  /// then closed). Cancel: the connection is closed; the response is then finished.
  [[nodiscard]] task<std::string> body();
  /// body(): the bytes as they came (no charset conversion: a std::string holds bytes).
  [[nodiscard]] task<std::string> text() { return body(); }
  /// The next piece of the body as it arrives (at most one socket read's worth, decoded from
  /// chunked), or nullopt once it ended. Not bounded by max_body_size: memory stays bounded
  /// by one piece. Cancel: as body().
  [[nodiscard]] task<std::optional<std::string>> read_chunk();
  /// True once the body was read to the end.
  [[nodiscard]] bool finished() const noexcept;
  /// Gives the connection back now: to the pool if the body was read to the end and the
  /// connection may be kept, otherwise closed. Idempotent; the destructor calls it.
  void release() noexcept;

  /// For the session: a response around its state.
  explicit client_response(std::unique_ptr<detail::response_state> state) noexcept;

 private:
  std::unique_ptr<detail::response_state> state_;
};

class client_session {
 public:
  explicit client_session(client_options options = {});
  client_session(const client_session&) = delete;
  client_session& operator=(const client_session&) = delete;
  ~client_session();

  /// Sends `method` to `url` with `headers` and `body` (see the top); returns once the
  /// response's head arrived, after following redirects.
  [[nodiscard]] task<client_response> request(std::string method, std::string_view url, http::headers headers = {},
                                              std::string body = {});
  [[nodiscard]] task<client_response> get(std::string_view url, http::headers headers = {});
  [[nodiscard]] task<client_response> head(std::string_view url, http::headers headers = {});
  [[nodiscard]] task<client_response> post(std::string_view url, std::string body, http::headers headers = {});
  [[nodiscard]] task<client_response> put(std::string_view url, std::string body, http::headers headers = {});

  /// Closes idle connections; waiting and later requests fail (see the top). Idempotent.
  void close() noexcept;
  [[nodiscard]] bool closed() const noexcept;

  [[nodiscard]] const client_options& options() const noexcept { return *options_; }
  /// Pool statistics, for tests and monitoring: connections open now (in use, opening, idle),
  /// idle ones, requests waiting for a slot, and connections opened since the start.
  [[nodiscard]] std::size_t open_connections() const noexcept;
  [[nodiscard]] std::size_t idle_connections() const noexcept;
  [[nodiscard]] std::size_t waiting_requests() const noexcept;
  [[nodiscard]] std::size_t connections_made() const noexcept;

 private:
  std::shared_ptr<const client_options> options_;
  std::shared_ptr<detail::pool> pool_;
};

}  // namespace corio::http
