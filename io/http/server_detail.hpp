// io/http/server_detail.hpp — the inside of corio::http::server (server.hpp), shared by its three
// files: server.cpp (the server), server_connection.cpp (one connection's loop) and
// response_writer.cpp (responses as bytes). Not part of the public API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../../runtime/event_loop.hpp"
#include "../../runtime/task.hpp"
#include "../socket.hpp"
#include "message.hpp"
#include "parser.hpp"
#include "server.hpp"

namespace corio::http::detail {

/// What a response's bytes depend on besides the response itself.
struct response_context {
  bool head_method = false;      ///< it answers HEAD: fields only
  int version_minor = 1;         ///< HTTP/1.0 keep-alive must be said ("Connection: keep-alive")
  bool closing = false;          ///< the connection closes after it: "Connection: close"
  std::string_view date_field;   ///< "Date: ...\r\n", unless the handler set Date
  std::string_view server_field;  ///< "Server: name\r\n" (or empty), unless the handler set Server
};

/// Appends `res` to `out` with the fields server.hpp promises (Content-Length, Date, Server,
/// Connection). Returns why the response cannot be sent (a status outside 200..999, CR/LF/NUL
/// in a field, a bad field name), having appended nothing; or an empty view. Sets `closes`
/// when the response says "Connection: close" (the context's or the handler's own).
[[nodiscard]] std::string_view append_response(std::string& out, const response& res, const response_context& context,
                                               bool& closes);

/// A response the server makes itself (400, 413, 503...): a short text/plain body naming the
/// status and `detail`, and "Connection: close".
void append_error_response(std::string& out, int status, std::string_view detail, std::string_view date_field);

/// "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" (RFC 9110 5.6.7's IMF-fixdate) for `t`.
[[nodiscard]] std::string date_field_for(std::chrono::system_clock::time_point t);

/// Does the comma-separated `list` ("keep-alive, Upgrade") hold `token` (any case)?
[[nodiscard]] bool has_token(std::string_view list, std::string_view token) noexcept;

}  // namespace corio::http::detail

namespace corio::http {

/// One accepted connection, living in its task's frame (server_connection.cpp explains the loop).
class server::connection final : public corio::detail::timer_entry {
 public:
  connection(server& owner, net::stream_socket socket);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Serves requests until the connection ends. Throws only corio::cancelled.
  task<> run();
  /// server::close(): closes the connection now if it waits between requests.
  void on_server_close() noexcept;

  connection* next = nullptr;  // server::connections_'s list
  connection* prev = nullptr;

 private:
  // What the connection waits for; it decides the deadline.
  enum class phase : unsigned char { head, body, handling, sending, lingering };

  struct pending_request {
    http::request req;
    std::string request_line;  // "GET /path", kept for a log line after req moved to the handler
    // What the client asked for, which decides the response's framing: kept apart from req,
    // which the handler may move from, or change.
    bool keep_alive = true;
    bool head_method = false;
    int version_minor = 1;
  };

  task<> serve();
  void queue_interim_output();
  void parse_buffered();
  bool accept_head();
  void take_request();
  void fail(int status, std::string_view detail);
  [[nodiscard]] bool answers_concurrently() const noexcept;
  task<> answer_concurrently();
  void append_response(const pending_request& p, const response& res);
  void append_failure(const pending_request& p, std::string_view what, const std::exception_ptr& error);
  void enter_read_phase() noexcept;
  task<> linger();

  void enter(phase p, time_point deadline) noexcept;
  void on_fire() noexcept override;

  server& server_;
  event_loop& loop_;
  net::stream_socket socket_;
  detail::parser parser_;
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0;  // unparsed bytes: buffer_[begin_, end_)
  std::size_t end_ = 0;
  std::string out_;
  std::vector<pending_request> batch_;  // keeps its elements (and their capacity) between batches
  std::size_t batch_used_ = 0;
  std::uint64_t requests_ = 0;
  time_point accepted_at_;

  bool in_head_ = true;          // the parser is inside a head (or between messages)
  bool head_started_ = false;    // ... and has seen bytes of it, since head_started_at_
  time_point head_started_at_{};  // set once the head waits for more bytes (parse_buffered)
  bool expect_continue_ = false; // a "100 Continue" is due once the batch is answered
  int error_status_ = 0;         // an error response is due once the batch is answered
  std::string error_detail_;
  bool close_after_ = false;     // nothing more will be read: the connection closes after sending
  bool closing_response_ = false;  // a response with "Connection: close" is in out_: append no more

  phase phase_ = phase::head;
  time_point deadline_ = time_point::max();
  bool timed_out_ = false;
};

}  // namespace corio::http
