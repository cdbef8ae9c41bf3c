// tests/io/http/client_test.cpp — http::client_session against scripted raw servers: bodies
// (Content-Length, chunked, close-delimited, HEAD), what goes on the wire, keep-alive reuse and
// its rules, the pool's limits, redirects. Errors, timeouts and cancellation are in
// client_errors_test.cpp.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <corio.hpp>

#include "client_support.hpp"
#include "io/http/client.hpp"
#include "runtime/testing.hpp"

using namespace std::chrono_literals;
using namespace corio;
using namespace client_support;

namespace {

/// A script that answers each request after `delay` (on the test's clock).
script slow_ok(duration delay) {
  return [delay](raw_connection& c) -> task<void> {
    while (co_await c.read_request()) {
      co_await sleep(delay);
      co_await c.send(ok("done"));
    }
  };
}

}  // namespace

CORIO_TEST(http_client, reads_a_content_length_body_and_sends_a_well_formed_request) {
  scripted_server srv(answer_every_request_with(ok("hello", "Content-Type: text/plain\r\n")));
  http::client_session session;
  http::headers extra;
  extra.add("X-Trace", "abc");
  http::client_response r = co_await session.get(srv.url("/path/x?q=1"), extra);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.reason(), "OK");
  EXPECT_EQ(r.headers().get("content-type"), "text/plain");
  EXPECT_EQ(r.content_length(), 5u);
  EXPECT_EQ(r.url().to_string(), srv.url("/path/x?q=1"));
  EXPECT_EQ(co_await r.text(), "hello");
  EXPECT_TRUE(r.finished());
  CORIO_ASSERT(srv.requests.size() == 1);
  const raw_request& sent = srv.requests[0];
  EXPECT_EQ(sent.request_line(), "GET /path/x?q=1 HTTP/1.1");
  EXPECT_EQ(sent.field("host"), "127.0.0.1:" + std::to_string(srv.port()));
  EXPECT_EQ(sent.field("user-agent"), "corio/0.1");
  EXPECT_EQ(sent.field("x-trace"), "abc");
  EXPECT_EQ(sent.field("content-length"), std::nullopt);  // a GET without a body says nothing
  co_await srv.stop();
}

CORIO_TEST(http_client, posts_a_body_with_its_content_length) {
  scripted_server srv(answer_every_request_with(ok("created")));
  http::client_options options;
  options.default_headers.add("X-Default", "1");
  options.default_headers.add("User-Agent", "test-agent");
  http::client_session session(options);
  http::client_response r = co_await session.post(srv.url("/items"), "{\"a\":1}");
  EXPECT_EQ(co_await r.text(), "created");
  CORIO_ASSERT(srv.requests.size() == 1);
  EXPECT_EQ(srv.requests[0].request_line(), "POST /items HTTP/1.1");
  EXPECT_EQ(srv.requests[0].field("content-length"), "7");
  EXPECT_EQ(srv.requests[0].body, "{\"a\":1}");
  EXPECT_EQ(srv.requests[0].field("x-default"), "1");
  EXPECT_EQ(srv.requests[0].field("user-agent"), "test-agent");
  co_await srv.stop();
}

CORIO_TEST(http_client, decodes_a_chunked_body) {
  scripted_server srv(answer_every_request_with(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n"));
  http::client_session session;
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "hello, world");
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "hello, world");
  EXPECT_EQ(srv.accepted, 1) << "a whole chunked body leaves the connection reusable";
  co_await srv.stop();
}

CORIO_TEST(http_client, parses_a_response_that_arrives_one_byte_at_a_time) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nX-Split: yes\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  scripted_server srv([&response](raw_connection& c) -> task<void> {
    c.socket.set_nodelay(true);  // one segment per byte
    while (co_await c.read_request()) {
      for (const char byte : response) {
        co_await c.send(std::string_view(&byte, 1));
        co_await yield();  // the client runs (and reads) between two bytes
        co_await yield();
      }
    }
  });
  http::client_session session;
  http::client_response r = co_await session.get(srv.url());
  EXPECT_EQ(r.headers().get("x-split"), "yes");
  EXPECT_EQ(co_await r.text(), "abcde");
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "abcde");
  EXPECT_EQ(srv.accepted, 1);
  co_await srv.stop();
}

CORIO_TEST(http_client, reads_a_close_delimited_body_and_does_not_reuse_its_connection) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    if (!co_await c.read_request()) co_return;
    co_await c.send("HTTP/1.1 200 OK\r\n\r\nuntil ");
    co_await sleep(10ms);
    co_await c.send("the end");
  });  // returning closes the connection: that ends the body
  http::client_session session;
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "until the end");
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "until the end");
  EXPECT_EQ(srv.accepted, 2);
  EXPECT_EQ(session.idle_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client, head_returns_no_body_whatever_content_length_says_and_keeps_the_connection) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    while (auto request = co_await c.read_request()) {
      if (request->request_line().starts_with("HEAD"))
        co_await c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      else
        co_await c.send(ok("body"));
    }
  });
  http::client_session session;
  http::client_response r = co_await session.head(srv.url());
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.content_length(), 1000u);
  EXPECT_EQ(co_await r.text(), "");
  r.release();
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "body");
  EXPECT_EQ(srv.accepted, 1);
  co_await srv.stop();
}

CORIO_TEST(http_client, a_204_and_a_304_have_no_body) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    co_await c.read_request();
    co_await c.send("HTTP/1.1 204 No Content\r\n\r\n");
    co_await c.read_request();
    co_await c.send("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    while (co_await c.read_request()) co_await c.send(ok("x"));
  });
  http::client_session session;
  http::client_response a = co_await session.get(srv.url());
  EXPECT_EQ(a.status(), 204);
  EXPECT_EQ(co_await a.text(), "");
  http::client_response b = co_await session.get(srv.url());
  EXPECT_EQ(b.status(), 304);
  EXPECT_EQ(co_await b.text(), "");
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "x");
  EXPECT_EQ(srv.accepted, 1);
  co_await srv.stop();
}

CORIO_TEST(http_client, skips_interim_1xx_responses) {
  scripted_server srv(answer_every_request_with("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok("final")));
  http::client_session session;
  http::client_response r = co_await session.get(srv.url());
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(co_await r.text(), "final");
  co_await srv.stop();
}

CORIO_TEST(http_client, reuses_one_keep_alive_connection_for_sequential_requests) {
  scripted_server srv(answer_every_request_with(ok("same")));
  http::client_session session;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(co_await fetch_body(session, srv.url()), "same");
  EXPECT_EQ(srv.accepted, 1);
  EXPECT_EQ(srv.requests.size(), 5u);
  EXPECT_EQ(session.connections_made(), 1u);
  EXPECT_EQ(session.idle_connections(), 1u);
  co_await srv.stop();
}

CORIO_TEST(http_client, does_not_reuse_a_connection_idle_for_longer_than_idle_timeout) {
  scripted_server srv(answer_every_request_with(ok("fresh")));
  http::client_options options;
  options.idle_timeout = 15s;
  http::client_session session(options);
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "fresh");
  co_await sleep(10s);
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "fresh");
  EXPECT_EQ(srv.accepted, 1);  // 10 s idle: reused
  co_await sleep(16s);
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "fresh");
  EXPECT_EQ(srv.accepted, 2);  // 16 s idle: closed, a new one opened
  EXPECT_EQ(session.open_connections(), 1u);
  co_await srv.stop();
}

CORIO_TEST(http_client, does_not_reuse_a_connection_after_connection_close_or_http_1_0) {
  int n = 0;
  scripted_server srv([&n](raw_connection& c) -> task<void> {
    if (!co_await c.read_request()) co_return;
    if (++n % 2 == 1)
      co_await c.send(ok("closing", "Connection: close\r\n"));
    else
      co_await c.send("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold");
    while (co_await c.read_request()) {
    }  // waits for the client to close
  });
  http::client_session session;
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "closing");
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "old");
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "closing");
  EXPECT_EQ(srv.accepted, 3);
  co_await srv.stop();
}

CORIO_TEST(http_client, does_not_reuse_a_connection_the_request_asked_to_close) {
  scripted_server srv(answer_every_request_with(ok("bye")));
  http::client_session session;
  http::headers close;
  close.add("Connection", "close");
  http::client_response r = co_await session.get(srv.url(), close);
  EXPECT_EQ(co_await r.text(), "bye");
  EXPECT_EQ(session.open_connections(), 0u);
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "bye");
  EXPECT_EQ(srv.accepted, 2);
  co_await srv.stop();
}

CORIO_TEST(http_client, closes_instead_of_reusing_a_connection_whose_response_was_partly_read) {
  const std::string big(200 * 1024, 'b');
  scripted_server srv(answer_every_request_with(ok(big)));
  http::client_session session;
  {
    http::client_response r = co_await session.get(srv.url());
    const std::optional<std::string> first = co_await r.read_chunk();
    CORIO_ASSERT(first.has_value());
    EXPECT_LT(first->size(), big.size());
  }  // destroyed with most of its body unread: the connection is closed
  EXPECT_EQ(session.open_connections(), 0u);
  EXPECT_EQ(co_await fetch_body(session, srv.url()), big);
  EXPECT_EQ(srv.accepted, 2);
  EXPECT_EQ(session.idle_connections(), 1u);  // the second was read whole: kept
  co_await srv.stop();
}

CORIO_TEST(http_client, never_opens_more_connections_than_the_limit) {
  scripted_server srv(slow_ok(50ms));
  http::client_options options;
  options.limit = 2;
  http::client_session session(options);
  std::vector<task<std::string>> fetches;
  for (int i = 0; i < 6; ++i) fetches.push_back(fetch_body(session, srv.url()));
  const auto start = loop_now();
  const std::vector<std::string> bodies = co_await gather(std::move(fetches));
  EXPECT_EQ(bodies, std::vector<std::string>(6, "done"));
  EXPECT_EQ(srv.most_open, 2);
  EXPECT_EQ(srv.accepted, 2);  // the two connections were reused for the other four
  EXPECT_GE(loop_now() - start, 150ms);  // three rounds of 50 ms
  co_await srv.stop();
}

CORIO_TEST(http_client, limit_per_host_holds_back_one_host_but_not_the_other) {
  scripted_server a(slow_ok(50ms));
  scripted_server b(slow_ok(50ms));
  http::client_options options;
  options.limit_per_host = 1;
  http::client_session session(options);
  std::vector<task<std::string>> fetches;
  for (int i = 0; i < 3; ++i) {
    fetches.push_back(fetch_body(session, a.url()));
    fetches.push_back(fetch_body(session, b.url()));
  }
  const auto start = loop_now();
  co_await gather(std::move(fetches));
  EXPECT_EQ(a.most_open, 1);
  EXPECT_EQ(b.most_open, 1);
  EXPECT_EQ(a.requests.size(), 3u);
  EXPECT_EQ(b.requests.size(), 3u);
  // Both hosts were served side by side: three rounds, not six.
  EXPECT_LT(loop_now() - start, 200ms);
  co_await a.stop();
  co_await b.stop();
}

CORIO_TEST(http_client, a_full_total_limit_closes_an_idle_connection_to_another_host) {
  scripted_server a(answer_every_request_with(ok("a")));
  scripted_server b(answer_every_request_with(ok("b")));
  http::client_options options;
  options.limit = 1;
  http::client_session session(options);
  EXPECT_EQ(co_await fetch_body(session, a.url()), "a");  // idle connection to a
  EXPECT_EQ(co_await fetch_body(session, b.url()), "b");  // a's is closed to make room
  EXPECT_EQ(session.open_connections(), 1u);
  EXPECT_EQ(co_await fetch_body(session, b.url()), "b");
  EXPECT_EQ(b.accepted, 1);
  co_await a.stop();
  co_await b.stop();
}

CORIO_TEST(http_client, follows_redirects_and_reports_the_final_url) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    while (auto request = co_await c.read_request()) {
      const std::string line = request->request_line();
      if (line.find(" /start ") != std::string::npos)
        co_await c.send("HTTP/1.1 302 Found\r\nLocation: /middle\r\nContent-Length: 4\r\n\r\nmove");
      else if (line.find(" /middle ") != std::string::npos)
        co_await c.send("HTTP/1.1 301 Moved Permanently\r\nLocation: end?x=1\r\nContent-Length: 0\r\n\r\n");
      else
        co_await c.send(ok("arrived"));
    }
  });
  http::client_session session;
  http::client_response r = co_await session.get(srv.url("/start"));
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(co_await r.text(), "arrived");
  EXPECT_EQ(r.url().to_string(), srv.url("/end?x=1"));
  EXPECT_EQ(srv.requests.size(), 3u);
  EXPECT_EQ(srv.accepted, 1) << "redirect bodies were read, so the connection was reused";
  co_await srv.stop();
}

CORIO_TEST(http_client, redirect_303_turns_a_post_into_a_get_and_307_keeps_it) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    while (auto request = co_await c.read_request()) {
      const std::string line = request->request_line();
      if (line.find(" /see-other ") != std::string::npos)
        co_await c.send("HTTP/1.1 303 See Other\r\nLocation: /landing\r\nContent-Length: 0\r\n\r\n");
      else if (line.find(" /temporary ") != std::string::npos)
        co_await c.send("HTTP/1.1 307 Temporary Redirect\r\nLocation: /landing\r\nContent-Length: 0\r\n\r\n");
      else
        co_await c.send(ok(line.substr(0, line.find(' ')) + " " + request->body));
    }
  });
  http::client_session session;
  http::client_response a = co_await session.post(srv.url("/see-other"), "payload");
  EXPECT_EQ(co_await a.text(), "GET ");
  EXPECT_EQ(a.method(), "GET");
  http::client_response b = co_await session.post(srv.url("/temporary"), "payload");
  EXPECT_EQ(co_await b.text(), "POST payload");
  EXPECT_EQ(b.method(), "POST");
  co_await srv.stop();
}

CORIO_TEST(http_client, stops_after_max_redirects_with_a_clear_error) {
  scripted_server srv(answer_every_request_with("HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"));
  http::client_options options;
  options.max_redirects = 3;
  http::client_session session(options);
  const auto error = co_await error_from<http::too_many_redirects>(session.get(srv.url("/loop")));
  CORIO_ASSERT(error.has_value());
  EXPECT_NE(std::string(error->what()).find("more than 3 redirects"), std::string::npos) << error->what();
  EXPECT_EQ(srv.requests.size(), 4u);  // the first request and three redirects
  EXPECT_EQ(session.open_connections(), 1u);  // the last redirect's connection went back to the pool
  co_await srv.stop();
}

CORIO_TEST(http_client, a_redirect_to_another_host_drops_the_authorization_header) {
  scripted_server target(answer_every_request_with(ok("there")));
  scripted_server origin(answer_every_request_with("HTTP/1.1 307 Temporary Redirect\r\nLocation: " + target.url("/x") +
                                                   "\r\nContent-Length: 0\r\n\r\n"));
  http::client_session session;
  http::headers secret;
  secret.add("Authorization", "Bearer s3cret");
  http::client_response r = co_await session.get(origin.url("/"), secret);
  EXPECT_EQ(co_await r.text(), "there");
  CORIO_ASSERT(origin.requests.size() == 1 && target.requests.size() == 1);
  EXPECT_EQ(origin.requests[0].field("authorization"), "Bearer s3cret");
  EXPECT_EQ(target.requests[0].field("authorization"), std::nullopt);
  co_await origin.stop();
  co_await target.stop();
}

// FIFO pinned: waiting requests are served in the order they came (documented), and the test
// makes them come in index order by starting them in one gather, whose children start in an
// order only a FIFO ready queue keeps.
CORIO_TEST_WITH(http_client, requests_over_the_limit_are_served_in_the_order_they_came, corio::testing::fifo_order()) {
  scripted_server srv(slow_ok(10ms));
  http::client_options options;
  options.limit = 1;
  http::client_session session(options);
  std::vector<task<std::string>> fetches;
  for (int i = 0; i < 5; ++i) fetches.push_back(fetch_body(session, srv.url("/?i=" + std::to_string(i))));
  co_await gather(std::move(fetches));
  CORIO_ASSERT(srv.requests.size() == 5);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(srv.requests[i].request_line(), "GET /?i=" + std::to_string(i) + " HTTP/1.1");
  co_await srv.stop();
}

CORIO_TEST(http_client, cancelling_many_fetches_in_every_phase_leaves_the_pool_empty) {
  scripted_server srv(slow_ok(30ms));
  http::client_options options;
  options.limit = 4;
  http::client_session session(options);
  for (const duration cancel_after : {0ms, 1ms, 15ms, 30ms, 45ms, 70ms}) {
    std::vector<task<std::string>> fetches;
    for (int i = 0; i < 12; ++i) fetches.push_back(fetch_body(session, srv.url()));
    auto all = spawn(gather(std::move(fetches)));
    co_await sleep(cancel_after);
    all.cancel();
    try {
      (void)co_await all;
    } catch (const corio::cancelled&) {
    }
    EXPECT_EQ(session.waiting_requests(), 0u) << "cancelled after " << cancel_after.count() << " ns";
    EXPECT_EQ(session.open_connections(), session.idle_connections()) << "a connection is still held";
  }
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "done");  // and the pool still works
  co_await srv.stop();
}

CORIO_TEST(http_client, speaks_to_an_ipv6_literal_with_a_bracketed_host_header) {
  std::optional<net::listener> v6;
  try {
    v6 = net::listener::bind(net::address::ip("::1", 0));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "*** no IPv6 loopback here (%s): test skipped ***\n", e.what());
    co_return;
  }
  const std::uint16_t port = v6->local_address().port();
  auto serve = [](net::listener& l) -> task<std::string> {
    net::stream_socket s = co_await l.accept();
    std::string got;
    std::array<char, 1024> buffer{};
    while (got.find("\r\n\r\n") == std::string::npos) {
      const auto n = co_await s.read_some(buffer);
      if (!n) break;
      got.append(buffer.data(), *n);
    }
    co_await s.write_all(ok("v6"));
    co_return got;
  };
  auto served = spawn(serve(*v6));
  http::client_session session;
  EXPECT_EQ(co_await fetch_body(session, "http://[::1]:" + std::to_string(port) + "/six"), "v6");
  const std::string request = co_await served;
  EXPECT_NE(request.find("\r\nHost: [::1]:" + std::to_string(port) + "\r\n"), std::string::npos) << request;
}
