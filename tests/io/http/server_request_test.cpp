// tests/io/http/server_request_test.cpp — the request a handler receives, over raw sockets: the
// server keeps it alive until the handler completes (so a handler may take it by reference), a
// kept-alive connection reuses the storage of its requests' heads, and never holds on to a large
// body (server.hpp, request_handler; server_connection.cpp, take_request).
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <corio.hpp>

#include "io/http/server.hpp"
#include "runtime/testing.hpp"
#include "server_support.hpp"

using namespace corio;
using namespace http_test;

namespace {

// Takes the request by reference (server.hpp allows it: the server keeps the request alive until
// the handler's task completes) and reads it only after suspending, so a request that did not
// live that long, or a head that kept the fields of the one before (the connection reuses its
// storage), shows in the answer: "<method> <target> [name=value;...] <body>".
task<http::response> fields_by_reference(const http::request& req) {
  co_await corio::yield();
  http::response res;
  res.body = req.method + " " + req.target + " [";
  for (const http::header_field& f : req.headers) res.body += f.name + "=" + f.value + ";";
  res.body += "] " + req.body;
  co_return res;
}

// Answers with the capacity of the request body's buffer (by reference: what the server keeps).
task<http::response> body_capacity(const http::request& req) {
  http::response res;
  res.body = std::to_string(req.body.capacity());
  co_return res;
}

// Sends `requests` and returns the bodies of the `count` replies. (A view: the callers pass
// string literals, which outlive the task; g++ 12 refuses a literal for a std::string parameter
// of a coroutine awaited in place.)
task<std::vector<std::string>> reply_bodies(net::stream_socket& c, std::string_view requests, std::size_t count) {
  co_await c.write_all(requests);
  std::vector<std::string> bodies;
  for (const reply& r : co_await read_replies(c, count)) bodies.push_back(r.body);
  co_return bodies;
}

}  // namespace

CORIO_TEST(HttpServer, AHandlerTakingItsRequestByReferenceSeesEachRequestAsSentOnAKeptAliveConnection) {
  auto srv = shared_server(net::address::loopback(0), fields_by_reference);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  // One at a time (each answered alone), then two pipelined (answered concurrently), then one.
  // (Each result is named before it is compared: g++ 12 miscompiles a braced list in the same
  // expression as a co_await.)
  const auto first = co_await reply_bodies(c, "GET /first HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nX-B: 2\r\n\r\n", 1);
  EXPECT_EQ(first, std::vector<std::string>{"GET /first [Host=t;X-A=1;X-B=2;] "});
  const auto second = co_await reply_bodies(c, "POST /second-and-longer HTTP/1.1\r\nHost: u\r\nContent-Length: 4\r\n\r\nbody", 1);
  EXPECT_EQ(second, std::vector<std::string>{"POST /second-and-longer [Host=u;Content-Length=4;] body"});
  const auto pipelined = co_await reply_bodies(c, "GET /3 HTTP/1.1\r\nHost: v\r\n\r\nGET /4 HTTP/1.1\r\nHost: w\r\nX-C: 3\r\n\r\n", 2);
  EXPECT_EQ(pipelined, (std::vector<std::string>{"GET /3 [Host=v;] ", "GET /4 [Host=w;X-C=3;] "}));
  const auto last = co_await reply_bodies(c, "GET /5 HTTP/1.1\r\nHost: x\r\n\r\n", 1);
  EXPECT_EQ(last, std::vector<std::string>{"GET /5 [Host=x;] "});
  EXPECT_EQ(srv->stats().connections, 1u);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServer, AKeptAliveConnectionDoesNotHoldOnToALargeBodyForItsNextRequest) {
  // The connection reuses a request's head storage (bounded by the head limits), but a body may
  // be as large as max_body_size: the next request must not inherit its buffer.
  auto srv = shared_server(net::address::loopback(0), body_capacity);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  const std::string big(512 * 1024, 'b');
  const std::string big_request = "POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big;
  const auto first = co_await reply_bodies(c, big_request, 1);
  CORIO_ASSERT(first.size() == 1);
  EXPECT_GE(std::stoul(first[0]), big.size());
  const auto second = co_await reply_bodies(c, "GET /small HTTP/1.1\r\nHost: t\r\n\r\n", 1);
  CORIO_ASSERT(second.size() == 1);
  EXPECT_LT(std::stoul(second[0]), 1024u) << "the 512 KiB buffer of the request before";
  srv->close();
  co_await serving;
}
