// tests/io/server_test.cpp — net::server: accepting, handler tasks, failures, close/abort and
// cancellation (io/server.hpp's contract, point by point).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <corio.hpp>

#include "io/server.hpp"
#include "io/socket.hpp"
#include "io/streams.hpp"
#include "runtime/testing.hpp"
#include "support/capture_log.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace corio;
using testing_support::current_loop;

namespace {

task<void> echo(net::stream_socket s) {
  std::array<char, 4096> buf{};
  while (auto n = co_await s.read_some(buf)) co_await s.write_all({buf.data(), *n});
}

/// Reads exactly `n` bytes (or fewer, if the peer closes first).
task<std::string> read_n(net::stream_socket& s, std::size_t n) {
  std::string got;
  std::array<char, 4096> buf{};
  while (got.size() < n) {
    const auto r = co_await s.read_some({buf.data(), std::min(buf.size(), n - got.size())});
    if (!r) break;
    got.append(buf.data(), *r);
  }
  co_return got;
}

/// Connects, sends `rounds` messages, and returns how many came back intact.
task<int> echo_client(net::address to, int id, int rounds) {
  net::stream_socket s = co_await net::stream_socket::connect(to);
  int intact = 0;
  for (int i = 0; i < rounds; ++i) {
    const std::string message = "client " + std::to_string(id) + " message " + std::to_string(i) + "\n";
    co_await s.write_all(message);
    if (co_await read_n(s, message.size()) == message) ++intact;
  }
  co_return intact;
}

/// Parks until its peer sends one byte, echoes it, and counts how it ended.
struct one_byte_handler {
  int finished = 0;
  int cancelled = 0;
  task<void> operator()(net::stream_socket s) {
    try {
      std::array<char, 1> byte{};
      if (co_await s.read_some(byte)) co_await s.write_all({byte.data(), 1});
      ++finished;
    } catch (const corio::cancelled&) {
      ++cancelled;
      throw;
    }
  }
};

/// Lets the loop run until `done()` or `turns` turns passed (real I/O needs a few).
template <class F>
task<void> until(F done, int turns = 1000) {
  for (int i = 0; i < turns && !done(); ++i) co_await sleep(1ms);
}

}  // namespace

CORIO_TEST(server, serves_an_echo_handler_to_many_clients_at_once) {
  net::server srv(net::address::loopback(0), echo);
  EXPECT_NE(srv.local_address().port(), 0);
  auto serving = spawn(srv.serve_forever());
  std::vector<task<int>> clients;
  constexpr int n_clients = 20;
  constexpr int rounds = 10;
  for (int id = 0; id < n_clients; ++id) clients.push_back(echo_client(srv.local_address(), id, rounds));
  const std::vector<int> intact = co_await gather(std::move(clients));
  for (int id = 0; id < n_clients; ++id) EXPECT_EQ(intact[static_cast<std::size_t>(id)], rounds) << "client " << id;
  srv.close();
  co_await serving;
  EXPECT_FALSE(srv.is_serving());
}

CORIO_TEST(server, close_stops_accepting_and_waits_for_the_connection_in_flight) {
  one_byte_handler handler;
  net::server srv(net::address::loopback(0), std::ref(handler));
  const net::address at = srv.local_address();
  auto serving = spawn(srv.serve_forever());
  net::stream_socket client = co_await net::stream_socket::connect(at);
  co_await until([&] { return srv.connections() == 1; });
  CORIO_ASSERT(srv.connections() == 1);

  srv.close();
  auto closed = spawn(srv.wait_closed());
  try {
    (void)co_await net::stream_socket::connect(at);
    ADD_FAILURE() << "connected after close()";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();  // no longer listening
  }
  co_await sleep(50ms);
  EXPECT_FALSE(serving.done()) << "serve_forever returned with a handler still running";
  EXPECT_FALSE(closed.done());

  co_await client.write_all("x");  // lets the handler finish
  EXPECT_EQ(co_await read_n(client, 1), "x");
  co_await serving;
  co_await closed;
  EXPECT_EQ(handler.finished, 1);
  EXPECT_EQ(handler.cancelled, 0);
}

CORIO_TEST(server, a_handler_that_throws_is_logged_once_and_the_server_keeps_serving) {
  testing_support::capture_log log;
  int calls = 0;
  auto handler = [&calls](net::stream_socket s) -> task<void> {
    if (++calls == 1) throw std::runtime_error("handler exploded");
    co_await echo(std::move(s));
  };
  net::server srv(net::address::loopback(0), handler);
  auto serving = spawn(srv.serve_forever());
  {
    net::stream_socket first = co_await net::stream_socket::connect(srv.local_address());
    EXPECT_EQ(co_await read_n(first, 1), "");  // the failed handler's socket was closed: EOF
  }
  EXPECT_EQ(co_await echo_client(srv.local_address(), 2, 3), 3);
  EXPECT_TRUE(srv.is_serving());
  srv.close();
  co_await serving;
  const std::string text = log.text();
  const auto first = text.find("handler exploded");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("handler exploded", first + 1), std::string::npos) << "logged twice: " << text;
  EXPECT_NE(text.find("corio::net::server on 127.0.0.1:"), std::string::npos) << text;
}

CORIO_TEST(server, abort_cancels_the_handlers_in_flight) {
  one_byte_handler handler;
  net::server srv(net::address::loopback(0), std::ref(handler));
  auto serving = spawn(srv.serve_forever());
  net::stream_socket a = co_await net::stream_socket::connect(srv.local_address());
  net::stream_socket b = co_await net::stream_socket::connect(srv.local_address());
  co_await until([&] { return srv.connections() == 2; });
  CORIO_ASSERT(srv.connections() == 2);
  srv.abort();
  co_await serving;  // returns normally: abort() is a way to stop, not a failure
  co_await srv.wait_closed();
  EXPECT_EQ(handler.cancelled, 2);
  EXPECT_EQ(srv.connections(), 0u);
  EXPECT_EQ(co_await read_n(a, 1), "");  // the handlers' sockets were closed
}

CORIO_TEST(server, cancelling_the_serving_task_leaves_no_task_descriptor_or_timer) {
  const auto registrations_before = current_loop().registrations();
  one_byte_handler handler;
  {
    net::server srv(net::address::loopback(0), std::ref(handler));
    auto serving = spawn(srv.serve_forever());
    net::stream_socket client = co_await net::stream_socket::connect(srv.local_address());
    co_await until([&] { return srv.connections() == 1; });
    CORIO_ASSERT(srv.connections() == 1);
    serving.cancel();
    EXPECT_THROW(co_await serving, corio::cancelled);
    EXPECT_EQ(handler.cancelled, 1);
    co_await srv.wait_closed();
  }
  EXPECT_EQ(current_loop().registrations(), registrations_before);
  EXPECT_EQ(current_loop().live_tasks(), 1u);  // the test body alone
  EXPECT_EQ(current_loop().armed_timers(), 0u);
}

CORIO_TEST(server, closing_before_serving_makes_serve_forever_return_at_once) {
  net::server srv(net::address::loopback(0), echo);
  auto serving = spawn(srv.serve_forever());  // not started yet
  srv.close();
  co_await serving;
  co_await srv.wait_closed();
  EXPECT_FALSE(srv.is_serving());
}

CORIO_TEST(server, serve_forever_runs_once_at_a_time) {
  net::server srv(net::address::loopback(0), echo);
  auto serving = spawn(srv.serve_forever());
  // Not just one yield: whether `serving` or this body runs first in the next turn is not promised.
  co_await testing_support::within_100_turns([&] { return srv.is_serving(); });
  CORIO_ASSERT(srv.is_serving());
  bool refused = false;
  try {
    co_await srv.serve_forever();
  } catch (const std::logic_error&) {
    refused = true;
  }
  EXPECT_TRUE(refused);
  srv.close();
  co_await serving;
}

CORIO_TEST(server, a_stream_handler_gets_a_buffered_connection) {
  auto handler = [](net::connection c) -> task<void> {
    while (auto line = co_await c.reader().readline()) c.writer().write("echo: " + *line);
    c.writer().close();
    co_await c.writer().wait_closed();
  };
  net::server srv(net::address::loopback(0), net::stream_handler(handler));
  auto serving = spawn(srv.serve_forever());
  net::stream_socket client = co_await net::stream_socket::connect(srv.local_address());
  co_await client.write_all("one\ntwo\n");
  client.shutdown_write();
  EXPECT_EQ(co_await read_n(client, 100), "echo: one\necho: two\n");
  srv.close();
  co_await serving;
}

CORIO_TEST(server, serve_binds_and_serves_until_cancelled) {
  auto listening = net::listener::bind(net::address::loopback(0));
  const net::address at = listening.local_address();
  listening.close();  // serve() binds it again (SO_REUSEADDR)
  auto serving = spawn(net::serve(at, echo));
  co_await testing_support::until_parked(serving);  // it listens (one yield may not let it start)
  EXPECT_EQ(co_await echo_client(at, 1, 2), 2);
  serving.cancel();
  EXPECT_THROW(co_await serving, corio::cancelled);
}

CORIO_TEST(server, an_empty_handler_is_refused_at_construction) {
  EXPECT_THROW(net::server(net::address::loopback(0), net::connection_handler()), std::invalid_argument);
  EXPECT_THROW(net::server(net::address::loopback(0), net::stream_handler()), std::invalid_argument);
  co_return;
}
