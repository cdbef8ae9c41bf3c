// tests/io/http/server_slowloris_test.cpp — slowloris at scale (reliability.md T-43): 1,000
// connections each dribble one byte of a request head every 5 s, never finishing it. On the
// manual clock (CORIO_TEST) the 10-second header deadline passes in milliseconds of real time.
// Checked: each slow connection is closed at its deadline (10 s after it was accepted, not a
// second later) and counted as timed out; a normal client is still answered meanwhile, as fast
// as before the flood; the connection cap still holds (extra connections get 503); and every
// descriptor is closed at the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <corio.hpp>

#include "io/http/server.hpp"
#include "runtime/testing.hpp"
#include "server_support.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using namespace corio;
using namespace http_test;

namespace {

constexpr std::size_t slow_clients = 1000;
constexpr std::size_t cap_room = 10;  // max_connections = slow_clients + cap_room
constexpr duration header_timeout = 10s;

// Sends one more byte every 5 s until `stop` (the server closed) or a send fails.
task<> drip(net::stream_socket& s, const bool& stop) {
  while (!stop) {
    co_await sleep(5s);
    if (stop) break;
    try {
      co_await s.write_all("X");
    } catch (const std::system_error&) {
      break;
    }
  }
}

// One slowloris client: how long the server let it hold its connection.
struct slow_report {
  bool closed = false;
  duration held{};
};

task<slow_report> slowloris(net::address at) {
  net::stream_socket c = co_await net::stream_socket::connect(at);
  const time_point start = loop_now();
  co_await c.write_all("GET /slow HTTP/1.1\r\nHost: t\r\n");
  bool closed = false;
  auto dripping = spawn(drip(c, closed), "drip");
  const drained d = co_await read_to_end(c);
  closed = true;
  dripping.cancel();
  try {
    co_await dripping;
  } catch (const cancelled&) {
  }
  co_return slow_report{d.closed && d.bytes.empty(), loop_now() - start};
}

// One normal request on a fresh connection; its real (steady clock) latency.
task<std::chrono::steady_clock::duration> one_normal_request(net::address at) {
  const auto start = std::chrono::steady_clock::now();
  net::stream_socket c = co_await net::stream_socket::connect(at);
  co_await c.write_all("GET /normal HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto replies = co_await read_replies(c, 1);
  EXPECT_EQ(replies.size(), 1u);
  for (const reply& r : replies) EXPECT_EQ(r.status, 200);
  co_return std::chrono::steady_clock::now() - start;
}

// The worst of `count` normal requests, one after the other, 500 ms (virtual) apart.
task<std::chrono::steady_clock::duration> worst_normal_latency(net::address at, int count) {
  std::chrono::steady_clock::duration worst{};
  for (int i = 0; i < count; ++i) {
    worst = std::max(worst, co_await one_normal_request(at));
    co_await sleep(500ms);
  }
  co_return worst;
}

long long as_us(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

CORIO_TEST(HttpServerSlowloris, AThousandSlowHeadsAreCutAtTheDeadlineWhileNormalClientsAndTheCapAreUnaffected) {
  const std::size_t descriptors_before = testing_support::open_descriptors();
  {
    http::server srv(net::address::loopback(0), echo_handler,
                     {.header_timeout = header_timeout, .max_connections = slow_clients + cap_room});
    auto serving = spawn(srv.serve_forever(), "server");
    const auto before_flood = co_await worst_normal_latency(srv.local_address(), 5);
    co_await until([&] { return srv.connections() == 0; });

    std::vector<join_handle<slow_report>> slow;
    for (std::size_t i = 0; i < slow_clients; ++i) slow.push_back(spawn(slowloris(srv.local_address()), "slowloris"));
    co_await until([&] { return srv.connections() == slow_clients; }, 20'000);
    CORIO_ASSERT(srv.connections() == slow_clients);

    // Normal clients, while all 1,000 slow heads are open (10 requests over 5 s, virtual).
    const auto during_flood = co_await worst_normal_latency(srv.local_address(), 10);
    ::testing::Test::RecordProperty("normal_worst_latency_us_before", std::to_string(as_us(before_flood)));
    ::testing::Test::RecordProperty("normal_worst_latency_us_during", std::to_string(as_us(during_flood)));
    EXPECT_LE(during_flood, before_flood + 200ms)
        << "worst latency " << as_us(before_flood) << " us before the flood, " << as_us(during_flood) << " us during it";

    // The cap: 2 x cap_room idle connections more; exactly cap_room of them fit.
    co_await until([&] { return srv.connections() == slow_clients; });
    std::vector<net::stream_socket> extra;
    for (std::size_t i = 0; i < 2 * cap_room; ++i) extra.push_back(co_await net::stream_socket::connect(srv.local_address()));
    co_await until([&] { return srv.stats().refused == cap_room; });
    EXPECT_EQ(srv.stats().refused, cap_room);
    EXPECT_EQ(srv.connections(), slow_clients + cap_room);

    // Every slow head is cut off at its deadline, not before and not a second later.
    std::size_t cut_on_time = 0;
    for (auto& h : slow) {
      const slow_report r = co_await h;
      if (r.closed && r.held >= header_timeout && r.held < header_timeout + 1s) {
        ++cut_on_time;
      } else {
        ADD_FAILURE() << "a slow client was " << (r.closed ? "closed" : "still open") << " after "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(r.held).count() << " ms";
      }
    }
    EXPECT_EQ(cut_on_time, slow_clients);
    for (auto& s : extra) (void)co_await read_to_end(s);  // 503 and closed, or timed out idle
    EXPECT_EQ(srv.stats().timed_out, slow_clients + cap_room);
    EXPECT_EQ(srv.connections(), 0u);
    srv.close();
    co_await serving;
  }
  EXPECT_EQ(testing_support::open_descriptors(), descriptors_before);
}
