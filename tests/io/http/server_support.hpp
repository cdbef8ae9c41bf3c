// tests/io/http/server_support.hpp — what the http::server tests share: a raw client that sends
// exact bytes and reads the replies back with the response parser, and two small handlers.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <corio.hpp>

#include "io/http/message.hpp"
#include "io/http/parser.hpp"
#include "io/http/server.hpp"
#include "io/socket.hpp"

namespace http_test {

using corio::task;
namespace http = corio::http;
namespace net = corio::net;

/// One response as the client saw it.
struct reply {
  int status = 0;
  http::headers headers;
  std::string body;

  [[nodiscard]] std::string field(std::string_view name) const {
    const auto v = headers.get(name);
    return v ? std::string(*v) : std::string("<missing>");
  }
};

/// What a raw read to the end gave: the bytes, and whether the server closed (FIN or RST).
struct drained {
  std::string bytes;
  bool closed = false;
};

/// Reads replies until `count` complete ones arrived, the server closed, or a reply was
/// malformed. `no_body[i]`: reply i answers a HEAD request.
inline task<std::vector<reply>> read_replies(net::stream_socket& s, std::size_t count, std::vector<bool> no_body = {}) {
  http::detail::parser p(http::detail::parser::kind::response);
  std::vector<reply> got;
  auto expect_next = [&] {
    if (got.size() < no_body.size() && no_body[got.size()]) p.expect_no_body();
  };
  expect_next();
  std::array<char, 16 * 1024> buf{};
  while (got.size() < count) {
    std::optional<std::size_t> n;
    try {
      n = co_await s.read_some(buf);
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), ECONNRESET) << e.what();
      break;
    }
    if (!n) break;
    std::string_view data(buf.data(), *n);
    bool failed = false;
    while (!failed) {
      const auto [consumed, what] = p.feed(data);
      data.remove_prefix(consumed);
      if (what == http::detail::parser::event::message_complete) {
        got.push_back({p.head().status, p.head().headers, p.body()});
        p.next_message();
        expect_next();
      } else if (what == http::detail::parser::event::error) {
        ADD_FAILURE() << "malformed reply: " << p.error_reason();
        failed = true;
      } else if (what == http::detail::parser::event::need_more) {
        break;
      }
    }
    if (failed) break;
  }
  co_return got;
}

/// Reads until the server closes (EOF, or a reset); at most `limit` bytes.
inline task<drained> read_to_end(net::stream_socket& s, std::size_t limit = 64 << 20) {
  drained out;
  std::array<char, 16 * 1024> buf{};
  while (out.bytes.size() < limit) {
    std::optional<std::size_t> n;
    try {
      n = co_await s.read_some(buf);
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), ECONNRESET) << e.what();
      out.closed = true;
      break;
    }
    if (!n) {
      out.closed = true;
      break;
    }
    out.bytes.append(buf.data(), *n);
  }
  co_return out;
}

/// The first line of a raw response ("HTTP/1.1 400 Bad Request").
inline std::string status_line(std::string_view raw) { return std::string(raw.substr(0, raw.find("\r\n"))); }

/// Sends `request` on a new connection, then reads everything until the server closes it.
inline task<drained> exchange_until_close(net::address at, std::string request) {
  net::stream_socket s = co_await net::stream_socket::connect(at);
  co_await s.write_all(request);
  co_return co_await read_to_end(s);
}

/// A server for one test, owned jointly by the test body and its serve_forever() task (serve_shared):
/// a body that stops early (a failed CORIO_ASSERT, an injected reset) drops the task's join
/// handle, which only asks the task to cancel; the task still runs once more after the body's
/// locals are gone, and the server it runs on must still be there.
inline std::shared_ptr<http::server> shared_server(net::address at, http::request_handler handler,
                                                   http::server_options options = {}) {
  return std::make_shared<http::server>(std::move(at), std::move(handler), std::move(options));
}

/// serve_forever() on a server it keeps alive until it returns (see shared_server).
inline task<> serve_shared(std::shared_ptr<http::server> srv) { co_await srv->serve_forever(); }

/// Answers "<method> <target> <body>" with status 200.
inline task<http::response> echo_handler(http::request req) {
  http::response res;
  res.headers.add("Content-Type", "text/plain");
  res.body = req.method + " " + req.target + " " + req.body;
  co_return res;
}

/// The loop's clock (manual in CORIO_TEST).
inline corio::time_point loop_now() { return corio::event_loop::current()->now(); }

/// Runs the loop for `turns` turns of 1 ms (real I/O needs a few) or until done().
template <class F>
task<void> until(F done, int turns = 2000) {
  for (int i = 0; i < turns && !done(); ++i) co_await corio::sleep(std::chrono::milliseconds(1));
}

}  // namespace http_test
