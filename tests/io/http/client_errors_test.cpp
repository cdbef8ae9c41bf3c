// tests/io/http/client_errors_test.cpp — http::client_session when things go wrong: each error
// kind, the dead pooled connection (retried once for GET, not for POST), the three timeouts on
// the manual clock, cancellation in every phase leaking nothing, bad input refused before
// anything is sent, and a large body streamed in bounded memory.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>

#include <corio.hpp>

#include "client_support.hpp"
#include "io/http/client.hpp"
#include "runtime/testing.hpp"
#include "support/sanitizers.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using namespace corio;
using namespace client_support;
using testing_support::sanitized;

namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

/// Reads one request, then never answers (until the server stops).
task<void> never_answer(raw_connection& c) {
  co_await c.read_request();
  co_await sleep(24h);
}

/// A client with no connect/total limits, so a slow resolver cannot turn into a timeout.
http::client_options without_timeouts() {
  http::client_options options;
  options.timeouts = {std::nullopt, std::nullopt, std::nullopt};
  return options;
}

}  // namespace

CORIO_TEST(http_client_errors, connection_refused_is_a_connection_error_with_econnrefused) {
  std::string url;
  {
    auto closed = net::listener::bind(net::address::loopback(0));
    url = "http://" + closed.local_address().to_string() + "/";
  }  // nobody listens there any more
  http::client_session session;
  const auto error = co_await error_from<http::connection_error>(session.get(url));
  CORIO_ASSERT(error.has_value());
  EXPECT_EQ(error->code(), ECONNREFUSED);
  EXPECT_TRUE(contains(error->what(), "GET " + url)) << error->what();
  EXPECT_EQ(session.open_connections(), 0u);
}

CORIO_TEST(http_client_errors, an_unknown_host_is_a_dns_error) {
  http::client_session session(without_timeouts());
  const auto error = co_await error_from<http::dns_error>(session.get("http://no-such-host.invalid/"));
  CORIO_ASSERT(error.has_value());
  EXPECT_TRUE(contains(error->what(), "GET http://no-such-host.invalid/: ")) << error->what();
  EXPECT_TRUE(contains(error->what(), "cannot resolve 'no-such-host.invalid'")) << error->what();
  EXPECT_NE(error->code(), 0);
  EXPECT_EQ(session.open_connections(), 0u);
}

CORIO_TEST(http_client_errors, a_malformed_response_is_a_protocol_error) {
  scripted_server srv(answer_every_request_with("HTTP/1.1 abc OK\r\n\r\n"));
  http::client_session session;
  const auto error = co_await error_from<http::protocol_error>(session.get(srv.url()));
  CORIO_ASSERT(error.has_value());
  EXPECT_EQ(error->kind(), http::detail::parse_error::malformed);
  EXPECT_TRUE(contains(error->what(), "not valid HTTP")) << error->what();
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, a_smuggling_shaped_response_is_refused) {
  scripted_server srv(answer_every_request_with(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  http::client_session session;
  const auto error = co_await error_from<http::protocol_error>(fetch_body(session, srv.url()));
  EXPECT_TRUE(error.has_value());
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, headers_over_the_limits_are_headers_too_large) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    co_await c.read_request();
    co_await c.send("HTTP/1.1 200 OK\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n");
  });
  http::client_session session;
  const auto big = co_await error_from<http::headers_too_large>(session.get(srv.url()));
  CORIO_ASSERT(big.has_value());
  EXPECT_EQ(big->kind(), http::detail::parse_error::headers_too_large);

  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  scripted_server srv2(answer_every_request_with(many + "Content-Length: 0\r\n\r\n"));
  const auto too_many = co_await error_from<http::headers_too_large>(session.get(srv2.url()));
  CORIO_ASSERT(too_many.has_value());
  EXPECT_EQ(too_many->kind(), http::detail::parse_error::too_many_headers);
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
  co_await srv2.stop();
}

CORIO_TEST(http_client_errors, a_body_over_max_body_size_is_body_too_large) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    co_await c.read_request();
    co_await c.send(ok("0123456789A"));  // 11 bytes, announced
    co_await c.read_request();
    co_await c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89ABCDEF\r\n0\r\n\r\n");
  });
  http::client_options options;
  options.max_body_size = 10;
  http::client_session session(options);
  const auto announced = co_await error_from<http::body_too_large>(fetch_body(session, srv.url()));
  CORIO_ASSERT(announced.has_value());
  EXPECT_TRUE(contains(announced->what(), "max_body_size (10 bytes)")) << announced->what();
  EXPECT_EQ(session.open_connections(), 0u);  // closed: the rest of the body was never read
  // A chunked body has no size up front: it is stopped once it passes the limit.
  const auto streamed = co_await error_from<http::body_too_large>(fetch_body(session, srv.url()));
  EXPECT_TRUE(streamed.has_value());
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, a_body_cut_short_is_server_disconnected) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    co_await c.read_request();
    co_await c.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf!");
  });  // and closes
  http::client_session session;
  const auto error = co_await error_from<http::server_disconnected>(fetch_body(session, srv.url()));
  CORIO_ASSERT(error.has_value());
  EXPECT_TRUE(contains(error->what(), "before the body was complete")) << error->what();
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, a_fresh_connection_closed_without_an_answer_is_not_retried) {
  scripted_server srv([](raw_connection& c) -> task<void> { co_await c.read_request(); });
  http::client_session session;
  const auto error = co_await error_from<http::server_disconnected>(session.get(srv.url()));
  CORIO_ASSERT(error.has_value());
  EXPECT_TRUE(contains(error->what(), "without answering")) << error->what();
  EXPECT_EQ(srv.accepted, 1);
  co_await srv.stop();
}

namespace {

/// Answers the first request of each connection, then closes it as if idle too long.
struct close_after_one {
  corio::event closed;
  task<void> operator()(raw_connection& c) {
    const std::optional<raw_request> request = co_await c.read_request();
    if (request) co_await c.send(ok("first"));
    c.socket.close();
    closed.set();
  }
};

/// The first connection answers one request, then reads the next and closes without an
/// answer (as a server whose idle timer fired just as the request arrived); every later
/// connection answers everything.
struct drop_the_second_request {
  int connections = 0;
  task<void> operator()(raw_connection& c) {
    if (++connections > 1) {
      while (true) {
        const std::optional<raw_request> request = co_await c.read_request();
        if (!request) co_return;
        co_await c.send(ok("answered"));
      }
    }
    const std::optional<raw_request> first = co_await c.read_request();
    if (first) co_await c.send(ok("answered"));
    [[maybe_unused]] const std::optional<raw_request> second = co_await c.read_request();
    c.socket.close();
  }
};

}  // namespace

CORIO_TEST(http_client_errors, an_idle_connection_the_server_closed_is_noticed_before_reuse) {
  close_after_one script;
  scripted_server srv(std::ref(script));
  http::client_session session;
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "first");
  co_await script.closed.wait();
  co_await sleep(10ms);  // lets the FIN arrive
  EXPECT_EQ(session.idle_connections(), 1u);  // the client does not know yet
  // Even a POST, which is never retried, goes out on a fresh connection.
  http::client_response r = co_await session.post(srv.url(), "data");
  EXPECT_EQ(co_await r.text(), "first");
  EXPECT_EQ(srv.accepted, 2);
  EXPECT_EQ(srv.requests.size(), 2u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, a_get_on_a_connection_closed_under_it_is_retried_once) {
  drop_the_second_request script;
  scripted_server srv(std::ref(script));
  http::client_session session;
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "answered");
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "answered");
  EXPECT_EQ(srv.accepted, 2);
  EXPECT_EQ(srv.requests.size(), 3u);  // the second was sent twice: dropped, then answered
  EXPECT_EQ(session.connections_made(), 2u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, a_post_on_a_connection_closed_under_it_is_not_retried) {
  drop_the_second_request script;
  scripted_server srv(std::ref(script));
  http::client_session session;
  EXPECT_EQ(co_await fetch_body(session, srv.url()), "answered");
  const auto error = co_await error_from<http::server_disconnected>(session.post(srv.url(), "once only"));
  CORIO_ASSERT(error.has_value());
  EXPECT_TRUE(contains(error->what(), "without answering")) << error->what();
  EXPECT_EQ(srv.accepted, 1);  // no second attempt: the server may have acted on it
  EXPECT_EQ(srv.requests.size(), 2u);
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, the_read_timeout_fires_when_the_server_is_silent) {
  scripted_server srv(never_answer);
  http::client_options options;
  options.timeouts.read = 10s;
  http::client_session session(options);
  const time_point start = loop_now();
  const auto error = co_await error_from<http::timeout_error>(session.get(srv.url("/slow")));
  CORIO_ASSERT(error.has_value());
  EXPECT_EQ(error->which(), http::timeout_error::kind::read);
  EXPECT_EQ(loop_now() - start, 10s);
  EXPECT_TRUE(contains(error->what(), "the read timeout (10.000 s)")) << error->what();
  EXPECT_TRUE(contains(error->what(), "GET " + srv.url("/slow"))) << error->what();
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, the_total_timeout_covers_reading_the_body) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    co_await c.read_request();
    co_await c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    for (;;) {  // a byte a second: every read is quick, the whole is not
      co_await sleep(1s);
      co_await c.send("x");
    }
  });
  http::client_options options;
  options.timeouts.read = 5s;
  options.timeouts.total = 30s;
  http::client_session session(options);
  const time_point start = loop_now();
  http::client_response r = co_await session.get(srv.url());
  bool caught_as_corio_timeout = false;
  try {
    (void)co_await r.text();
  } catch (const corio::timeout_error& e) {  // http::timeout_error is one
    caught_as_corio_timeout = true;
    const auto* http_error = dynamic_cast<const http::timeout_error*>(&e);
    CORIO_ASSERT(http_error != nullptr);
    EXPECT_EQ(http_error->which(), http::timeout_error::kind::total);
    EXPECT_EQ(http_error->limit(), 30s);
  }
  EXPECT_TRUE(caught_as_corio_timeout);
  EXPECT_EQ(loop_now() - start, 30s);
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, the_total_timeout_bounds_the_wait_for_a_pool_slot) {
  scripted_server srv(answer_every_request_with(ok(std::string(100000, 'z'))));
  http::client_options options;
  options.limit = 1;
  options.timeouts.total = 2s;
  http::client_session session(options);
  http::client_response holding = co_await session.get(srv.url());  // body unread: holds the slot
  const auto error = co_await error_from<http::timeout_error>(session.get(srv.url()));
  CORIO_ASSERT(error.has_value());
  EXPECT_EQ(error->which(), http::timeout_error::kind::total);
  EXPECT_EQ(session.waiting_requests(), 0u);
  holding.release();
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

// Real time: a connect that hangs needs a listener whose accept queue is full, and the kernel
// only decides that in real time.
CORIO_REAL_TIME_TEST(http_client_errors, the_connect_timeout_fires_when_the_syn_goes_unanswered) {
  auto full = net::listener::bind(net::address::loopback(0), {.backlog = 0});
  std::vector<net::stream_socket> fillers;
  bool hung = false;
  for (int i = 0; i < 8 && !hung; ++i) {  // fill the accept queue until a connect hangs
    try {
      fillers.push_back(co_await net::stream_socket::connect(full.local_address(), 200ms));
    } catch (const corio::timeout_error&) {
      hung = true;
    }
  }
  CORIO_ASSERT(hung);
  http::client_options options;
  options.timeouts.connect = 300ms;
  http::client_session session(options);
  const auto error = co_await error_from<http::timeout_error>(
      session.get("http://" + full.local_address().to_string() + "/"));
  CORIO_ASSERT(error.has_value());
  EXPECT_EQ(error->which(), http::timeout_error::kind::connect);
  EXPECT_TRUE(contains(error->what(), "the connect timeout (0.300 s)")) << error->what();
  EXPECT_EQ(session.open_connections(), 0u);
}

CORIO_TEST(http_client_errors, cancelling_a_body_read_closes_the_connection_and_leaks_nothing) {
  scripted_server srv([](raw_connection& c) -> task<void> {
    while (co_await c.read_request()) {
      co_await c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
      co_await sleep(24h);
    }
  });
  http::client_session session;
  auto fetching = spawn(fetch_body(session, srv.url()));
  co_await sleep(1s);
  EXPECT_FALSE(fetching.done());
  EXPECT_EQ(session.open_connections(), 1u);
  fetching.cancel();
  bool cancelled = false;
  try {
    (void)co_await fetching;
  } catch (const corio::cancelled&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(session.open_connections(), 0u);
  EXPECT_EQ(session.idle_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, cancelling_while_waiting_for_the_head_or_a_slot_frees_everything) {
  scripted_server srv(never_answer);
  http::client_options options;
  options.limit = 1;
  http::client_session session(options);
  auto first = spawn(session.get(srv.url()));   // connects, then waits for a head
  auto second = spawn(session.get(srv.url()));  // waits for the only slot
  co_await sleep(1s);
  EXPECT_EQ(session.open_connections(), 1u);
  EXPECT_EQ(session.waiting_requests(), 1u);
  second.cancel();
  EXPECT_THROW((void)co_await second, corio::cancelled);
  EXPECT_EQ(session.waiting_requests(), 0u);
  first.cancel();
  EXPECT_THROW((void)co_await first, corio::cancelled);
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, a_cancelled_waiter_that_was_already_granted_passes_the_slot_on) {
  scripted_server srv(answer_every_request_with(ok("free")));
  http::client_options options;
  options.limit = 1;
  http::client_session session(options);
  http::client_response holding = co_await session.get(srv.url());
  auto granted_then_cancelled = spawn(session.get(srv.url()));
  auto third = spawn(fetch_body(session, srv.url()));
  co_await sleep(10ms);
  CORIO_ASSERT(session.waiting_requests() == 2);
  EXPECT_EQ(co_await holding.text(), "free");  // returns the connection: granted to the second
  granted_then_cancelled.cancel();              // ... which is cancelled before it runs
  EXPECT_THROW((void)co_await granted_then_cancelled, corio::cancelled);
  EXPECT_EQ(co_await third, "free");  // so the third gets the connection
  EXPECT_EQ(srv.accepted, 1);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, bad_input_is_refused_before_anything_is_sent) {
  scripted_server srv(answer_every_request_with(ok("never")));
  http::client_session session;
  http::headers injected;
  injected.add("X-Evil", "a\r\nX-Injected: 1");
  EXPECT_THROW((void)co_await session.get(srv.url(), injected), std::invalid_argument);
  http::headers bad_name;
  bad_name.add("Bad Name", "v");
  EXPECT_THROW((void)co_await session.get(srv.url(), bad_name), std::invalid_argument);
  http::headers length;
  length.add("Content-Length", "5");
  EXPECT_THROW((void)co_await session.post(srv.url(), "x", length), std::invalid_argument);
  EXPECT_THROW((void)co_await session.request("GET /x HTTP/1.1\r\n", srv.url()), std::invalid_argument);
  EXPECT_THROW((void)co_await session.get("https://127.0.0.1/"), http::url_error);
  EXPECT_THROW((void)co_await session.get("/relative"), http::url_error);
  EXPECT_THROW((void)co_await session.get(srv.url("/a b")), http::url_error);
  co_await sleep(10ms);
  EXPECT_EQ(srv.accepted, 0);
  EXPECT_EQ(session.open_connections(), 0u);

  http::client_options options;
  options.default_headers.add("X-Default", "bad\nvalue");
  EXPECT_THROW(http::client_session{options}, std::invalid_argument);
  http::client_options agent;
  agent.user_agent = "corio\r\nX-Injected: 1";
  EXPECT_THROW(http::client_session{agent}, std::invalid_argument);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, closing_the_session_fails_waiting_and_later_requests) {
  scripted_server srv(answer_every_request_with(ok(std::string(100000, 'z'))));
  http::client_options options;
  options.limit = 1;
  http::client_session session(options);
  http::client_response holding = co_await session.get(srv.url());
  auto waiting = spawn(session.get(srv.url()));
  co_await sleep(10ms);
  session.close();
  bool refused = false;
  try {
    (void)co_await waiting;
  } catch (const http::client_error& e) {
    refused = contains(e.what(), "closed");
  }
  EXPECT_TRUE(refused);
  EXPECT_THROW((void)co_await session.get(srv.url()), http::client_error);
  EXPECT_TRUE(session.closed());
  holding.release();  // a response of a closed session closes its connection
  EXPECT_EQ(session.open_connections(), 0u);
  co_await srv.stop();
}

CORIO_TEST(http_client_errors, streams_a_large_body_in_bounded_pieces) {
  constexpr std::size_t total = 32 * 1024 * 1024;
  scripted_server srv([](raw_connection& c) -> task<void> {
    co_await c.read_request();
    co_await c.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n");
    const std::string block(64 * 1024, 's');
    for (std::size_t sent = 0; sent < total; sent += block.size()) co_await c.send(block);
  });
  http::client_options options;
  options.max_body_size = 1024;  // text() could not take it; streaming is not bounded by it
  http::client_session session(options);
  http::client_response r = co_await session.get(srv.url());
  const std::size_t resident_before = testing_support::resident_bytes();
  std::size_t received = 0;
  std::size_t largest = 0;
  std::size_t resident_peak = resident_before;
  while (std::optional<std::string> piece = co_await r.read_chunk()) {
    received += piece->size();
    largest = std::max(largest, piece->size());
    if (received % (4 * 1024 * 1024) < piece->size())
      resident_peak = std::max(resident_peak, testing_support::resident_bytes());
  }
  EXPECT_EQ(received, total);
  EXPECT_LE(largest, 16u * 1024u);  // one socket read at most
  if (!sanitized) {
    EXPECT_LT(resident_peak - resident_before, 8u * 1024u * 1024u) << "the body was buffered, not streamed";
  }
  EXPECT_TRUE(r.finished());
  EXPECT_EQ(session.idle_connections(), 1u);
  co_await srv.stop();
}
