// tests/io/http/cancel_every_await_test.cpp — an HTTP client fetch against a local
// corio::http::server, and the server's handling of raw requests, cancelled at each of their
// suspension points in turn (runtime/testing_cancel.hpp). These run on the steady clock: the
// server's header and keep-alive timers must not be jumped to while a byte is in flight.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <corio.hpp>

#include "io/http/client.hpp"
#include "io/http/server.hpp"
#include "io/socket.hpp"
#include "io/streams.hpp"
#include "runtime/testing_cancel.hpp"

using corio::testing::cancel_at_every_await;
using corio::testing::cancel_options;
using corio::testing::cancel_run;
namespace http = corio::http;
namespace net = corio::net;

namespace {

constexpr int requests = 3;

std::string path(int i) { return "/item/" + std::to_string(i); }
std::string body_for(const std::string& target) { return "you asked for " + target; }

// Handlers count how they end: every one that started finished or unwound.
struct handler_counts {
  int started = 0;
  int finished = 0;
  int unwound = 0;
};

// A handler with a suspension point of its own.
corio::task<http::response> answer(http::request req, handler_counts& counts) {
  ++counts.started;
  try {
    co_await corio::yield();
  } catch (const corio::cancelled&) {
    ++counts.unwound;
    throw;
  }
  ++counts.finished;
  http::response res;
  res.body = body_for(req.target);
  co_return res;
}

cancel_options on_the_steady_clock() {
  cancel_options opts;
  opts.real_clock = true;
  return opts;
}

void expect_every_handler_ended(const handler_counts& counts) {
  EXPECT_EQ(counts.started, counts.finished + counts.unwound) << "a handler neither finished nor unwound";
}

struct fetch_state {
  handler_counts handlers;
  std::vector<std::string> bodies;  // what the client received, whole
};

corio::task<> fetch_scenario(fetch_state& s) {
  http::server srv(net::address::loopback(0), [&s](http::request req) { return answer(std::move(req), s.handlers); });
  const std::string base = "http://" + srv.local_address().to_string();
  http::client_session session;
  const auto body = [&](corio::task_group& group) -> corio::task<> {
    group.spawn(srv.serve_forever());
    for (int i = 0; i < requests; ++i) {
      http::client_response r = co_await session.get(base + path(i));
      std::string text = co_await r.text();
      s.bodies.push_back(std::move(text));
    }
    session.close();
    srv.close();
  };
  co_await corio::task_group::run(body);
}

}  // namespace

TEST(cancel_every_await, an_http_client_fetch_gets_whole_bodies_or_cancelled_and_leaks_nothing) {
  const auto report = cancel_at_every_await<fetch_state>(
      fetch_scenario,
      [](fetch_state& s, const cancel_run& run) {
        expect_every_handler_ended(s.handlers);
        for (std::size_t i = 0; i < s.bodies.size(); ++i) {
          EXPECT_EQ(s.bodies[i], body_for(path(static_cast<int>(i))));
        }
        EXPECT_LE(static_cast<int>(s.bodies.size()), s.handlers.finished) << "a body nobody's handler produced";
        if (!run.cancelled()) {
      EXPECT_EQ(s.bodies.size(), static_cast<std::size_t>(requests));
    }
      },
      on_the_steady_clock());
  EXPECT_GT(report.suspension_points, 2u * requests);
  EXPECT_GT(report.surfaced, report.suspension_points / 2);
  EXPECT_EQ(report.surfaced + report.finished_first + report.not_reached, report.suspension_points);
}

namespace {

struct serve_state {
  handler_counts handlers;
  std::vector<std::string> responses;  // each one whole: head and Content-Length body
};

// A raw HTTP/1.1 client on one keep-alive connection: reads each response by its framing.
corio::task<> raw_requests(const net::address& to, serve_state& s) {
  net::connection conn(co_await net::stream_socket::connect(to));
  for (int i = 0; i < requests; ++i) {
    conn.writer().write("GET " + path(i) + " HTTP/1.1\r\nHost: test\r\n\r\n");
    co_await conn.writer().drain();
    std::string head = co_await conn.reader().read_until("\r\n\r\n");
    const std::size_t at = head.find("Content-Length: ");
    if (at == std::string::npos) throw std::runtime_error("no Content-Length in " + head);
    const std::size_t length = std::stoul(head.substr(at + 16));
    std::string content = co_await conn.reader().read_exactly(length);
    s.responses.push_back(std::move(content));
  }
  conn.writer().close();
  co_await conn.writer().wait_closed();
}

corio::task<> serve_scenario(serve_state& s) {
  http::server srv(net::address::loopback(0), [&s](http::request req) { return answer(std::move(req), s.handlers); });
  const net::address to = srv.local_address();
  const auto body = [&](corio::task_group& group) -> corio::task<> {
    group.spawn(srv.serve_forever());
    co_await raw_requests(to, s);
    srv.close();
  };
  co_await corio::task_group::run(body);
}

}  // namespace

TEST(cancel_every_await, an_http_server_answers_whole_responses_or_unwinds_its_handlers_and_leaks_nothing) {
  const auto report = cancel_at_every_await<serve_state>(
      serve_scenario,
      [](serve_state& s, const cancel_run& run) {
        expect_every_handler_ended(s.handlers);
        for (std::size_t i = 0; i < s.responses.size(); ++i) {
          EXPECT_EQ(s.responses[i], body_for(path(static_cast<int>(i))));
        }
        if (!run.cancelled()) {
      EXPECT_EQ(s.responses.size(), static_cast<std::size_t>(requests));
    }
      },
      on_the_steady_clock());
  EXPECT_GT(report.suspension_points, 2u * requests);
  EXPECT_GT(report.surfaced, report.suspension_points / 2);
  EXPECT_EQ(report.surfaced + report.finished_first + report.not_reached, report.suspension_points);
}
