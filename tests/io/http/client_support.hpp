// tests/io/http/client_support.hpp — a scripted raw HTTP server for the client's tests: each
// connection runs a script that reads requests and writes exact bytes, so a test controls
// chunking, close-delimited bodies, malformed and dying responses byte by byte. It counts
// connections (accepted, open now, most open at once) and keeps every request it read.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <corio.hpp>

#include "io/http/client.hpp"
#include "io/server.hpp"
#include "io/socket.hpp"

namespace client_support {

/// One request as the server read it.
struct raw_request {
  std::string head;  // request line and fields, with the final CRLF CRLF
  std::string body;

  [[nodiscard]] std::string request_line() const { return head.substr(0, head.find("\r\n")); }
  /// The value of the first field named `name` (case-insensitive), or nullopt.
  [[nodiscard]] std::optional<std::string> field(std::string_view name) const {
    std::size_t line = head.find("\r\n") + 2;
    while (line < head.size()) {
      const std::size_t end = head.find("\r\n", line);
      const std::string_view text(head.data() + line, end - line);
      const std::size_t colon = text.find(':');
      if (colon != std::string_view::npos && corio::http::iequals(text.substr(0, colon), name)) {
        std::string_view value = text.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return std::string(value);
      }
      line = end + 2;
    }
    return std::nullopt;
  }
};

class scripted_server;

/// The server's side of one connection, handed to the script.
class raw_connection {
 public:
  raw_connection(corio::net::stream_socket s, scripted_server& server) : socket(std::move(s)), server_(server) {}

  /// The next request (head, and a Content-Length body), or nullopt if the client closed.
  corio::task<std::optional<raw_request>> read_request();
  /// Sends `bytes` as they are.
  corio::task<void> send(std::string_view bytes) { co_await socket.write_all(bytes); }

  corio::net::stream_socket socket;

 private:
  corio::task<bool> read_more() {
    std::array<char, 4096> chunk{};
    const std::optional<std::size_t> got = co_await socket.read_some(chunk);
    if (!got) co_return false;
    buffer_.append(chunk.data(), *got);
    co_return true;
  }

  std::string buffer_;
  scripted_server& server_;
};

/// What a connection does: read requests, send bytes, maybe close. Return to close.
using script = std::function<corio::task<void>(raw_connection&)>;

class scripted_server {
 public:
  explicit scripted_server(script s)
      : script_(std::move(s)),
        server_(corio::net::address::loopback(0), [this](corio::net::stream_socket socket) { return run(std::move(socket)); }),
        serving_(corio::spawn(server_.serve_forever(), "scripted_server")) {}

  /// "http://127.0.0.1:PORT" + path.
  [[nodiscard]] std::string url(std::string_view path = "/") const {
    return "http://" + server_.local_address().to_string() + std::string(path);
  }
  [[nodiscard]] std::uint16_t port() const { return server_.local_address().port(); }

  /// Stops: cancels the scripts still running and waits for the server to finish.
  corio::task<void> stop() {
    server_.abort();
    co_await std::move(serving_);
  }

  int accepted = 0;     // connections accepted so far
  int open = 0;         // connections whose script is running
  int most_open = 0;    // the largest `open` seen
  std::vector<raw_request> requests;

 private:
  friend class raw_connection;
  corio::task<void> run(corio::net::stream_socket socket) {
    ++accepted;
    most_open = std::max(most_open, ++open);
    raw_connection connection(std::move(socket), *this);
    try {
      co_await script_(connection);
    } catch (const std::system_error&) {
      // The client reset or closed the connection under the script: that is its right.
    } catch (const corio::cancelled&) {
      --open;
      throw;
    }
    --open;
  }

  script script_;
  corio::net::server server_;
  corio::join_handle<void> serving_;
};

inline corio::task<std::optional<raw_request>> raw_connection::read_request() {
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!co_await read_more()) co_return std::nullopt;
  raw_request r;
  r.head = buffer_.substr(0, end + 4);
  buffer_.erase(0, end + 4);
  const std::size_t length = std::stoul(r.field("content-length").value_or("0"));
  while (buffer_.size() < length)
    if (!co_await read_more()) co_return std::nullopt;
  r.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  server_.requests.push_back(r);
  co_return r;
}

/// A script answering every request on the connection with `response`.
inline script answer_every_request_with(std::string response) {
  return [response = std::move(response)](raw_connection& c) -> corio::task<void> {
    while (co_await c.read_request()) co_await c.send(response);
  };
}

/// "HTTP/1.1 200 OK" with a Content-Length body.
inline std::string ok(std::string_view body, std::string_view extra_fields = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_fields) +
         "\r\n" + std::string(body);
}

/// The test loop's clock.
inline corio::time_point loop_now() { return corio::event_loop::current()->now(); }

/// GETs `url` and returns the whole body.
inline corio::task<std::string> fetch_body(corio::http::client_session& session, std::string url) {
  corio::http::client_response r = co_await session.get(url);
  co_return co_await r.text();
}

/// The exception `work` throws, as type E, or nullopt (with a failure) if it throws nothing.
template <class E, class T>
corio::task<std::optional<E>> error_from(corio::task<T> work) {
  try {
    (void)co_await std::move(work);
  } catch (const E& e) {
    co_return e;
  }
  ADD_FAILURE() << "no exception";
  co_return std::nullopt;
}

}  // namespace client_support
