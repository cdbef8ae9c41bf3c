// tests/io/socket_readiness_test.cpp — readiness tracking (runtime/fd_watch.hpp): after a short
// read the next read parks without a syscall, so every way the next bytes or the end of stream
// can arrive must still wake it. The dangerous one is the peer's FIN: it raises no new edge once
// reported, so a reader that read the last bytes after the event must still see the EOF.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using namespace testing_support;
namespace net = corio::net;

namespace {

// Lets the loop poll a few times, so that what the peer sent is reported before we read.
corio::task<> let_events_arrive() {
  for (int i = 0; i < 3; ++i) co_await corio::yield();
}

// One read_some into a buffer larger than anything sent (so every read is short), limited in
// (virtual) time, so that a reader parked forever fails the test instead of hanging it.
corio::task<std::optional<std::string>> read_short(net::stream_socket& s) {
  std::array<char, 4096> buf;
  const std::optional<std::size_t> n = co_await corio::timeout(5s, s.read_some(buf));
  if (!n) co_return std::nullopt;
  co_return std::string(buf.data(), *n);
}

}  // namespace

CORIO_TEST(readiness, data_and_eof_reported_together_then_read_short_still_give_the_eof) {
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("last words");
  client.shutdown_write();
  co_await let_events_arrive();  // the one edge (data + FIN) is consumed before the read
  EXPECT_EQ(co_await read_short(server), "last words");
  EXPECT_EQ(co_await read_short(server), std::nullopt);
}

CORIO_TEST(readiness, a_short_read_then_more_data_wakes_the_parked_reader) {
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("first");
  EXPECT_EQ(co_await read_short(server), "first");  // short: the next read parks at once
  auto reading = corio::spawn(read_short(server), "reader");
  co_await let_events_arrive();
  EXPECT_TRUE(parked(reading));
  co_await client.write_all("second");
  EXPECT_EQ(co_await reading, "second");
}

CORIO_TEST(readiness, a_short_read_then_a_later_eof_wakes_the_parked_reader) {
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("only");
  co_await let_events_arrive();
  EXPECT_EQ(co_await read_short(server), "only");
  auto reading = corio::spawn(read_short(server), "reader");
  co_await let_events_arrive();
  client.shutdown_write();
  EXPECT_EQ(co_await reading, std::nullopt);
}

CORIO_TEST(readiness, data_that_arrived_while_nobody_waited_is_read_without_waiting_for_another_edge) {
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("a");
  EXPECT_EQ(co_await read_short(server), "a");  // short read: tracked as drained
  co_await client.write_all("b");
  co_await let_events_arrive();                 // the edge for "b" comes while nobody is parked
  EXPECT_EQ(co_await read_short(server), "b");  // it was remembered: no second edge needed
}

CORIO_TEST(readiness, a_reset_after_a_short_read_reaches_the_parked_reader_as_econnreset) {
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("x");
  EXPECT_EQ(co_await read_short(server), "x");
  auto reading = corio::spawn(read_short(server), "reader");
  co_await let_events_arrive();
  reset_connection(client);
  try {
    (void)co_await reading;
    ADD_FAILURE() << "a reset connection read as data or EOF";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECONNRESET);
  }
}
