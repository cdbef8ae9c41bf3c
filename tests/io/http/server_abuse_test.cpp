// tests/io/http/server_abuse_test.cpp — http::server against bad and hostile clients
// (reliability.md section F, T-43..T-47): every limit, malformed requests and smuggling shapes,
// slow clients on the manual clock, the connection cap, and a client that vanishes mid-response.
// Each case sends exact bytes over a raw socket and checks the status line and that the server
// closes the connection afterwards.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include <corio.hpp>

#include "io/http/server.hpp"
#include "runtime/testing.hpp"
#include "server_support.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace corio;
using namespace http_test;

namespace {

/// Sends `request` and expects `status` followed by the server closing the connection.
task<> expect_refused(http::server& srv, std::string request, std::string expected_status_line) {
  const drained d = co_await exchange_until_close(srv.local_address(), std::move(request));
  EXPECT_EQ(status_line(d.bytes), expected_status_line) << d.bytes;
  EXPECT_TRUE(d.closed) << "an error response closes the connection";
  EXPECT_NE(d.bytes.find("\r\nConnection: close\r\n"), std::string::npos) << d.bytes;
}

std::string request_with_target_of(std::size_t length) {
  return "GET /" + std::string(length - 1, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n";
}

std::string request_with_fields(std::size_t count, std::size_t value_length) {
  std::string r = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (std::size_t i = 0; i < count; ++i) r += "X-F" + std::to_string(i) + ": " + std::string(value_length, 'v') + "\r\n";
  return r + "\r\n";
}

}  // namespace

CORIO_TEST(HttpServerAbuse, ARequestLineOver8KiBGets414) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  co_await expect_refused(*srv, request_with_target_of(9000), "HTTP/1.1 414 URI Too Long");
  // Just under the limit is served.
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all(request_with_target_of(8000));
  const auto replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].status, 200);
  srv->close();
  co_await serving;
  EXPECT_EQ(srv->stats().error_responses, 1u);
}

CORIO_TEST(HttpServerAbuse, AHeaderBlockOver16KiBOrOver100FieldsGets431) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  co_await expect_refused(*srv, request_with_fields(20, 1000), "HTTP/1.1 431 Request Header Fields Too Large");
  co_await expect_refused(*srv, request_with_fields(101, 1), "HTTP/1.1 431 Request Header Fields Too Large");
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all(request_with_fields(99, 100));  // 99 + Host = 100 fields, ~11 KiB
  const auto replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].status, 200);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServerAbuse, ABodyOverTheLimitGets413BeforeItIsSent) {
  int calls = 0;
  auto handler = [&calls](http::request req) -> task<http::response> {
    ++calls;
    co_return co_await echo_handler(std::move(req));
  };
  auto srv = shared_server(net::address::loopback(0), handler, {.max_body_size = 1000});
  auto serving = spawn(serve_shared(srv));
  // Only the head: the server decides from Content-Length and does not wait for the body.
  co_await expect_refused(*srv, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n",
                          "HTTP/1.1 413 Content Too Large");
  // Expect: 100-continue with a body too large: 413 instead of 100.
  co_await expect_refused(*srv, "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
                          "HTTP/1.1 413 Content Too Large");
  // Exactly the limit is fine.
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'b'));
  const auto replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].status, 200);
  srv->close();
  co_await serving;
  EXPECT_EQ(calls, 1);
}

CORIO_TEST(HttpServerAbuse, AChunkedBodyGets413AsSoonAsItGrowsOverTheLimit) {
  auto srv = shared_server(net::address::loopback(0), echo_handler, {.max_body_size = 1000});
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 3; ++i) co_await c.write_all("190\r\n" + std::string(400, 'c') + "\r\n");  // 1200 bytes, no end
  const drained d = co_await read_to_end(c);
  EXPECT_EQ(status_line(d.bytes), "HTTP/1.1 413 Content Too Large");
  EXPECT_TRUE(d.closed);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServerAbuse, MalformedRequestsAndSmugglingShapesGet400AndClose) {
  int calls = 0;
  auto handler = [&calls](http::request req) -> task<http::response> {
    ++calls;
    co_return co_await echo_handler(std::move(req));
  };
  auto srv = shared_server(net::address::loopback(0), handler);
  auto serving = spawn(serve_shared(srv));
  const std::vector<std::string> bad = {
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabc",
      "GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n"s,  // a NUL in a value (""s: keeps the NUL)
      "GET / HTTP/1.1\nHost: t\n\n",
      "GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n",
      "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
      "G=T / HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET / HTTP/7.0\r\nHost: t\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",                                   // no Host
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",             // two Hosts
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",            // a TLS client hello
  };
  for (const std::string& request : bad) {
    SCOPED_TRACE(request);
    co_await expect_refused(*srv, request, "HTTP/1.1 400 Bad Request");
  }
  srv->close();
  co_await serving;
  EXPECT_EQ(calls, 0) << "no bad request reaches the handler";
  EXPECT_EQ(srv->stats().error_responses, bad.size());
}

CORIO_TEST(HttpServerAbuse, VersionsOtherThanHttp1GetA505) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  co_await expect_refused(*srv, "GET / HTTP/2.0\r\nHost: t\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported");
  co_await expect_refused(*srv, "GET /\r\n\r\n", "HTTP/1.1 400 Bad Request");  // HTTP/0.9: the parser refuses it
  co_await expect_refused(*srv, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/1.1 400 Bad Request");  // h2 preface
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServerAbuse, RequestsBeforeABadOneAreAnsweredFirst) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  const drained d = co_await exchange_until_close(srv->local_address(),
                                                  "GET /good HTTP/1.1\r\nHost: t\r\n\r\nBROKEN\r\n\r\n");
  EXPECT_EQ(status_line(d.bytes), "HTTP/1.1 200 OK");
  EXPECT_NE(d.bytes.find("HTTP/1.1 400 Bad Request"), std::string::npos) << d.bytes;
  EXPECT_TRUE(d.closed);
  srv->close();
  co_await serving;
}

// ---- slow clients (manual clock) --------------------------------------------------------------

CORIO_TEST(HttpServerAbuse, ASlowlorisHeadIsCutOffAtTheHeaderTimeout) {
  auto srv = shared_server(net::address::loopback(0), echo_handler, {.header_timeout = 10s});
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  // A finished request first: the slow head that follows is timed from its own first byte.
  co_await c.write_all("GET /1 HTTP/1.1\r\nHost: t\r\n\r\n");
  CORIO_ASSERT((co_await read_replies(c, 1)).size() == 1);
  co_await sleep(30s);  // idle, under keep_alive_timeout
  const time_point start = loop_now();
  co_await c.write_all("GET /slow HTTP/1.1\r\n");
  bool closed = false;
  for (int i = 0; i < 30 && !closed; ++i) {
    co_await sleep(1s);  // one byte a second: never a whole head
    try {
      co_await c.write_all("X");
    } catch (const std::system_error&) {
      closed = true;
    }
    if (!closed && srv->stats().timed_out == 1) closed = true;
  }
  const auto took = loop_now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(took, 10s);
  EXPECT_LE(took, 11s);
  EXPECT_TRUE((co_await read_to_end(c)).closed);
  srv->close();
  co_await serving;
  EXPECT_EQ(srv->stats().timed_out, 1u);
}

CORIO_TEST(HttpServerAbuse, AConnectionThatSendsNothingIsClosedAtTheHeaderTimeout) {
  auto srv = shared_server(net::address::loopback(0), echo_handler, {.header_timeout = 5s});
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  const time_point start = loop_now();
  const drained d = co_await read_to_end(c);
  EXPECT_TRUE(d.closed);
  EXPECT_TRUE(d.bytes.empty());
  EXPECT_GE(loop_now() - start, 5s);
  EXPECT_LT(loop_now() - start, 6s);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServerAbuse, AnIdleKeepAliveConnectionIsClosedAfterTheKeepAliveTimeout) {
  auto srv = shared_server(net::address::loopback(0), echo_handler, {.keep_alive_timeout = 60s});
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  CORIO_ASSERT((co_await read_replies(c, 1)).size() == 1);
  const time_point start = loop_now();
  const drained d = co_await read_to_end(c);
  EXPECT_TRUE(d.closed);
  EXPECT_GE(loop_now() - start, 60s);
  EXPECT_LT(loop_now() - start, 61s);
  srv->close();
  co_await serving;
  EXPECT_EQ(srv->stats().timed_out, 1u);
}

// ---- connection cap, vanishing clients --------------------------------------------------------

CORIO_TEST(HttpServerAbuse, ConnectionsOverTheCapAreAnswered503AndClosed) {
  auto srv = shared_server(net::address::loopback(0), echo_handler, {.max_connections = 2});
  auto serving = spawn(serve_shared(srv));
  net::stream_socket a = co_await net::stream_socket::connect(srv->local_address());
  net::stream_socket b = co_await net::stream_socket::connect(srv->local_address());
  co_await until([&] { return srv->connections() == 2; });
  const drained third = co_await read_to_end(*std::make_unique<net::stream_socket>(
      co_await net::stream_socket::connect(srv->local_address())));
  EXPECT_EQ(status_line(third.bytes), "HTTP/1.1 503 Service Unavailable");
  EXPECT_TRUE(third.closed);
  EXPECT_EQ(srv->stats().refused, 1u);
  // The two within the cap are served as usual.
  co_await a.write_all("GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto replies = co_await read_replies(a, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].status, 200);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServerAbuse, AClientThatResetsMidResponseIsHandledQuietly) {
  auto handler = [](http::request) -> task<http::response> {
    http::response res;
    res.body.assign(32 << 20, 'z');  // 32 MiB: far more than loopback's socket buffers hold
    co_return res;
  };
  auto srv = shared_server(net::address::loopback(0), handler);
  auto serving = spawn(serve_shared(srv));
  {
    net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
    co_await c.write_all("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    std::array<char, 1024> some{};
    (void)co_await c.read_some(some);
    testing_support::reset_connection(c);  // RST while the server is still writing
  }
  co_await until([&] { return srv->stats().aborted_responses == 1 && srv->connections() == 0; });
  EXPECT_EQ(srv->stats().aborted_responses, 1u);
  EXPECT_EQ(srv->connections(), 0u);
  // The server goes on (and the process got no SIGPIPE).
  net::stream_socket d = co_await net::stream_socket::connect(srv->local_address());
  co_await d.write_all("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::vector<bool> head_reply{true};  // (a braced list inside co_await trips g++ 12)
  const auto replies = co_await read_replies(d, 1, head_reply);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].field("content-length"), std::to_string(32 << 20));
  srv->close();
  co_await serving;
}
