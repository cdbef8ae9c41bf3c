// io/http/server.hpp — corio::http::server: an HTTP/1.1 server that runs a handler task per
// request, on top of net::server (io/server.hpp) and the llhttp-based parser (parser.hpp).
//
//   http::server srv(net::address::loopback(8080), [](http::request req) -> corio::task<http::response> {
//     http::response res;
//     res.headers.add("Content-Type", "text/plain");
//     res.body = "you asked for " + req.target + "\n";
//     co_return res;
//   });
//   co_await srv.serve_forever();              // until srv.close() / srv.abort(), or cancelled
//
// What it does for every connection:
//   * Keep-alive: HTTP/1.1 connections stay open unless a side says "Connection: close";
//     HTTP/1.0 ones only when the client sent "Connection: keep-alive".
//   * Pipelining: requests that arrive back to back are answered in order, the responses to one
//     read's requests in one write. Up to max_pipeline_depth pipelined requests with safe
//     methods (GET, HEAD, OPTIONS, TRACE) run their handlers concurrently (RFC 9112 9.3.2);
//     any other method is handled alone, after the ones before it.
//   * The response gets Content-Length (from the body; a HEAD or 304 response keeps the one the
//     handler set), Date (cached, refreshed at most once a second), Server (options.server_name)
//     and "Connection: close" when the connection is about to close; the handler's own
//     Content-Length and Connection fields are replaced. A handler may ask to close with
//     "Connection: close". HEAD, 204 and 304 responses are sent without a body.
//   * Expect: 100-continue is answered with "100 Continue" before the body is read (or with 413
//     when the announced body is over max_body_size).
//   * A handler that throws gets a 500 response, and its exception is logged once (spdlog,
//     error level); so does a response that cannot be sent as it is (a status outside
//     200..999, CR, LF or NUL in a field). The connection stays open: the request was sound.
//
// Limits and abuse (reliability.md section F). Each error response closes the connection:
//   * request line over limits.max_start_line -> 414; header block over limits.max_header_bytes
//     or more than limits.max_header_fields fields -> 431; body over max_body_size -> 413,
//     decided from Content-Length before any body byte is read, for a chunked body as it grows;
//   * malformed requests and smuggling shapes (Content-Length with Transfer-Encoding, two
//     Content-Lengths, an invalid one, bad chunk sizes, obs-fold, a bad header name, no Host or
//     two Hosts in HTTP/1.1...) -> 400; a version other than HTTP/1.0 and 1.1 -> 505;
//   * slow clients: a connection's first request head must arrive within header_timeout of the
//     accept, and every later one within header_timeout of its first byte (slowloris); an idle
//     keep-alive connection is closed after keep_alive_timeout; so is one whose body bytes, or
//     whose reading of our response, stall for keep_alive_timeout. Such a connection is just
//     closed (no 408), and counted in stats().timed_out;
//   * more than max_connections connections at once: each extra one is accepted, answered
//     "503 Service Unavailable" with "Connection: close", and closed at once. Refusing at once
//     (rather than leaving it in the kernel's backlog) tells the client now, and a flood of idle
//     connections cannot stall the ones queued behind it;
//   * a client that disconnects, or resets, mid-response ends its connection quietly: no
//     SIGPIPE (the sockets send with MSG_NOSIGNAL), no log line, counted in stats().
//   * Closing after an error, the server shuts down its sending side and reads (and drops) what
//     the client still sends, for at most 2 s or 1 MiB, so that the client's unread request bytes
//     do not make the kernel reset the connection before the client has read the error.
//
// Lifecycle and contract:
//   * The constructor binds and listens (port 0: any free port; see local_address()). Throws
//     std::system_error (EADDRINUSE...), or std::invalid_argument for an empty handler or a
//     server_name with CR or LF. The server is pinned (neither copied nor moved): connections
//     refer to it.
//   * Handlers run on the loop's thread, in their connection's task (a lone request's handler
//     is awaited inline; pipelined safe ones are spawned and gathered). A HEAD request reaches
//     the handler as HEAD; the body it returns is dropped.
//   * serve_forever() accepts and serves until close(), abort() or cancellation, then returns
//     once every connection has ended. Called twice at once, it throws std::logic_error.
//   * close(grace): stops accepting at once, closes idle keep-alive connections, and lets the
//     requests in flight finish; their responses carry "Connection: close". Connections still
//     busy `grace` later are aborted. Idempotent (a second call does not move the deadline).
//   * abort(): stops accepting and cancels every connection now (their handlers see
//     corio::cancelled at their next suspension). Idempotent.
//   * Cancelling the task in serve_forever() is abort() plus a wait: nothing is left behind (no
//     task, descriptor or timer), then corio::cancelled is rethrown.
//   * wait_closed() returns once the server is closed and serve_forever(), if it ran, returned.
//   * Everything resumes on the loop's thread; one server belongs to one loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "../../runtime/event_loop.hpp"
#include "../../runtime/task.hpp"
#include "../address.hpp"
#include "../server.hpp"
#include "../socket.hpp"
#include "message.hpp"
#include "parser.hpp"

namespace corio::http {

/// What the server runs for each request. It may suspend (on I/O, timers...) as long as it likes.
/// The server hands the request over as an rvalue and keeps the object alive until the handler's
/// task completes, so a handler may take it
///   * by value: the request then lives in the handler's frame, one move away from the server's;
///   * by `const request&` or `request&&`: nothing moves, and the connection reuses the
///     storage of the request's head (method, target, the field vector) for its next request,
///     which saves an allocation per request on a keep-alive connection. The reference is
///     valid until the handler's task completes, not after: a task the handler spawns must
///     copy what it needs.
/// (A by-value `std::function` parameter would add a second move per request.)
using request_handler = std::function<task<response>(request&&)>;

struct server_options {
  detail::parse_limits limits{};  ///< 8 KiB request line -> 414; 16 KiB / 100 fields -> 431
  std::size_t max_body_size = 1 << 20;                         ///< -> 413
  duration header_timeout = std::chrono::seconds(10);         ///< slowloris: the whole head within this
  duration keep_alive_timeout = std::chrono::seconds(60);     ///< idle between requests; stalled body or send
  std::size_t max_connections = 10'000;                        ///< more are answered 503 and closed
  std::size_t max_pipeline_depth = 16;   ///< pipelined requests answered from one batch, at most
  std::size_t max_requests_per_connection = 0;  ///< then "Connection: close"; 0: no limit
  std::string server_name = "corio";      ///< the Server field; empty: none
  net::listen_options listen{};           ///< backlog, SO_REUSEADDR, SO_REUSEPORT
};

/// Counters since the server was made (for tests and metrics).
struct server_stats {
  std::uint64_t connections = 0;         ///< accepted and served
  std::uint64_t refused = 0;             ///< over max_connections: answered 503
  std::uint64_t requests = 0;            ///< handed to the handler
  std::uint64_t error_responses = 0;     ///< 400 / 413 / 414 / 431 / 505 sent for bad requests
  std::uint64_t handler_failures = 0;    ///< handlers that threw (or returned an unsendable response): 500
  std::uint64_t timed_out = 0;           ///< connections closed by header_timeout / keep_alive_timeout
  std::uint64_t aborted_responses = 0;   ///< responses cut short by the client going away
};

class server {
 public:
  /// Binds and listens on `at` (see the contract).
  server(net::address at, request_handler handler, server_options options = {});
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  [[nodiscard]] net::address local_address() const;
  /// Accepts and serves until close()/abort()/cancellation; returns when every connection ended.
  [[nodiscard]] task<> serve_forever();
  /// Graceful: stop accepting; in-flight requests finish within `grace`, then are cancelled;
  /// idle keep-alive connections are closed.
  void close(duration grace = std::chrono::seconds(10));
  /// Stop accepting and cancel every connection now.
  void abort();
  /// Waits until closed and serve_forever() (if it ran) returned. Cancel-safe.
  [[nodiscard]] task<> wait_closed();

  /// Connections being served now.
  [[nodiscard]] std::size_t connections() const noexcept { return net_.connections(); }
  [[nodiscard]] const server_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const server_options& options() const noexcept { return options_; }

 private:
  class connection;  // server_detail.hpp, server_connection.cpp: one per accepted socket

  // Fires `grace` after close(): aborts what is still running.
  class grace_timer final : public corio::detail::timer_entry {
   public:
    explicit grace_timer(server& s) noexcept : server_(s) {}
    void on_fire() noexcept override { server_.abort(); }

   private:
    server& server_;
  };

  task<> serve_connection(net::stream_socket socket);
  task<> refuse(net::stream_socket socket);
  /// "Date: <IMF-fixdate>\r\n", recomputed at most once a second of the loop's clock.
  std::string_view date_field();
  void disarm_grace() noexcept;

  request_handler handler_;
  server_options options_;
  server_stats stats_;
  connection* connections_ = nullptr;  // intrusive list of the live connections
  bool closing_ = false;
  std::string server_field_;  // "Server: <options.server_name>\r\n", or empty
  std::string date_field_;
  time_point date_computed_at_{};
  bool date_valid_ = false;
  event_loop* grace_loop_ = nullptr;  // the loop grace_ is armed on, while it is
  grace_timer grace_{*this};
  net::server net_;  // last: its handler refers to the members above
};

}  // namespace corio::http
