// tests/io/http/server_test.cpp — http::server's ordinary behaviour over raw sockets: the fields
// it adds, keep-alive, pipelining in order, HEAD, 100-continue, handler failures, and the
// lifecycle (graceful close with its grace deadline, abort, cancellation). Limits and abuse are
// in server_abuse_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "io/http/server.hpp"
#include "runtime/testing.hpp"
#include "server_support.hpp"
#include "support/capture_log.hpp"

using namespace std::chrono_literals;
using namespace corio;
using namespace http_test;

CORIO_TEST(HttpServer, AnswersWithContentLengthDateAndServer) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  EXPECT_NE(srv->local_address().port(), 0);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("GET /hello?x=1 HTTP/1.1\r\nHost: test\r\n\r\n");
  const auto replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[0].body, "GET /hello?x=1 ");
  EXPECT_EQ(replies[0].field("content-length"), "15");
  EXPECT_EQ(replies[0].field("content-type"), "text/plain");
  EXPECT_EQ(replies[0].field("server"), "corio");
  const std::string date = replies[0].field("date");
  EXPECT_EQ(date.size(), 29u) << date;  // "Thu, 26 Nov 2026 00:42:43 GMT"
  EXPECT_EQ(date.substr(25), " GMT") << date;
  EXPECT_FALSE(replies[0].headers.contains("connection")) << "HTTP/1.1 keeps alive without saying so";
  srv->close();
  co_await serving;
  EXPECT_EQ(srv->stats().requests, 1u);
}

CORIO_TEST(HttpServer, KeepsOneConnectionAliveForManyRequests) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  for (int i = 0; i < 5; ++i) {
    const std::string body = "request " + std::to_string(i);
    co_await c.write_all("POST /n HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto replies = co_await read_replies(c, 1);
    CORIO_ASSERT(replies.size() == 1);
    EXPECT_EQ(replies[0].body, "POST /n " + body);
  }
  EXPECT_EQ(srv->stats().connections, 1u);
  EXPECT_EQ(srv->stats().requests, 5u);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServer, Http10ClosesUnlessItAskedForKeepAlive) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  {
    const drained d = co_await exchange_until_close(srv->local_address(), "GET /old HTTP/1.0\r\n\r\n");
    EXPECT_TRUE(d.closed);
    EXPECT_EQ(status_line(d.bytes), "HTTP/1.1 200 OK");
    EXPECT_NE(d.bytes.find("\r\nConnection: close\r\n"), std::string::npos) << d.bytes;
  }
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].field("connection"), "keep-alive");
  co_await c.write_all("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].body, "GET /b ");
  srv->close();
  co_await serving;
}

namespace {

/// Sleeps as long as the target says ("/30" sleeps 30 ms), counting how many run at once.
struct sleepy_handler {
  int running = 0;
  int most_at_once = 0;
  task<http::response> operator()(http::request req) {
    ++running;
    most_at_once = std::max(most_at_once, running);
    co_await sleep(std::chrono::milliseconds(std::stoi(req.target.substr(1))));
    --running;
    http::response res;
    res.body = req.method + " " + req.target;
    co_return res;
  }
};

}  // namespace

CORIO_TEST(HttpServer, AnswersPipelinedRequestsInOrderWhenHandlersFinishOutOfOrder) {
  sleepy_handler handler;
  auto srv = shared_server(net::address::loopback(0), std::ref(handler));
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all(
      "GET /50 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n"
      "HEAD /20 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /5 HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::vector<bool> head_replies{false, false, true, false};  // (a braced list inside co_await trips g++ 12)
  const auto replies = co_await read_replies(c, 4, head_replies);
  CORIO_ASSERT(replies.size() == 4);
  EXPECT_EQ(replies[0].body, "GET /50");
  EXPECT_EQ(replies[1].body, "GET /1");
  EXPECT_EQ(replies[2].body, "") << "HEAD: no body";
  EXPECT_EQ(replies[2].field("content-length"), "8") << "but the length of the body the handler made";
  EXPECT_EQ(replies[3].body, "GET /5");
  EXPECT_EQ(handler.most_at_once, 4) << "safe pipelined requests run concurrently";
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServer, RunsPipelinedUnsafeRequestsOneAtATime) {
  sleepy_handler handler;
  auto srv = shared_server(net::address::loopback(0), std::ref(handler));
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all(
      "POST /30 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
      "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n"
      "DELETE /10 HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto replies = co_await read_replies(c, 3);
  CORIO_ASSERT(replies.size() == 3);
  EXPECT_EQ(replies[0].body, "POST /30");
  EXPECT_EQ(replies[1].body, "GET /1");
  EXPECT_EQ(replies[2].body, "DELETE /10");
  EXPECT_EQ(handler.most_at_once, 1);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServer, ParsesTheSameRequestsSentOneByteAtATime) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  const std::string requests =
      "POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: t\r\n\r\n";
  for (const char byte : requests) {
    co_await c.write_all(std::string_view(&byte, 1));
    co_await yield();
  }
  const auto replies = co_await read_replies(c, 2);
  CORIO_ASSERT(replies.size() == 2);
  EXPECT_EQ(replies[0].body, "POST /chunked abcde");
  EXPECT_EQ(replies[1].body, "GET /next ");
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServer, AnswersExpectContinueBeforeTheBodyIsSent) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  auto interim = co_await read_replies(c, 1);
  CORIO_ASSERT(interim.size() == 1);
  EXPECT_EQ(interim[0].status, 100);
  co_await c.write_all("data");
  const auto replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[0].body, "PUT /up data");
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServer, AHandlerThatThrowsGives500AndIsLoggedOnce) {
  testing_support::capture_log log;
  auto handler = [](http::request req) -> task<http::response> {
    if (req.target == "/boom") throw std::runtime_error("handler exploded");
    co_return co_await echo_handler(std::move(req));
  };
  auto srv = shared_server(net::address::loopback(0), handler);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto replies = co_await read_replies(c, 2);
  CORIO_ASSERT(replies.size() == 2);
  EXPECT_EQ(replies[0].status, 500);
  EXPECT_EQ(replies[1].status, 200) << "the connection goes on";
  EXPECT_EQ(replies[1].body, "GET /after ");
  srv->close();
  co_await serving;
  EXPECT_EQ(srv->stats().handler_failures, 1u);
  const std::string text = log.text();
  const auto first = text.find("handler exploded");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("handler exploded", first + 1), std::string::npos) << "logged twice: " << text;
  EXPECT_NE(text.find("GET /boom"), std::string::npos) << text;
}

CORIO_TEST(HttpServer, RefusesToSendAResponseThatWouldSplitTheHeader) {
  testing_support::capture_log log;
  auto handler = [](http::request) -> task<http::response> {
    http::response res;
    res.headers.add("X-Injected", "a\r\nSet-Cookie: evil=1");
    co_return res;
  };
  auto srv = shared_server(net::address::loopback(0), handler);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto replies = co_await read_replies(c, 1);
  CORIO_ASSERT(replies.size() == 1);
  EXPECT_EQ(replies[0].status, 500);
  EXPECT_FALSE(replies[0].headers.contains("set-cookie"));
  srv->close();
  co_await serving;
  EXPECT_NE(log.text().find("CR, LF"), std::string::npos);
}

CORIO_TEST(HttpServer, AHandlerMayCloseTheConnection) {
  auto handler = [](http::request) -> task<http::response> {
    http::response res;
    res.headers.add("Connection", "close");
    res.body = "bye";
    co_return res;
  };
  auto srv = shared_server(net::address::loopback(0), handler);
  auto serving = spawn(serve_shared(srv));
  const drained d = co_await exchange_until_close(srv->local_address(),
                                                  "GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(d.closed);
  EXPECT_EQ(std::count(d.bytes.begin(), d.bytes.end(), 'H') > 0, true);
  EXPECT_EQ(d.bytes.find("HTTP/1.1", 1), std::string::npos) << "one response only: " << d.bytes;
  EXPECT_NE(d.bytes.find("Connection: close\r\n"), std::string::npos);
  srv->close();
  co_await serving;
}

CORIO_TEST(HttpServer, ClosesAfterMaxRequestsPerConnection) {
  auto srv = shared_server(net::address::loopback(0), echo_handler, {.max_requests_per_connection = 2});
  auto serving = spawn(serve_shared(srv));
  const drained d = co_await exchange_until_close(
      srv->local_address(), "GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(d.closed);
  EXPECT_NE(d.bytes.find("GET /2"), std::string::npos);
  EXPECT_EQ(d.bytes.find("GET /3"), std::string::npos) << "the third request is not answered";
  EXPECT_NE(d.bytes.find("Connection: close\r\n"), std::string::npos);
  srv->close();
  co_await serving;
}

// ---- lifecycle --------------------------------------------------------------------------------

CORIO_TEST(HttpServer, GracefulCloseFinishesInFlightRequestsAndClosesIdleConnections) {
  sleepy_handler handler;
  auto srv = shared_server(net::address::loopback(0), std::ref(handler));
  auto serving = spawn(serve_shared(srv));
  net::stream_socket idle = co_await net::stream_socket::connect(srv->local_address());
  co_await idle.write_all("GET /0 HTTP/1.1\r\nHost: t\r\n\r\n");
  CORIO_ASSERT((co_await read_replies(idle, 1)).size() == 1);  // now between requests
  net::stream_socket busy = co_await net::stream_socket::connect(srv->local_address());
  co_await busy.write_all("GET /500 HTTP/1.1\r\nHost: t\r\n\r\n");
  co_await until([&] { return handler.running == 1; });
  CORIO_ASSERT(handler.running == 1);

  const time_point start = loop_now();
  srv->close(5s);
  const drained idle_end = co_await read_to_end(idle);
  EXPECT_TRUE(idle_end.closed);
  EXPECT_TRUE(idle_end.bytes.empty());
  const drained busy_end = co_await read_to_end(busy);
  EXPECT_EQ(status_line(busy_end.bytes), "HTTP/1.1 200 OK") << "the request in flight finishes";
  EXPECT_NE(busy_end.bytes.find("Connection: close\r\n"), std::string::npos);
  co_await serving;
  EXPECT_LT(loop_now() - start, 5s) << "done before the grace deadline";
}

CORIO_TEST(HttpServer, TheGraceDeadlineCancelsAHandlerThatTakesTooLong) {
  int cancelled_handlers = 0;
  auto handler = [&cancelled_handlers](http::request) -> task<http::response> {
    try {
      co_await sleep(1h);
    } catch (const corio::cancelled&) {
      ++cancelled_handlers;
      throw;
    }
    co_return http::response{};
  };
  auto srv = shared_server(net::address::loopback(0), handler);
  auto serving = spawn(serve_shared(srv));
  net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
  co_await c.write_all("GET /forever HTTP/1.1\r\nHost: t\r\n\r\n");
  co_await until([&] { return srv->stats().requests == 1; });
  const time_point start = loop_now();
  srv->close(3s);
  co_await serving;
  const auto took = loop_now() - start;
  EXPECT_GE(took, 3s);
  EXPECT_LT(took, 4s);
  EXPECT_EQ(cancelled_handlers, 1);
  const drained d = co_await read_to_end(c);
  EXPECT_TRUE(d.closed);
  EXPECT_TRUE(d.bytes.empty()) << "no response for the cancelled request";
  EXPECT_EQ(srv->connections(), 0u);
}

CORIO_TEST(HttpServer, AbortCancelsEveryConnectionNow) {
  sleepy_handler handler;
  auto srv = shared_server(net::address::loopback(0), std::ref(handler));
  auto serving = spawn(serve_shared(srv));
  net::stream_socket a = co_await net::stream_socket::connect(srv->local_address());
  net::stream_socket b = co_await net::stream_socket::connect(srv->local_address());
  co_await a.write_all("GET /100000 HTTP/1.1\r\nHost: t\r\n\r\n");
  co_await until([&] { return handler.running == 1 && srv->connections() == 2; });
  CORIO_ASSERT(srv->connections() == 2);
  const time_point start = loop_now();
  srv->abort();
  co_await serving;
  co_await srv->wait_closed();
  EXPECT_LT(loop_now() - start, 1s);
  EXPECT_EQ(srv->connections(), 0u);
  EXPECT_TRUE((co_await read_to_end(a)).closed);
  EXPECT_TRUE((co_await read_to_end(b)).closed);
}

CORIO_TEST(HttpServer, CancellingServeForeverLeavesNoTaskDescriptorOrTimer) {
  const auto registrations_before = event_loop::current()->registrations();
  {
    sleepy_handler handler;
    auto srv = shared_server(net::address::loopback(0), std::ref(handler));
    auto serving = spawn(serve_shared(srv));
    net::stream_socket c = co_await net::stream_socket::connect(srv->local_address());
    co_await c.write_all("GET /100000 HTTP/1.1\r\nHost: t\r\n\r\n");
    net::stream_socket idle = co_await net::stream_socket::connect(srv->local_address());
    co_await until([&] { return handler.running == 1 && srv->connections() == 2; });
    CORIO_ASSERT(srv->connections() == 2);
    serving.cancel();
    EXPECT_THROW(co_await serving, corio::cancelled);
    co_await srv->wait_closed();
  }
  EXPECT_EQ(event_loop::current()->registrations(), registrations_before);
  EXPECT_EQ(event_loop::current()->live_tasks(), 1u);  // the test body alone
  EXPECT_EQ(event_loop::current()->armed_timers(), 0u);
}

CORIO_TEST(HttpServer, CloseBeforeServingReturnsAtOnce) {
  auto srv = shared_server(net::address::loopback(0), echo_handler);
  auto serving = spawn(serve_shared(srv));
  srv->close();
  co_await serving;
  co_await srv->wait_closed();
  EXPECT_EQ(event_loop::current()->armed_timers(), 0u);
}

TEST(HttpServer, RefusesAnEmptyHandler) {
  corio::run([]() -> task<> {
    EXPECT_THROW(http::server(net::address::loopback(0), http::request_handler{}), std::invalid_argument);
    co_return;
  }());
}
