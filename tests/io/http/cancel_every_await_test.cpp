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

// What both scenarios share: the handlers' endings and the answers the client received whole.
struct http_state {
  handler_counts handlers;
  std::vector<std::string> answers;
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

// Over real sockets a few points may move between runs (see testing_cancel.hpp): most, not all,
// must surface, and every run must be accounted for.
void expect_most_points_surfaced(const corio::testing::cancel_report& report) {
  EXPECT_GT(report.suspension_points, 2u * requests);
  EXPECT_GT(report.surfaced, report.suspension_points / 2);
  EXPECT_EQ(report.surfaced + report.finished_first + report.not_reached, report.suspension_points);
}

cancel_options on_the_steady_clock() {
  cancel_options opts;
  opts.real_clock = true;
  return opts;
}

// Whatever point was cancelled: every handler that started finished or unwound, and each answer
// the client got is the whole right one, made by a handler that finished; all of them if the
// run was not cancelled.
void expect_whole_answers(const handler_counts& handlers, const std::vector<std::string>& answers, const cancel_run& run) {
  EXPECT_EQ(handlers.started, handlers.finished + handlers.unwound) << "a handler neither finished nor unwound";
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_EQ(answers[i], body_for(path(static_cast<int>(i))));
  }
  EXPECT_LE(static_cast<int>(answers.size()), handlers.finished) << "an answer no handler produced";
  if (!run.cancelled()) {
    EXPECT_EQ(answers.size(), static_cast<std::size_t>(requests));
  }
}

// Runs `scenario` cancelled at each of its points, on the steady clock, checking the above.
void cancel_everywhere(corio::task<> (*scenario)(http_state&)) {
  const auto report = cancel_at_every_await<http_state>(
      scenario, [](http_state& s, const cancel_run& run) { expect_whole_answers(s.handlers, s.answers, run); },
      on_the_steady_clock());
  expect_most_points_surfaced(report);
}

corio::task<> fetch_scenario(http_state& s) {
  http::server srv(net::address::loopback(0), [&s](http::request req) { return answer(std::move(req), s.handlers); });
  const std::string base = "http://" + srv.local_address().to_string();
  http::client_session session;
  const auto body = [&](corio::task_group& group) -> corio::task<> {
    group.spawn(srv.serve_forever());
    for (int i = 0; i < requests; ++i) {
      http::client_response r = co_await session.get(base + path(i));
      std::string text = co_await r.text();
      s.answers.push_back(std::move(text));
    }
    session.close();
    srv.close();
  };
  co_await corio::task_group::run(body);
}

}  // namespace

TEST(cancel_every_await, an_http_client_fetch_gets_whole_bodies_or_cancelled_and_leaks_nothing) {
  cancel_everywhere(fetch_scenario);
}

namespace {

// A raw HTTP/1.1 client on one keep-alive connection: reads each response by its framing.
corio::task<> raw_requests(const net::address& to, http_state& s) {
  net::connection conn(co_await net::stream_socket::connect(to));
  for (int i = 0; i < requests; ++i) {
    conn.writer().write("GET " + path(i) + " HTTP/1.1\r\nHost: test\r\n\r\n");
    co_await conn.writer().drain();
    std::string head = co_await conn.reader().read_until("\r\n\r\n");
    const std::size_t at = head.find("Content-Length: ");
    if (at == std::string::npos) throw std::runtime_error("no Content-Length in " + head);
    const std::size_t length = std::stoul(head.substr(at + 16));
    std::string content = co_await conn.reader().read_exactly(length);
    s.answers.push_back(std::move(content));
  }
  conn.writer().close();
  co_await conn.writer().wait_closed();
}

corio::task<> serve_scenario(http_state& s) {
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
  cancel_everywhere(serve_scenario);
}
