// tests/io/many_connections_test.cpp — 10,000 connections open at once, every byte echoed
// (reliability.md T-10).
//
//   test process (one loop)                      child process (its own loop)
//   listener, backlog 4096  <──── 10,000 ────>   clients: connect, send 1 KiB naming the
//   echo task per connection                     connection, check the echo, hold the connection
//                                                until all 10,000 are echoed, then close
//
// The clients live in a child because this machine allows 20,000 descriptors per process and
// cannot raise that: 10,000 server sockets and 10,000 client sockets do not fit in one. The
// server counts the connections it has open at once (all 10,000 at the peak), and the test
// checks the bytes, RSS per connection at the peak, and that /proc/self/fd is back to where it
// was. Connects in flight are capped (a semaphore) so that the accept queue cannot overflow: a
// SYN dropped by a full queue costs a one-second retransmit. A refused or failed connect is
// retried with backoff and counted.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>

#include <corio.hpp>

#include "io/reactor_support.hpp"
#include "io/socket.hpp"
#include "support/child_process.hpp"

using namespace std::chrono_literals;
using reactor_support::steady;

namespace {

constexpr int connections = 10'000;
constexpr std::size_t payload_size = 1024;
constexpr std::size_t connects_in_flight = 1000;  // well under the backlog of 4096
constexpr int connect_attempts = 6;

// 1 KiB that says which connection it belongs to, so a crossed or shifted echo shows.
std::string payload(int id) {
  std::string s = "connection " + std::to_string(id) + " |";
  s.reserve(payload_size);
  for (std::size_t i = s.size(); i < payload_size; ++i) s.push_back(static_cast<char>('!' + (i * 31 + static_cast<std::size_t>(id)) % 90));
  return s;
}

// Coroutine frames come from mmap'd arenas that malloc statistics never see (frame_allocator.hpp),
// so RSS is the measure. It counts what a connection costs only in a fresh process (as ctest runs
// each test): a second run in one process reuses the memory the first one left behind.
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// --- the clients (in the child) ---------------------------------------------------------------

struct client_report {
  int echoed = 0;  // connections whose echo matched, byte for byte
  int failed = 0;
  int retries = 0;
  std::uint64_t bytes = 0;
};

struct client_side {
  explicit client_side(std::uint16_t port) : server(corio::net::address::loopback(port)) {}
  corio::net::address server;
  corio::semaphore in_flight{connects_in_flight};
  corio::event all_echoed;
  client_report report;
};

corio::task<corio::net::stream_socket> connect_with_retries(client_side& c) {
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await corio::net::stream_socket::connect(c.server, 10s);
    } catch (const std::system_error&) {
      if (attempt == connect_attempts) throw;
    } catch (const corio::timeout_error&) {
      if (attempt == connect_attempts) throw;
    }
    ++c.report.retries;
    co_await corio::sleep(attempt * 20ms);
  }
}

corio::task<> one_client(client_side& c, int id) {
  auto permit = co_await c.in_flight.acquire_guard();
  corio::net::stream_socket conn = co_await connect_with_retries(c);
  const std::string sent = payload(id);
  co_await conn.write_all(sent);
  std::string echoed(payload_size, '\0');
  std::size_t got = 0;
  while (got < payload_size) {
    const auto n = co_await conn.read_some({echoed.data() + got, payload_size - got});
    if (!n) break;
    got += *n;
  }
  permit.release();
  if (echoed != sent) throw std::runtime_error("connection " + std::to_string(id) + ": the echo differs");
  c.report.bytes += got;
  if (++c.report.echoed + c.report.failed == connections) c.all_echoed.set();
  co_await c.all_echoed.wait();  // every connection stays open until all are echoed
}

corio::task<> counted_client(client_side& c, int id) {
  try {
    co_await one_client(c, id);
  } catch (const std::exception& e) {
    if (c.report.failed++ < 5) ADD_FAILURE() << e.what();
    if (c.report.echoed + c.report.failed == connections) c.all_echoed.set();
  }
}

corio::task<client_report> run_clients(std::uint16_t port) {
  client_side c(port);
  co_await corio::task_group::run([&c](corio::task_group& group) -> corio::task<> {
    for (int id = 0; id < connections; ++id) group.spawn(counted_client(c, id), "client");
    co_return;
  });
  co_return c.report;
}

// --- the server (in the test process) ---------------------------------------------------------

struct server_side {
  int open = 0;
  int peak = 0;
  std::uint64_t bytes = 0;
  std::size_t rss_before = 0;
  std::size_t rss_at_peak = 0;
};

corio::task<> echo(corio::net::stream_socket conn, server_side& s) {
  if (++s.open > s.peak) s.peak = s.open;
  if (s.open == connections) s.rss_at_peak = resident_bytes();
  char buf[payload_size];
  while (auto n = co_await conn.read_some(buf)) {
    s.bytes += *n;
    co_await conn.write_all({buf, *n});
  }
  --s.open;
}

corio::task<> serve(testing_support::pipe_channel& port_to_child, server_side& s) {
  auto server = corio::net::listener::bind(corio::net::address::loopback(0), {.backlog = 4096});
  CORIO_ASSERT(port_to_child.send(server.local_address().port()));
  s.rss_before = resident_bytes();
  co_await corio::timeout(120s, corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
    for (int i = 0; i < connections; ++i) group.spawn(echo(co_await server.accept(), s), "echo");
  }));
}

TEST(many_connections, ten_thousand_connections_open_at_once_each_get_every_byte_echoed) {
  testing_support::pipe_channel port_to_child;
  testing_support::pipe_channel report_to_parent;
  testing_support::child_process clients([&] {
    port_to_child.close_write_end();
    report_to_parent.close_read_end();
    std::uint16_t port = 0;
    ASSERT_TRUE(port_to_child.receive(port));
    const client_report report = corio::run(run_clients(port));
    ASSERT_TRUE(report_to_parent.send(report));
  });
  port_to_child.close_read_end();
  report_to_parent.close_write_end();
  const int fds_before = reactor_support::open_fd_count();

  const auto start = steady::now();
  server_side s;
  corio::testing::run_test(serve(port_to_child, s), corio::testing::real_time());
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  const int fds_after = reactor_support::open_fd_count();
  client_report report;
  const bool reported = report_to_parent.receive(report);
  clients.expect_clean_exit(60s);
  ASSERT_TRUE(reported) << "the client process sent no report";

  EXPECT_EQ(report.echoed, connections);
  EXPECT_EQ(report.failed, 0);
  EXPECT_EQ(report.bytes, std::uint64_t{connections} * payload_size);
  EXPECT_EQ(s.bytes, std::uint64_t{connections} * payload_size);
  EXPECT_EQ(s.peak, connections) << "not every connection was open at once";
  EXPECT_EQ(s.open, 0);
  EXPECT_EQ(fds_after, fds_before) << "descriptors leaked";
  const double rss = (static_cast<double>(s.rss_at_peak) - static_cast<double>(s.rss_before)) / connections;
  EXPECT_LT(rss, 16 * 1024.0) << "RSS per connection";
  std::printf("[ info ] %d connections in %.2f s, %d connect retries; server RSS grew by %.2f KiB per connection\n",
              connections, seconds, report.retries, rss / 1024);
}

}  // namespace
