// tests/io/resolve_test.cpp — net::resolve (getaddrinfo on the pool) and net::connect by name.
// Names used: "localhost" (/etc/hosts, no network) and names under ".invalid", which RFC 6761
// reserves so that they never resolve; on a machine without DNS the lookup fails fast either way.
#include <gtest/gtest.h>
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <corio.hpp>

#include "io/resolve.hpp"
#include "io/socket.hpp"
#include "io/streams.hpp"
#include "runtime/testing.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/to_thread.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace corio;
using testing_support::current_loop;

namespace {

bool is_loopback(const net::address& a) { return a.host() == "::1" || a.host().rfind("127.", 0) == 0; }

constexpr const char* unknown_host = "no-such-host.invalid";

/// Holds a pool thread until `gate` turns true.
task<void> hold_a_pool_thread(std::atomic<bool>& gate) {
  auto wait = [&gate] { gate.wait(false); };
  co_await to_thread(wait);
}

}  // namespace

CORIO_TEST(resolve, localhost_resolves_to_loopback_addresses_with_the_port) {
  const std::vector<net::address> found = co_await net::resolve("localhost", 8080);
  CORIO_ASSERT(!found.empty());
  for (const net::address& a : found) {
    EXPECT_TRUE(is_loopback(a)) << a.to_string();
    EXPECT_EQ(a.port(), 8080);
  }
  EXPECT_EQ(current_loop().thread_jobs_in_flight(), 0u);
}

CORIO_TEST(resolve, a_numeric_host_resolves_without_suspending_or_using_the_pool) {
  const auto resumptions_before = current_loop().resumptions();
  const std::vector<net::address> v4 = co_await net::resolve("127.0.0.1", 80);
  const std::vector<net::address> v6 = co_await net::resolve("::1", 443);
  const std::vector<net::address> bracketed = co_await net::resolve("[::1]", 443);
  // Had any of them gone to the pool, this task would have parked and been resumed by the loop.
  EXPECT_EQ(current_loop().resumptions(), resumptions_before);
  CORIO_ASSERT(v4.size() == 1 && v6.size() == 1 && bracketed.size() == 1);
  EXPECT_EQ(v4[0], net::address::ip("127.0.0.1", 80));
  EXPECT_EQ(v6[0], net::address::ip("::1", 443));
  EXPECT_EQ(bracketed[0], v6[0]);
}

CORIO_TEST(resolve, an_unknown_host_is_a_resolve_error_naming_it) {
  try {
    (void)co_await net::resolve(unknown_host, 80);
    ADD_FAILURE() << "resolved a name under .invalid";
  } catch (const net::resolve_error& e) {
    EXPECT_EQ(e.host(), unknown_host);
    EXPECT_TRUE(e.code() == EAI_NONAME || e.code() == EAI_AGAIN || e.code() == EAI_FAIL) << e.code();
    EXPECT_NE(std::string(e.what()).find(unknown_host), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(::gai_strerror(e.code())), std::string::npos) << e.what();
  }
}

CORIO_TEST(resolve, cancelling_a_lookup_in_flight_throws_cancelled_and_drops_its_result) {
  auto lookup = spawn(net::resolve("localhost", 80));
  co_await yield();  // the lookup has now been submitted to the pool
  lookup.cancel();
  EXPECT_THROW(co_await lookup, corio::cancelled);
  // The job still reports back (or already did); the loop waits for that before it is empty.
  while (current_loop().thread_jobs_in_flight() != 0) co_await sleep(1ms);
}

// Every pool thread is held by a blocked job, so the lookup sits in the queue: cancelling must
// not wait for a thread to come free.
CORIO_TEST(resolve, cancelling_a_queued_lookup_returns_without_waiting_for_a_thread) {
  std::atomic<bool> gate{false};
  std::vector<join_handle<void>> blockers;
  for (std::size_t i = 0; i < thread_pool::default_size(); ++i) blockers.push_back(spawn(hold_a_pool_thread(gate)));
  auto lookup = spawn(net::resolve("localhost", 80));
  co_await yield();
  lookup.cancel();
  EXPECT_THROW(co_await lookup, corio::cancelled);  // reached with every thread still blocked
  gate.store(true);
  gate.notify_all();
  for (auto& b : blockers) co_await b;
  while (current_loop().thread_jobs_in_flight() != 0) co_await sleep(1ms);
}

CORIO_TEST(connect_by_name, connects_to_a_listener_through_localhost) {
  auto server = net::listener::bind(net::address::loopback(0));
  const std::uint16_t port = server.local_address().port();
  auto accepted = spawn(server.accept());
  net::stream_socket client = co_await net::connect("localhost", port, 5s);
  net::stream_socket peer = co_await accepted;
  EXPECT_EQ(client.peer_address(), peer.local_address());
  co_await client.write_all("hi");
  char buf[2];
  const auto n = co_await peer.read_some(buf);
  EXPECT_EQ(n, 2u);
}

CORIO_TEST(connect_by_name, an_unknown_host_is_a_resolve_error) {
  bool failed = false;
  try {
    (void)co_await net::connect(unknown_host, 80);
  } catch (const net::resolve_error&) {
    failed = true;
  }
  EXPECT_TRUE(failed);
}

CORIO_TEST(connect_by_name, when_every_address_refuses_the_last_error_is_rethrown) {
  // A port that was just free: nothing listens there, so the connect is refused.
  std::uint16_t port = 0;
  {
    auto probe = net::listener::bind(net::address::loopback(0));
    port = probe.local_address().port();
  }
  try {
    (void)co_await net::connect("127.0.0.1", port);
    ADD_FAILURE() << "connected to a closed port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(port)), std::string::npos) << e.what();
  }
}

CORIO_TEST(open_connection, gives_a_buffered_connection_to_a_named_host) {
  auto server = net::listener::bind(net::address::loopback(0));
  auto accepted = spawn(server.accept());
  net::connection conn = co_await net::open_connection("localhost", server.local_address().port(), 5s);
  net::stream_socket peer = co_await accepted;
  co_await peer.write_all("first line\nsecond");
  peer.shutdown_write();
  EXPECT_EQ(co_await conn.reader().readline(), "first line\n");
  EXPECT_EQ(co_await conn.reader().readline(), "second");
  EXPECT_EQ(co_await conn.reader().readline(), std::nullopt);
}
